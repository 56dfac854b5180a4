"""Counting per entry into an array (entry_slots.py, metaclip_entry_slot in 000_params.sql).

The array is only sound when the modulus is above every id, so the bound comes from the
footers, and a pool whose footers have no statistics must balance exactly like one that has.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from metaclip_sql.balance import v1 as balance_module
from metaclip_sql.balance.entry_slots import (
    NO_BOUND_MODULUS,
    entry_id_bound,
    entry_modulus,
    slot_bits,
    use_entry_slots,
)
from metaclip_sql.balance.v1 import balance
from metaclip_sql.duck import sql as sqlrunner
from metaclip_sql.duck.settings import setting
from tests.helpers.pools import pair_row, write_rows, zipf_pool


def _without_statistics(files: list[Path], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    copies = [folder / f.name for f in files]
    for source, copy in zip(files, copies, strict=True):
        pq.write_table(pq.read_table(source), copy, write_statistics=False)
    return copies


def test_the_bound_is_the_largest_id_in_the_footer(tmp_path: Path) -> None:
    rows = [
        pair_row("https://a.example/1.jpg", "one", [0, 37]),
        pair_row("https://a.example/2.jpg", "two", [500]),
        pair_row("https://a.example/3.jpg", "none", []),
    ]
    path = write_rows(tmp_path / "a.parquet", rows)
    assert entry_id_bound(pq.ParquetFile(path).metadata) == 500
    empty = write_rows(tmp_path / "b.parquet", [pair_row("https://a.example/4.jpg", "x", [])])
    assert entry_id_bound(pq.ParquetFile(empty).metadata) == 0
    no_rows = write_rows(tmp_path / "c.parquet", [])
    assert entry_id_bound(pq.ParquetFile(no_rows).metadata) == 0
    (bare,) = _without_statistics([path], tmp_path / "bare")
    assert entry_id_bound(pq.ParquetFile(bare).metadata) is None


@pytest.mark.parametrize(
    ("bounds", "modulus"),
    [([500, 3], 512), ([511], 512), ([512], 1024), ([0], 1), ([499_999], 524_288)],
)
def test_the_modulus_is_the_next_power_of_two_above_every_bound(
    bounds: list[int], modulus: int
) -> None:
    assert entry_modulus(bounds) == modulus
    assert all(-modulus < b < modulus for b in bounds)


def test_a_file_without_statistics_gives_no_bound() -> None:
    assert entry_modulus([5, None, 7]) == NO_BOUND_MODULUS
    assert slot_bits(NO_BOUND_MODULUS) > 30
    ((edges,),) = (
        duckdb.connect()
        .execute(
            "SELECT [x % $m FOR x IN [(-2147483648)::INTEGER, -1, 0, 2147483647]]",
            {"m": NO_BOUND_MODULUS},
        )
        .fetchall()
    )
    assert edges == [-2147483648, -1, 0, 2147483647], "the identity on every INTEGER"


def test_counts_group_by_an_array_only_when_it_fits() -> None:
    con = duckdb.connect(config={"threads": 2, "memory_limit": "2GB"})
    sqlrunner.run(con, "metaclip_v1/001_entry_slot.sql", {"entry_modulus": 1 << 19})
    count = (
        con.sql("SELECT [3, 499999, 3] AS entry_ids")
        .select("metaclip_entry_slot(unnest(entry_ids)) AS entry_id")
        .aggregate("entry_id, count(*) AS n", "entry_id")
    )
    assert "PERFECT_HASH_GROUP_BY" not in count.explain().upper().replace(" ", "_")
    assert use_entry_slots(con, 1 << 19)
    assert setting(con, "perfect_ht_threshold") == str(slot_bits(1 << 19))
    assert "PERFECT_HASH_GROUP_BY" in count.explain().upper().replace(" ", "_")
    assert sorted(count.fetchall()) == [(3, 2), (499999, 1)]
    assert not use_entry_slots(con, NO_BOUND_MODULUS)
    small = duckdb.connect(config={"threads": 4, "memory_limit": "100MB"})
    assert not use_entry_slots(small, 1 << 19), "4 threads' arrays need 400 MB"
    assert setting(small, "perfect_ht_threshold") == "12"


@pytest.mark.parametrize("dry_run", [False, True])
def test_a_pool_without_statistics_balances_the_same(tmp_path: Path, dry_run: bool) -> None:
    """5,000 entries: a modulus of 8,192 needs 15 bits, above DuckDB's default of 12."""
    pool = zipf_pool(tmp_path / "in", images=3000, entries=5000, max_entries=6, dup_share=0.2)
    bare = _without_statistics(pool.files, tmp_path / "bare")
    assert balance_module.check_pairs_files(pool.files).entry_modulus == 8192
    assert balance_module.check_pairs_files(bare).entry_modulus == NO_BOUND_MODULUS
    results = [
        balance(files, t=3, out=tmp_path / name, dry_run=dry_run)
        for name, files in (("slots", pool.files), ("hash", bare))
    ]
    assert results[0].counts == results[1].counts
    assert results[0].counts["pairs"] == len(pool.pairs())
    counts = [pq.read_table(r.files["entry_counts"]) for r in results]
    assert counts[0] == counts[1]
    expected = pool.entry_counts()
    assert dict(
        zip(counts[0]["entry_id"].to_pylist(), counts[0]["count"].to_pylist(), strict=True)
    ) == {e: expected[e] for e in sorted(expected)}
    if not dry_run:
        curated = [
            pq.read_table(r.files["curated"]).sort_by(
                [("uuid", "ascending"), ("text", "ascending")]
            )
            for r in results
        ]
        assert curated[0].num_rows == results[0].kept
        # DuckDB marks columns NOT NULL when the statistics show no NULL: compare the values.
        assert curated[0].to_pylist() == curated[1].to_pylist()
