"""metadata build: each source format from small generated files, order, counts, PMI, bytes."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import math
import sys
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from metaclip_sql.cli import app
from metaclip_sql.errors import MetaclipError
from metaclip_sql.metadata import sources as metadata_sources
from metaclip_sql.metadata import wordnet
from metaclip_sql.metadata.build import (
    Source,
    SourceError,
    build_metadata,
    drop_reason,
    merge,
    reference_sources,
)
from metaclip_sql.metadata.load import (
    BUNDLED_METADATA,
    load_entries,
    read_sources,
    sources_path,
)
from metaclip_sql.metadata.matching import entries_digest

LICENSE = "  1 This software and database is being provided to you, the LICENSEE, by  \n"


def synset(offset: int, pos: str, *words: str) -> str:
    """One data.* line in wndb(5WN) format: offset lex_filenum ss_type w_cnt (word lex_id)..."""
    lemmas = " ".join(f"{w} 0" for w in words)
    return f"{offset:08d} 03 {pos} {len(words):02x} {lemmas} 000 | a gloss; with spaces  \n"


def write_wordnet(folder: Path) -> Path:
    """A tiny WordNet: license header lines, underscores, adjective markers, a repeat."""
    files = {
        "data.noun": [synset(1740, "n", "entity"), synset(2137, "n", "hot_dog", "frank")],
        "data.verb": [synset(1740, "v", "breathe", "take_a_breath")],
        "data.adj": [synset(1740, "a", "galore(ip)"), synset(2098, "s", "able(p)")],
        "data.adv": [synset(1740, "r", "entity"), synset(1837, "r", "St._Louis")],
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, lines in files.items():
        (folder / name).write_text(LICENSE * 3 + "".join(lines), encoding="utf-8")
    return folder


def write_lines(path: Path, lines: list[str], opener=open) -> Path:
    with opener(path, "wt", encoding="utf-8") as f:
        f.write("".join(line + "\n" for line in lines))
    return path


@pytest.fixture
def wn(tmp_path: Path) -> Path:
    return write_wordnet(tmp_path / "wordnet")


def test_wordnet_head_names_in_file_order(wn: Path) -> None:
    names = list(wordnet.head_names(wn))
    assert names == ["entity", "hot dog", "breathe", "galore", "able", "entity", "St. Louis"]


def test_wordnet_accepts_princeton_dict_folder(tmp_path: Path) -> None:
    write_wordnet(tmp_path / "WordNet-3.0" / "dict")
    assert next(wordnet.head_names(tmp_path / "WordNet-3.0")) == "entity"


def test_real_wordnet_when_installed() -> None:
    folder = Path("/usr/share/wordnet")
    if not (folder / "data.noun").is_file():
        pytest.skip("wordnet-base not installed")
    names = list(wordnet.head_names(folder))
    assert len(names) == 117_659  # WordNet 3.0 synsets
    assert names[:3] == ["entity", "physical entity", "abstraction"]
    assert not [n for n in names if "(" in n and n.endswith(")") and "_" in n]


def test_drop_rules() -> None:
    assert drop_reason("") == "empty"
    assert drop_reason("  ") == "empty"
    assert drop_reason("...") == "punctuation"
    assert drop_reason("- –") == "punctuation"
    assert drop_reason("x" * 257) == "too_long"
    assert drop_reason("x" * 256) is None
    assert drop_reason("C++") is None
    assert drop_reason("€") is None  # a symbol, not punctuation


def test_merge_keeps_first_occurrence_order_and_counts() -> None:
    sources = [
        Source("a", {}, lambda: ["x", "y", "", "x", "!"]),
        Source("b", {}, lambda: ["y", "z", "w" * 300, "v"]),
    ]
    result = merge(sources, size=10)
    assert result.entries == ["x", "y", "z", "v"]
    a, b = result.sources
    assert (a.read, a.added, a.repeated, a.dropped) == (5, 2, 1, {"empty": 1, "punctuation": 1})
    assert (b.first_id, b.read, b.added, b.repeated, b.dropped) == (2, 4, 2, 1, {"too_long": 1})
    assert a.complete and b.complete


def test_merge_stops_at_size_without_reading_later_sources() -> None:
    def never() -> list[str]:
        raise AssertionError("read after the list was full")

    result = merge([Source("a", {}, lambda: iter("abcdef")), Source("b", {}, never)], size=3)
    assert result.entries == ["a", "b", "c"]
    assert [(s.added, s.read, s.complete) for s in result.sources] == [(3, 3, False), (0, 0, False)]


@pytest.fixture
def counts(tmp_path: Path) -> tuple[Path, Path]:
    """Unigram counts (N = 16 + 150 + 120 = 286) and bigram counts; 'cat' repeats."""
    unigrams = write_lines(
        tmp_path / "unigrams.tsv",
        ["a\t4", "b\t2", "c\t2", "d\t8", "cat\t100", "dog\t120", "cat\t50", 'say "hi"\t200'],
    )
    bigrams = write_lines(
        tmp_path / "bigrams.tsv.gz",
        ["a\tb\t2", "b\tc\t2", "c\td\t1", "a\tzz\t5", "b\tc\t1"],
        opener=gzip.open,
    )
    return unigrams, bigrams


def test_unigrams_sum_and_threshold(counts: tuple[Path, Path]) -> None:
    rows = list(metadata_sources.scored_unigrams(counts[0], min_count=100))
    assert rows == [('say "hi"', 200), ("cat", 150), ("dog", 120)]


def test_bigram_pmi_hand_checked(counts: tuple[Path, Path]) -> None:
    # N = 4+2+2+8+150+120+200 = 486. b c: count 2+1 = 3, PMI = log2(3*486 / (2*2)).
    # a b: log2(2*486 / (4*2)); c d: log2(1*486 / (2*8)). "a zz": zz has no unigram count.
    rows = list(metadata_sources.scored_bigrams(*counts, min_pmi=float("-inf")))
    expected = [
        ("b c", math.log2(3 * 486 / 4), 3),
        ("a b", math.log2(2 * 486 / 8), 2),
        ("c d", math.log2(486 / 16), 1),
    ]
    assert [r[0] for r in rows] == [e[0] for e in expected]
    for (_, pmi, count), (_, want, want_count) in zip(rows, expected, strict=True):
        assert pmi == pytest.approx(want, rel=1e-12)
        assert count == want_count
    # log2(364.5) = 8.51, log2(121.5) = 6.92, log2(30.375) = 4.92
    above = [r[0] for r in metadata_sources.scored_bigrams(*counts, min_pmi=6.92)]
    assert above == ["b c", "a b"]


@pytest.fixture
def pageviews(tmp_path: Path) -> list[Path]:
    """Dump files: plain, gzip, bz2 (named .txt: told by magic bytes) and zstd."""
    folder = tmp_path / "pageviews"
    folder.mkdir()
    return [
        write_lines(
            folder / "pageviews-1",
            [
                "en Dog 60 0",
                "en Cat 55 0",
                "en.m Dog 500 0",
                "de Hund 900 0",
                "en Special:Search 999 0",
            ],
        ),
        write_lines(
            folder / "pageviews-2.gz",
            [
                "en Dog 60 0",
                "en Cat 10 0",
                "en Hot_dog 80 0",
                "en broken",
                'en "Quoted"_title 70 0',
            ],
            opener=gzip.open,
        ),
        write_lines(folder / "pageviews-3.txt", ["en Cat 49 0", "en Zebra 70 0"], opener=bz2.open),
        write_lines(folder / "pageviews-4.zst", ["en Cat 20 0"], opener=zstd_open),
    ]


def zstd_open(path: Path, mode: str, encoding: str):
    """A zstd text writer (Arrow's codec: no extra package needed)."""
    return io.TextIOWrapper(pa.output_stream(str(path), compression="zstd"), encoding=encoding)


def test_titles_summed_over_files(pageviews: list[Path]) -> None:
    rows = list(metadata_sources.scored_titles(pageviews, ["en"], min_views=70, min_row_views=50))
    # Dog 60+60; Cat 55 only (10, 49, 20 are under 50 a line); Special: pages left out.
    assert rows == [("Dog", 120), ("Hot dog", 80), ('"Quoted" title', 70), ("Zebra", 70)]
    all_rows = metadata_sources.scored_titles(pageviews, ["en", "en.m"], 70, min_row_views=1)
    assert dict(all_rows) == {
        "Dog": 620,
        "Cat": 134,
        "Hot dog": 80,
        '"Quoted" title': 70,
        "Zebra": 70,
    }


def test_build_all_sources_in_reference_order(
    tmp_path: Path, wn: Path, counts: tuple[Path, Path], pageviews: list[Path]
) -> None:
    out = tmp_path / "out" / "metadata.json"
    result = build_metadata(
        out,
        wordnet=wn,
        unigrams=counts[0],
        bigrams=counts[1],
        titles=[str(pageviews[0].parent)],
        min_pmi=6.9,
    )
    names = ["entity", "hot dog", "breathe", "galore", "able", "St. Louis"]
    titles = ["Dog", "Hot dog", '"Quoted" title', "Zebra"]
    expected = [str(i) for i in range(100)] + names + ['say "hi"', "cat", "dog", "b c", "a b"]
    assert load_entries(out) == expected + titles
    added = {s.name: (s.added, s.read) for s in result.sources}
    assert added == {
        "numbers": (100, 100),
        "wordnet": (6, 7),
        "unigrams": (3, 3),
        "bigrams": (2, 2),
        "titles": (4, 4),
    }
    sidecar = read_sources(out)
    assert sidecar is not None and sources_path(out) == tmp_path / "out" / "metadata.sources.json"
    assert [s["first_id"] for s in sidecar["sources"]] == [0, 100, 106, 109, 111]
    assert sidecar["entries_sha256"] == entries_digest(load_entries(out))
    assert sidecar["sources"][-1]["params"]["files"] == [str(p) for p in sorted(pageviews)]


def test_build_is_byte_identical(tmp_path: Path, wn: Path) -> None:
    first, second = tmp_path / "a" / "m.json.gz", tmp_path / "b" / "m.json.gz"
    build_metadata(first, wordnet=wn, size=103)
    build_metadata(second, wordnet=wn, size=103)
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes()[4:8] == b"\0\0\0\0"  # gzip mtime
    assert sources_path(first).read_bytes() == sources_path(second).read_bytes()
    assert json.loads(gzip.decompress(first.read_bytes())) == load_entries(first)
    assert load_entries(first)[-3:] == ["entity", "hot dog", "breathe"]


def test_source_errors_are_clear(tmp_path: Path, counts: tuple[Path, Path]) -> None:
    with pytest.raises(SourceError, match="--bigrams needs --unigrams"):
        reference_sources(bigrams=counts[1])
    with pytest.raises(SourceError, match="WordNet database files"):
        reference_sources(wordnet=tmp_path)
    with pytest.raises(MetaclipError, match="no such file"):
        reference_sources(titles=[str(tmp_path / "nothing-*.gz")])


def test_wordfreq_missing_gives_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "wordfreq", None)
    with pytest.raises(SourceError, match=r"pip install 'metaclip-sql\[metadata\]'"):
        reference_sources(wordfreq=True)


def test_wordfreq_words_without_smashed_numbers() -> None:
    pytest.importorskip("wordfreq")
    result = merge(reference_sources(wordfreq=True), size=400)
    words = result.entries[100:]
    assert words[:4] == ["the", "to", "and", "of"]
    assert "00" not in words and "0000" not in words
    assert result.sources[1].params["wordlist"] == "large"


def test_cli_build(tmp_path: Path, wn: Path, counts: tuple[Path, Path]) -> None:
    out = tmp_path / "m.json"
    args = ["metadata", "build", "--out", str(out), "--no-numbers", "--wordnet", str(wn)]
    args += ["--unigrams", str(counts[0]), "--min-count", "150", "--size", "8"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    names = ["entity", "hot dog", "breathe", "galore", "able", "St. Louis"]
    assert load_entries(out) == [*names, 'say "hi"', "cat"]
    assert "unigrams: added 2 of 2 read" in result.output
    bad = CliRunner().invoke(app, ["metadata", "build", "--out", str(out), "--bigrams", "x"])
    assert bad.exit_code == 2 and "--bigrams needs --unigrams" in bad.output


def test_bundled_default_matches_its_sidecar() -> None:
    entries = load_entries()
    sidecar = read_sources(BUNDLED_METADATA)
    assert sidecar is not None
    assert sidecar["entries_sha256"] == entries_digest(entries)
    assert [s["name"] for s in sidecar["sources"]] == ["numbers", "wordnet", "wordfreq"]
    assert entries[:3] == ["0", "1", "2"] and len(entries) == sidecar["entries"]
    assert len(set(entries)) == len(entries)
