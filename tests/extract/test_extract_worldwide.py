"""Per-language extract (MetaCLIP 2): each text is matched against its own language's list."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from metaclip_sql.extract.lid import LanguageId
from metaclip_sql.extract.run import InputError, run_extract
from metaclip_sql.extract.shard import ExtractOptions, extract_shard, read_stats
from metaclip_sql.metadata.lang import (
    LanguageMatchers,
    load_lang_map,
    metadata_files,
)
from metaclip_sql.metadata.load import MetadataError
from metaclip_sql.sample import Response, write_warc
from metaclip_sql.schema import pair_key

LISTS = {
    "en": ["cat", "sofa", "dog", "garden", "black cat"],
    "de": ["Katze", "Sofa", "Hund", "Garten"],
    "ja": ["猫", "ソファ", "写真", "東京タワー", "夕焼け", "紅葉"],
    "zh": ["小狗", "草地", "北京", "故宫", "雪景"],
    "th": ["แมว", "โซฟา", "ตลาดน้ำ"],
}
# (alt text, lid.176 label, metadata language)
TEXTS = [
    ("A black cat sleeping on the sofa", "en", "en"),
    ("The dog plays in the garden", "en", "en"),
    ("Eine schwarze Katze schläft auf dem Sofa", "de", "de"),
    ("Der Hund spielt im Garten", "de", "de"),
    ("黒い猫がソファの上で寝ている写真", "ja", "ja"),
    ("東京タワーと夕焼け", "ja", "ja"),
    ("一只小狗在草地上奔跑", "wuu", "zh"),  # lid says Wu Chinese; the default map routes it
    ("北京故宫的雪景", "zh", "zh"),
    ("แมวสีดำนอนบนโซฟา", "th", "th"),
    ("Un chat noir dort sur le canapé", "fr", None),  # no French list: counted and dropped
    ("Le chien joue dans le jardin", "fr", None),
]


@pytest.fixture(scope="module")
def lid() -> LanguageId:
    return LanguageId()


def _metadata_dir(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for lang, entries in LISTS.items():
        (folder / f"{lang}.json").write_text(json.dumps(entries, ensure_ascii=False), "utf-8")
    (folder / "en.sources.json").write_text("{}", "utf-8")  # a sidecar is not a list
    return folder


def _warc(path: Path) -> Path:
    imgs = "".join(f'<img src="/i/{i}.jpg" alt="{t}">' for i, (t, _, _) in enumerate(TEXTS))
    html = f"<html><head><meta charset='utf-8'></head><body>{imgs}</body></html>"
    return write_warc(path, [Response("https://example.org/p.html", html.encode())])


def test_each_text_matches_its_own_language(tmp_path: Path, lid: LanguageId) -> None:
    for text, label, _ in TEXTS:
        assert lid.predict(text)[0] == label, text  # the fixture's premise
    matchers = LanguageMatchers(_metadata_dir(tmp_path / "meta"), load_lang_map())
    shard = _warc(tmp_path / "w.warc.gz")
    stats = extract_shard(
        shard, ExtractOptions(out_dir=tmp_path / "out", langs=None), matchers, lid
    )
    rows = {r["text"]: r for r in pq.read_table(tmp_path / "out" / "w.warc.gz.parquet").to_pylist()}
    names = {t: [LISTS[r["lang"]][i] for i in r["entry_ids"]] for t, r in rows.items()}
    assert names == {
        "A black cat sleeping on the sofa": ["cat", "sofa", "black cat"],
        "The dog plays in the garden": ["dog", "garden"],
        "Eine schwarze Katze schläft auf dem Sofa": ["Katze", "Sofa"],
        "Der Hund spielt im Garten": ["Hund", "Garten"],
        "黒い猫がソファの上で寝ている写真": ["猫", "ソファ", "写真"],
        "東京タワーと夕焼け": ["東京タワー", "夕焼け"],
        "一只小狗在草地上奔跑": ["小狗", "草地"],
        "北京故宫的雪景": ["北京", "故宫", "雪景"],
        "แมวสีดำนอนบนโซฟา": ["แมว", "โซฟา"],
    }
    assert {t: r["lang"] for t, r in rows.items()} == {t: m for t, _, m in TEXTS if m}
    assert all(r["pair_key"].bytes == pair_key(r["uuid"], t) for t, r in rows.items())
    assert stats.no_metadata_texts == 2 and stats.matched_texts == 9 and stats.rows == 9
    assert read_stats(tmp_path / "out" / "w.warc.gz.parquet")["no_metadata_texts"] == 2


def test_lang_filter_and_lang_map_override(tmp_path: Path, lid: LanguageId) -> None:
    meta = _metadata_dir(tmp_path / "meta")
    shard = _warc(tmp_path / "w.warc.gz")
    lang_map = tmp_path / "map.json"
    # French goes to the German list; Japanese loses script padding, so its words need spaces.
    lang_map.write_text(json.dumps({"map": {"fr": "de"}, "unspaced": ["zh", "th"]}))
    options = ExtractOptions(out_dir=tmp_path / "out", langs=frozenset({"ja", "de"}))
    summary = run_extract([shard], options, meta, workers=1, lang_map=lang_map)
    rows = pq.read_table(tmp_path / "out" / "w.warc.gz.parquet").to_pylist()
    assert sorted(r["text"] for r in rows) == sorted(
        ["Eine schwarze Katze schläft auf dem Sofa", "Der Hund spielt im Garten"]
    )  # French texts match no German entry; Japanese ones nothing unpadded
    assert summary.totals["no_metadata_texts"] == 0  # en, zh, th are filtered out by --lang
    keep = ExtractOptions(
        out_dir=tmp_path / "keep", langs=frozenset({"ja", "de"}), keep_unmatched=True
    )
    run_extract([shard], keep, meta, workers=1, lang_map=lang_map)
    kept = pq.read_table(tmp_path / "keep" / "w.warc.gz.parquet").to_pylist()
    assert {r["lang"] for r in kept} == {"ja", "de"} and len(kept) == 6


def test_single_list_path_unchanged_and_lang_map_needs_a_folder(tmp_path: Path) -> None:
    listfile = tmp_path / "m.json"
    listfile.write_text(json.dumps(["cat"]))
    shard = _warc(tmp_path / "w.warc.gz")
    options = ExtractOptions(out_dir=tmp_path / "out")
    summary = run_extract([shard], options, listfile, workers=1)
    assert summary.totals["rows"] == 1 and summary.totals["no_metadata_texts"] == 0
    with pytest.raises(InputError, match="lang-map"):
        run_extract([shard], options, listfile, workers=1, lang_map=tmp_path / "x.json")


def test_metadata_folder_errors(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(MetadataError, match=r"no <lang>\.json"):
        metadata_files(tmp_path / "empty")
    both = tmp_path / "both"
    both.mkdir()
    (both / "de.json").write_text("[]")
    (both / "de.txt").write_text("Hund\n")
    with pytest.raises(MetadataError, match="two metadata lists"):
        metadata_files(both)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"map": ["x"]}))
    with pytest.raises(MetadataError, match="'map'"):
        load_lang_map(bad)
