"""Worldwide balancing (MetaCLIP 2): per-language thresholds from English's tail proportion."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from metaclip_sql import sqlrunner
from metaclip_sql.balance import BalanceError
from metaclip_sql.cli import app
from metaclip_sql.sampling import p_to_t, t_to_p
from metaclip_sql.worldwide import balance_worldwide
from tests.pools import uuid_of, write_rows, zipf_pool


def _counts_pool(folder: Path, counts: dict[str, list[int]]) -> Path:
    """One Parquet file where entry e of language l is matched by exactly counts[l][e] texts."""
    rows = []
    for lang, per_entry in counts.items():
        for entry_id, n in enumerate(per_entry):
            for k in range(n):
                url = f"https://img.example.org/{lang}/{entry_id}/{k}.jpg"
                rows.append(
                    {
                        "uuid": uuid_of(url),
                        "url": url,
                        "text": f"{lang} {entry_id} {k}",
                        "text_key": "alt",
                        "lang": lang,
                        "lang_score": 0.9,
                        "entry_ids": [entry_id],
                        "page_url": "https://example.org/",
                        "shard": "s",
                    }
                )
    folder.mkdir(parents=True, exist_ok=True)
    return write_rows(folder / "pool.parquet", rows)


HAND = {
    "en": [1, 2, 3, 4, 10],  # t_en = 4: p = (1 + 2 + 3) / 20 = 0.3
    "de": [1, 4, 10, 15, 70],  # shares .01 .05 .15 .30 1: closest to .3 is 15
    "ja": [3, 3, 3, 3],  # shares .25 .5 .75 1: closest is .25, t = 3
    "fr": [50, 50],  # shares .5 1: t = 50
}


def test_t_to_p_and_p_to_t_by_hand() -> None:
    assert t_to_p(HAND["en"], 4) == pytest.approx(0.3)
    assert p_to_t(HAND["de"], 0.3) == 15
    assert p_to_t(HAND["ja"], 0.3) == 3
    assert p_to_t(HAND["fr"], 0.3) == 50
    assert t_to_p(HAND["de"], 15) == pytest.approx(0.15)  # the entry at t is not in the tail


def test_sql_thresholds_equal_hand_values(tmp_path: Path) -> None:
    pool = _counts_pool(tmp_path / "pool", HAND)
    result = balance_worldwide([pool], t_en=4, out=tmp_path / "out", dry_run=True, unit="pair")
    assert result.p == pytest.approx(0.3)
    assert {lang: s["t"] for lang, s in result.languages.items()} == {
        "en": 4.0,
        "de": 15.0,
        "ja": 3.0,
        "fr": 50.0,
    }
    assert {lang: s["pairs"] for lang, s in result.languages.items()} == {
        lang: sum(c) for lang, c in HAND.items()
    }
    assert result.languages["de"]["tail_proportion"] == pytest.approx(0.15)
    assert result.languages["ja"]["head_entries"] == 0  # prob = 3 / 3 = 1 for every entry
    manifest = json.loads((tmp_path / "out" / "manifest.dry-run.json").read_text())
    assert manifest["sql_version"] == "metaclip_v2" and manifest["languages"]["de"]["t"] == 15


def _tail_bound(counts: list[int], t: float) -> float:
    """How far a language's tail proportion at t = p_to_t(counts, p) can be from p.

    With counts sorted and S_i their cumulative shares, p_to_t picks the position k whose S_k is
    closest to p, so p lies in [S_(k-1), S_(k+1)]; the tail proportion at t = c_k is S_m, m the
    last position with a count below t. Both lie in [S_m, S_(k+1)]: the gap is at most the share
    of the entries with count exactly t plus that of the next larger count.
    """
    total = sum(counts)
    at_t = sum(c for c in counts if c == t)
    above = [c for c in counts if c > t]
    return (at_t + (min(above) if above else 0)) / total


def test_two_language_pool_has_equal_tail_proportions(tmp_path: Path) -> None:
    en = zipf_pool(tmp_path / "en", images=6000, entries=300, langs=("en",), seed=1)
    de = zipf_pool(tmp_path / "de", images=2500, entries=120, langs=("de",), seed=2)
    t_en = 60
    result = balance_worldwide([tmp_path], t_en=t_en, out=tmp_path / "out", unit="pair")
    en_counts = list(en.entry_counts().values())
    de_counts = list(de.entry_counts().values())
    p = t_to_p(en_counts, t_en)
    assert result.p == pytest.approx(p)
    de_t = result.languages["de"]["t"]
    assert de_t == p_to_t(de_counts, p)
    assert result.languages["en"]["tail_proportion"] == pytest.approx(p)
    gap = abs(result.languages["de"]["tail_proportion"] - p)
    assert gap <= _tail_bound(de_counts, de_t)
    assert gap < 0.05, (gap, p, de_t)  # the bound is a few percent at these pool sizes
    assert result.counts["pairs"] == len(en.pairs()) + len(de.pairs())
    # Per entry: tail entries keep everything, head entries about t each.
    table = pq.read_table(tmp_path / "out" / "entry_counts.parquet").to_pylist()
    for row in table:
        t = result.languages[row["lang"]]["t"]
        if row["count"] < t:
            assert row["kept"] == row["count"]
    curated = pq.read_table(tmp_path / "out" / "curated.parquet")
    assert set(curated.column("lang").to_pylist()) == {"en", "de"}
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    for lang in ("en", "de"):
        record = manifest["languages"][lang]
        assert set(record) >= {"t", "pairs", "kept", "tail_proportion"}
        assert record["kept"] == curated.column("lang").to_pylist().count(lang)


def test_unit_image_keeps_one_text_per_image_and_names_entries(tmp_path: Path) -> None:
    zipf_pool(tmp_path / "pool", images=1500, entries=50, langs=("en", "de"), max_texts=3)
    meta = tmp_path / "meta"
    meta.mkdir()
    for lang in ("en", "de"):
        names = [f"{lang}-{i}" for i in range(50)]
        (meta / f"{lang}.json").write_text(json.dumps(names))
    result = balance_worldwide([tmp_path / "pool"], t_en=20, out=tmp_path / "out", metadata=meta)
    assert result.unit == "image"
    curated = pq.read_table(tmp_path / "out" / "curated.parquet").to_pylist()
    assert len({r["uuid"] for r in curated}) == len(curated)
    rows = pq.read_table(tmp_path / "out" / "entry_counts.parquet").to_pylist()
    assert all(r["entry"] == f"{r['lang']}-{r['entry_id']}" for r in rows)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["metadata"]["languages"]["de"]["entries"] == 50


def test_errors(tmp_path: Path) -> None:
    pool = _counts_pool(tmp_path / "pool", {"de": [3, 4]})
    with pytest.raises(BalanceError, match="no en pairs"):
        balance_worldwide([pool], t_en=4, out=tmp_path / "out")
    with pytest.raises(BalanceError, match="must include en"):
        balance_worldwide([pool], t_en=4, out=tmp_path / "out", lang="de")
    pool = _counts_pool(tmp_path / "pool2", {"en": [3, 4], "de": [1, 1, 1]})
    meta = tmp_path / "meta"
    meta.mkdir()
    (meta / "en.json").write_text(json.dumps(["a", "b"]))
    (meta / "de.json").write_text(json.dumps(["x"]))
    with pytest.raises(BalanceError, match="de entry ids reach 2"):
        balance_worldwide([pool], t_en=4, out=tmp_path / "out", metadata=meta)
    assert not (tmp_path / "out").exists()


def test_cli_worldwide(tmp_path: Path) -> None:
    pool = _counts_pool(tmp_path / "pool", HAND)
    runner = CliRunner()
    args = ["balance", str(pool), "--worldwide", "--t-en", "4", "--out", str(tmp_path / "o")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "tail proportion p=0.3000" in result.output and "de" in result.output
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert manifest["unit"] == "image" and manifest["languages"]["ja"]["t"] == 3
    bad = runner.invoke(app, ["balance", str(pool), "--worldwide", "--t", "4"])
    assert bad.exit_code == 2 and "--t-en" in bad.output
    bad = runner.invoke(app, ["balance", str(pool), "--t-en", "4"])
    assert bad.exit_code == 2 and "--worldwide" in bad.output


@settings(max_examples=150, deadline=None)
@given(
    en=st.lists(st.integers(1, 60), min_size=1, max_size=30),
    other=st.lists(st.integers(1, 60), min_size=1, max_size=30),
    t_en=st.integers(1, 70),
)
def test_sql_thresholds_equal_python_on_random_counts(
    en: list[int], other: list[int], t_en: int
) -> None:
    con = duckdb.connect()
    table = pa.table(
        {
            "lang": ["en"] * len(en) + ["xx"] * len(other),
            "entry_id": pa.array([*range(len(en)), *range(len(other))], pa.int32()),
            "count": pa.array(en + other, pa.int64()),
        }
    )
    con.register("lang_entry_counts", table)
    sqlrunner.run(con, "metaclip_v2/025_thresholds.sql", {"t_en": float(t_en), "anchor": "en"})
    got = dict(con.table("lang_thresholds").select("lang, t").fetchall())
    p = t_to_p(en, t_en)
    assert got == {"en": float(t_en), "xx": float(p_to_t(other, p))}
