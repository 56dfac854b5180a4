"""metadata build --worldwide: a list per language from wordfreq (and WordNet, Wikipedia dumps),
each checked against its source; the lang map; the folder report; extract + balance --worldwide
end to end on pages in several languages and scripts written for the test."""

from __future__ import annotations

import bz2
import gzip
import json
import re
import unicodedata
from pathlib import Path

import pyarrow.parquet as pq
import pytest

try:  # balance is being reorganised; its package exports it, or v2 still holds it
    from metaclip_sql.balance import balance_worldwide
except ImportError:
    from metaclip_sql.balance.v2 import balance_worldwide
from metaclip_sql.extract.lid import LanguageId, model_path
from metaclip_sql.extract.run import run_extract
from metaclip_sql.extract.shard import ExtractOptions
from metaclip_sql.metadata.build import SourceError, drop_reason
from metaclip_sql.metadata.folder_info import format_folder_info, inspect_folder
from metaclip_sql.metadata.lang import (
    LANG_MAP_NAME,
    LanguageMatchers,
    load_folder_lang_map,
    metadata_files,
)
from metaclip_sql.metadata.languages import (
    FOLDED_LABELS,
    LID176_LABELS,
    WORDFREQ_LANGUAGES,
    char_script,
    entry_scripts,
    list_code,
    script_share,
)
from metaclip_sql.metadata.load import load_entries, read_sources
from metaclip_sql.metadata.variants import (
    capitalised,
    serbian_cyrillic,
    traditional_chinese,
)
from metaclip_sql.metadata.worldwide import build_worldwide, lang_map_for
from metaclip_sql.sample import Response, write_warc

wordfreq = pytest.importorskip("wordfreq")

SIZE = 3000
SMASHED = re.compile(r"\d[\d.,]+")  # wordfreq's digit-smashed numbers, not words
# Lowest share of entries (with letters) in the language's own script, at SIZE entries.
# wordfreq's lists of other scripts hold English words and Latin letters (`the`, `w`).
MIN_SCRIPT_SHARE = {"ja": 0.6, "zh": 0.75, "ko": 0.75, "hi": 0.75, "bn": 0.75, "he": 0.8}


def _wordnet(folder: Path) -> Path:
    """A two-synset WordNet (format: docs/metadata.md), enough to see it go first in `en`."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = {"data.noun": ["00001740 03 n 01 Einstein 0 000 | a physicist  \n"]}
    lines["data.verb"] = ["00001740 29 v 01 breathe 0 000 | draw air  \n"]
    for name in ("data.noun", "data.verb", "data.adj", "data.adv"):
        text = "  1 license header  \n" + "".join(lines.get(name, []))
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("worldwide")
    result = build_worldwide(folder / "meta", wordnet=_wordnet(folder / "wn"), size=SIZE)
    return result


def _expected(code: str, wf_code: str, wordlist: str) -> list[str]:
    """The list rebuilt from wordfreq by the rule, independently of the builder's merge."""
    out = [str(i) for i in range(100)]
    seen = set(out)

    def add(entry: str) -> bool:
        if entry not in seen and drop_reason(entry) is None:
            seen.add(entry)
            out.append(entry)
        return len(out) >= SIZE

    if code == "en":
        for name in ("Einstein", "breathe"):
            add(name)
    for word in wordfreq.iter_wordlist(wf_code, wordlist):
        if SMASHED.search(word):
            continue
        word = unicodedata.normalize("NFC", word)
        if code == "el" and len(word) > 1 and word.endswith("σ") and word[-2].isalpha():
            word = word[:-1] + "ς"
        upper = word
        if word and word[0] != "ß":
            first = {"i": "İ", "ı": "I"}.get(word[0], word[0]) if code == "tr" else word[0]
            upper = first.upper() + word[1:] if len(first.upper()) == 1 else word
            upper = "IJ" + word[2:] if code == "nl" and word.startswith("ij") else upper
        forms = [word, upper]
        if code == "zh":
            forms.append(traditional_chinese(word) or word)
        if code == "sh":
            forms += [serbian_cyrillic(f) or f for f in forms]
        if code == "ro":
            forms += [f.translate(str.maketrans("șțȘȚ", "şţŞŢ")) for f in forms]
        for form in forms:
            if add(form):
                return out
    return out


def test_every_wordfreq_language_gets_a_list(built) -> None:
    small = set(wordfreq.available_languages("small"))
    large = set(wordfreq.available_languages("large"))
    assert len(small) == 42 and len(large) == 21
    assert set(built.lists) == {list_code(c) for c in small} == set(WORDFREQ_LANGUAGES)
    assert {"no", "tl", "sh"} <= set(built.lists) and not {"nb", "fil"} & set(built.lists)
    files = metadata_files(built.out_dir)
    assert set(files) == set(built.lists)  # lang_map.json is not a list
    for code, path in files.items():
        record = read_sources(path)
        source = next(s for s in record["sources"] if s["name"] == "wordfreq")
        wf = WORDFREQ_LANGUAGES[code].wordfreq
        assert source["params"]["lang"] == wf
        assert source["params"]["wordlist"] == ("large" if wf in large else "small")
        assert record["entries"] == built.lists[code].entries == len(load_entries(path)) == SIZE


def test_each_list_is_its_source_in_order(built) -> None:
    for code, path in metadata_files(built.out_dir).items():
        entries = load_entries(path)
        wf = WORDFREQ_LANGUAGES[code].wordfreq
        wordlist = read_sources(path)["sources"][-1]["params"]["wordlist"]
        assert entries == _expected(code, wf, wordlist), code
        assert len(set(entries)) == len(entries) <= SIZE


def test_each_list_is_in_its_script(built) -> None:
    for code, path in metadata_files(built.out_dir).items():
        entries = load_entries(path)
        share, with_letters = script_share(entries, WORDFREQ_LANGUAGES[code].scripts)
        assert with_letters > SIZE - 200, code  # numbers aside, entries are words
        assert share >= MIN_SCRIPT_SHARE.get(code, 0.9), (code, share)
        assert all(unicodedata.is_normalized("NFC", e) for e in entries), code
    # char_script against code point ranges, for the scripts in the table
    assert [char_script(c) for c in "zЖλشשकবதあアー猫한1-"] == [
        "Latin", "Cyrillic", "Greek", "Arabic", "Hebrew", "Devanagari", "Bengali", "Tamil",
        "Hiragana", "Katakana", "Katakana", "Han", "Hangul", None, None,
    ]  # fmt: skip


def test_case_and_script_variants(built) -> None:
    lists = {code: load_entries(path) for code, path in metadata_files(built.out_dir).items()}

    def follows(code: str, word: str, variant: str) -> bool:
        entries = lists[code]
        return entries.index(variant) == entries.index(word) + 1

    assert follows("de", "berlin", "Berlin") and follows("fr", "une", "Une")
    assert follows("ru", "москва", "Москва") and follows("el", "της", "Της")
    assert "τησ" not in lists["el"]  # wordfreq's casefolded final sigma, restored
    assert follows("tr", "istanbul", "İstanbul") and "Istanbul" not in lists["tr"]
    assert follows("zh", "时间", "時間")  # Traditional after Simplified
    ro = lists["ro"]
    assert ro.index("și") + 1 == ro.index("Și") < ro.index("şi") < ro.index("Şi")  # cedilla
    sh = lists["sh"]
    assert sh.index("beograd") + 1 == sh.index("Beograd") < sh.index("Београд")
    assert lists["en"][100:102] == ["Einstein", "breathe"]  # WordNet first, English only
    assert "Einstein" not in lists["de"]
    assert capitalised("ijsland", "nl") == "IJsland" and capitalised("ßa", "de") == "ßa"
    assert traditional_chinese("头发") is None  # 发: 發 or 髮, no guess
    assert serbian_cyrillic("Njegoš") == "Његош" and serbian_cyrillic("wifi") is None


def test_own_script_and_no_case_variants(tmp_path: Path) -> None:
    build_worldwide(tmp_path / "m", langs=["ja", "he", "de"], size=2000, own_script=True)
    for code in ("ja", "he"):
        entries = load_entries(tmp_path / "m" / f"{code}.json")
        scripts = WORDFREQ_LANGUAGES[code].scripts
        assert "the" not in entries and "jpg" not in entries
        assert all(not entry_scripts(e) or entry_scripts(e) & scripts for e in entries)
    assert "Berlin" in load_entries(tmp_path / "m" / "de.json")  # Latin lists lose nothing
    build_worldwide(tmp_path / "n", langs=["de"], size=2000, case_variants=False)
    assert not any(e[:1].isupper() for e in load_entries(tmp_path / "n" / "de.json"))


def test_lang_map(built) -> None:
    written = json.loads((built.out_dir / LANG_MAP_NAME).read_text("utf-8"))
    assert written["map"] == FOLDED_LABELS  # every target has a list, no label has its own
    assert {"ja", "zh", "th"} <= set(written["unspaced"])
    assert all(code in LID176_LABELS for code in built.lists)  # lists are named by label
    assert built.labels["sh"] == ["bs", "hr", "sh", "sr"] and built.labels["no"] == ["nn", "no"]
    assert built.labels["zh"] == ["wuu", "yue", "zh"] and built.labels["de"] == ["de"]
    matchers = LanguageMatchers(built.out_dir, langs=frozenset({"sh", "zh"}))
    assert matchers.route("sr")[0] == "sh" and matchers.route("yue")[0] == "zh"
    assert load_folder_lang_map(built.out_dir).metadata_lang("nn") == "no"
    # a label keeps its own list when it has one; a target without a list folds nothing
    assert lang_map_for({"zh", "yue", "sh"})["map"] == {
        "bs": "sh",
        "hr": "sh",
        "sr": "sh",
        "wuu": "zh",
    }


def test_lid176_labels_are_the_models() -> None:
    import fasttext

    model = fasttext.load_model(str(model_path()))
    labels = {label[9:] for _, label in model.f.predict("hello\n", -1, -1.0, "replace")}
    assert tuple(sorted(labels)) == LID176_LABELS and len(LID176_LABELS) == 176


def test_folder_info(built) -> None:
    report = inspect_folder(built.out_dir)
    by_lang = {item.lang: item for item in report.lists}
    assert set(by_lang) == set(built.lists)
    assert by_lang["sh"].labels == ["bs", "hr", "sh", "sr"] and by_lang["ja"].unspaced
    assert all(item.entries == SIZE and item.duplicates == 0 for item in report.lists)
    assert by_lang["ru"].scripts == ("Cyrillic",) and by_lang["ru"].script_share > 0.9
    assert by_lang["en"].sources == "numbers+wordnet+wordfreq"
    assert by_lang["en"].never_match > 0  # wordfreq keeps `u.s`-like abbreviations
    assert len(report.unlisted_labels) == 176 - 42 - len(FOLDED_LABELS)
    text = format_folder_info(report)
    assert "lang_map.json" in text and "sh " in text


def _write_wiki(root: Path) -> Path:
    de = root / "de"
    de.mkdir(parents=True)
    (de / "unigrams.tsv").write_text("Katze\t500\nHund\t300\nselten\t5\n", "utf-8")
    (de / "bigrams.tsv").write_text("Schwarze\tKatze\t400\n", "utf-8")
    views = "de Schwarze_Katze 900 0\nde Berlin 800 0\nen Berlin 999 0\nde Datei:X 900 0\n"
    (de / "pageviews-20240101-000000.gz").write_bytes(gzip.compress(views.encode()))
    th = root / "th"
    th.mkdir()
    (th / "unigrams.tsv.bz2").write_bytes(bz2.compress("แมว\t900\nโซฟา\t700\n".encode()))
    nb = root / "nb"  # wordfreq's code for Norwegian: the list is no.json
    nb.mkdir()
    (nb / "unigrams.txt").write_text("katt\t200\n", "utf-8")
    return root


def test_wikipedia_folder(tmp_path: Path) -> None:
    wiki = _write_wiki(tmp_path / "wiki")
    result = build_worldwide(tmp_path / "meta", wordfreq=False, wikipedia=wiki, min_count=100)
    assert set(result.lists) == {"de", "th", "no"}
    de = load_entries(tmp_path / "meta" / "de.json")
    assert de[100:] == ["Katze", "Hund", "Schwarze Katze", "Berlin"]  # MetaCLIP's order
    sources = [s["name"] for s in read_sources(tmp_path / "meta" / "de.json")["sources"]]
    assert sources == ["numbers", "unigrams", "bigrams", "titles"]
    assert load_entries(tmp_path / "meta" / "th.json")[100:] == ["แมว", "โซฟา"]
    assert "th" in load_folder_lang_map(tmp_path / "meta").unspaced
    both = build_worldwide(tmp_path / "both", wikipedia=wiki, langs=["de", "th"], size=400)
    names = [s["name"] for s in read_sources(tmp_path / "both" / "de.json")["sources"]]
    assert names == ["numbers", "wordfreq", "unigrams", "bigrams", "titles"]
    assert set(both.lists) == {"de", "th"} and both.lists["de"].entries == 400


def test_bad_options(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no source covers xx"):
        build_worldwide(tmp_path / "m", langs=["de", "xx"])
    with pytest.raises(SourceError, match="sr texts use the sh list"):
        build_worldwide(tmp_path / "m", langs="de,sr")
    with pytest.raises(SourceError, match="--size"):
        build_worldwide(tmp_path / "m", size=0)
    with pytest.raises(SourceError, match="no sources"):
        build_worldwide(tmp_path / "m", wordfreq=False)
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "de.json.gz").write_bytes(gzip.compress(b'["x"]'))
    with pytest.raises(SourceError, match="already holds"):
        build_worldwide(tmp_path / "m", langs=["de"], size=200)
    (tmp_path / "w" / "de").mkdir(parents=True)
    with pytest.raises(SourceError, match="no <lang>/ subfolder"):
        build_worldwide(tmp_path / "m2", wikipedia=tmp_path / "w")


# --- end to end ------------------------------------------------------------------------------

# (alt text, lid.176 label, list, entries it must match): several languages and scripts
PAGES = {
    "en": [("A black cat sleeping on the sofa", "en", "en", {"cat", "sofa", "black"})],
    "de": [
        ("Die Katze schläft auf dem roten Sofa im Wohnzimmer", "de", "de", {"Die", "Katze"}),
        ("Ein Hund läuft über die Wiese", "de", "de", {"Ein", "Hund", "Wiese"}),
    ],
    "fr": [("Une petite maison au bord de la mer", "fr", "fr", {"Une", "maison", "mer"})],
    "ru": [("Москва зимой: Красная площадь", "ru", "ru", {"Москва", "Красная", "площадь"})],
    "sr": [
        ("Мачка спава на каучу у дневној соби", "sr", "sh", {"на", "у"}),
        ("Beograd noću sa mosta", "hr", "sh", {"Beograd", "noću", "mosta"}),
    ],
    "el": [("Η Ακρόπολη της Αθήνας", "el", "el", {"Η", "της"})],
    "ja": [("黒い猫がソファの上で寝ている写真", "ja", "ja", {"猫", "ソファ", "写真"})],
    "zh": [
        ("北京故宫的雪景", "zh", "zh", {"北京", "故宫"}),
        ("飛機在機場起飛", "zh", "zh", {"飛機", "機場"}),  # Traditional
    ],
    "he": [("חתול שחור ישן על הספה", "he", "he", {"חתול", "שחור", "על"})],
    "ar": [("قطة سوداء نائمة على الأريكة", "ar", "ar", {"قطة", "على"})],
    "ko": [("고양이 사진", "ko", "ko", {"고양이", "사진"})],
    "tr": [("İstanbul Boğazı gün batımında", "tr", "tr", {"İstanbul", "gün"})],
    "cy": [("Cath ddu yn cysgu ar y soffa", "cy", None, set())],  # no Welsh list: dropped
}
E2E_LANGS = ["en", "de", "fr", "ru", "sh", "el", "ja", "zh", "he", "ar", "ko", "tr"]


def _pages_warc(path: Path) -> Path:
    responses = []
    for lang, texts in PAGES.items():
        imgs = "".join(f'<img src="/{lang}/{i}.jpg" alt="{t}">' for i, (t, *_) in enumerate(texts))
        html = f"<html><head><meta charset='utf-8'></head><body>{imgs}</body></html>"
        responses.append(Response(f"https://{lang}.example.org/p.html", html.encode()))
    return write_warc(path, responses)


@pytest.mark.slow
def test_extract_and_balance_worldwide_end_to_end(tmp_path: Path) -> None:
    lid = LanguageId()
    for texts in PAGES.values():
        for text, label, _, _ in texts:
            assert lid.predict(text)[0] == label, text  # the fixture's premise
    meta = tmp_path / "meta"
    build_worldwide(meta, langs=E2E_LANGS, size=25_000)
    shard = _pages_warc(tmp_path / "pages.warc.gz")
    options = ExtractOptions(out_dir=tmp_path / "matched", langs=None)
    summary = run_extract([shard], options, meta, lang_map=meta / LANG_MAP_NAME)
    assert summary.totals["no_metadata_texts"] == 1  # the Welsh text
    rows = pq.read_table(tmp_path / "matched" / "pages.warc.gz.parquet").to_pylist()
    lists = {code: load_entries(path) for code, path in metadata_files(meta).items()}
    got = {r["text"]: (r["lang"], {lists[r["lang"]][i] for i in r["entry_ids"]}) for r in rows}
    for texts in PAGES.values():
        for text, _, lang, must in texts:
            if lang is None:
                assert text not in got
                continue
            assert got[text][0] == lang and must <= got[text][1], (text, got[text])

    result = balance_worldwide(
        [tmp_path / "matched"], t_en=1, out=tmp_path / "balanced", metadata=meta, unit="pair"
    )
    assert set(result.languages) == {lang for lang, _ in got.values()}
    assert result.counts["pairs"] == len(rows) and 0 < result.counts["kept"] <= len(rows)
    curated = pq.read_table(tmp_path / "balanced" / "curated.parquet").to_pylist()
    assert {r["text"] for r in curated} <= set(got) and len(curated) == result.counts["kept"]

    report = inspect_folder(meta, data=[tmp_path / "matched"])
    by_lang = {item.lang: item for item in report.lists}
    assert by_lang["sh"].texts == 2 and by_lang["sh"].matched_share == 1.0
    assert by_lang["de"].texts == 2 and by_lang["en"].entries_matched >= 3
    assert report.pool is not None and report.pool.no_metadata_texts == 1


def test_cli_builds_and_inspects_a_worldwide_folder(tmp_path: Path) -> None:
    """`metadata build --worldwide` writes one list a language and the lang map; `metadata
    info DIR` reports each; the single-list options are refused with --worldwide."""
    from typer.testing import CliRunner

    from metaclip_sql.cli import app

    out = tmp_path / "meta"
    args = ["metadata", "build", "--worldwide", "--wordfreq", "--langs", "de,zh"]
    built = CliRunner().invoke(app, [*args, "--size", "5000", "--out", str(out)])
    assert built.exit_code == 0, built.output
    assert sorted(p.name for p in out.glob("*.json") if ".sources" not in p.name) == [
        "de.json",
        "lang_map.json",
        "zh.json",
    ]
    info = CliRunner().invoke(app, ["metadata", "info", str(out)])
    assert info.exit_code == 0 and "wuu,yue,zh" in info.output, info.output
    refused = CliRunner().invoke(app, [*args, "--lang", "de", "--out", str(tmp_path / "x")])
    assert refused.exit_code == 2 and "use --langs" in refused.output
    single = CliRunner().invoke(app, ["metadata", "info", str(out / "de.json"), "--data", "x"])
    assert single.exit_code == 2 and "go with a folder" in single.output
