"""The in-memory dry run (sql/metaclip_v1/015) against the streaming steps: the same numbers.

The in-memory plan restates dedup, counting and the kept total in one statement, so every test
here runs both plans on the same pool and compares everything they report and write.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from metaclip_sql.balance import v1 as balance_module
from metaclip_sql.balance.v1 import BalanceError, BalanceResult, balance
from metaclip_sql.cli import app
from metaclip_sql.duck.settings import memory_limit_bytes
from tests.helpers.pools import copies_half_without_pair_key, pair_row, write_rows, zipf_pool


def both_plans(inputs: list[Path], out: Path, **options) -> tuple[BalanceResult, BalanceResult]:
    """Dry runs of `inputs` with each plan; asserts they report and write the same."""
    memory = balance(
        inputs, out=out / "in-memory", dry_run=True, dry_run_plan="in-memory", **options
    )
    streaming = balance(
        inputs, out=out / "streaming", dry_run=True, dry_run_plan="streaming", **options
    )
    assert (memory.plan, streaming.plan) == ("in-memory", "streaming")
    assert memory.counts == streaming.counts
    assert (memory.t, memory.tail_proportion) == (streaming.t, streaming.tail_proportion)
    assert pq.read_table(memory.files["entry_counts"]) == pq.read_table(
        streaming.files["entry_counts"]
    )
    assert memory.manifest["plan"] == "in-memory"
    return memory, streaming


@pytest.mark.parametrize(("t", "seed"), [(2, 0), (25, 7), (60, 7), (10_000, 3)])
def test_in_memory_equals_streaming_across_thresholds_and_seeds(
    tmp_path: Path, t: float, seed: int
) -> None:
    """t=2 makes nearly every entry a head (every pair walks its list), 10,000 none."""
    pool = zipf_pool(
        tmp_path / "in", images=3000, entries=120, shards=4, max_entries=6, dup_share=0.2
    )
    memory, _ = both_plans(pool.files, tmp_path, t=t, seed=seed)
    assert memory.counts["duplicates"] > 0, "the pool must exercise cross-shard dedup"
    assert memory.counts["pairs"] == len(pool.pairs())
    assert 0 < memory.kept <= memory.counts["pairs"]


def test_in_memory_equals_streaming_with_langs_valid_uuids_and_unkeyed_files(
    tmp_path: Path,
) -> None:
    pool = zipf_pool(
        tmp_path / "in", images=800, entries=40, langs=("en", "de"), unmatched_share=0.2
    )
    mixed = copies_half_without_pair_key(pool.files, tmp_path / "mixed")
    listing = tmp_path / "valid.txt"
    listing.write_text("".join(f"{u}\n" for u in sorted({r["uuid"] for r in pool.rows})[:500]))
    for lang in ("en", "all"):
        memory, _ = both_plans(
            mixed, tmp_path / lang, t=5, seed=1, lang=lang, valid_uuids=[listing]
        )
        assert memory.counts["files_without_pair_key"] > 0


def test_copies_that_disagree_fall_back_to_the_streaming_steps(tmp_path: Path) -> None:
    """Copies of one pair with different entry_ids (another metadata list) but no id beyond the
    others': the streaming steps keep the first copy by shard, so the in-memory result, which
    assumes copies agree, is not used."""
    row = pair_row("https://a.example/x.jpg", "red car", [0, 1])
    others = [pair_row(f"https://a.example/{i}.jpg", "red car", [i % 2]) for i in range(6)]
    first = write_rows(tmp_path / "a.parquet", [row, *others])
    second = write_rows(tmp_path / "b.parquet", [{**row, "shard": "shard-001", "entry_ids": [0]}])
    options = {"t": 2, "seed": 5, "dry_run": True, "metadata": None}
    tried = balance([first, second], out=tmp_path / "m", dry_run_plan="in-memory", **options)
    streaming = balance([first, second], out=tmp_path / "s", dry_run_plan="streaming", **options)
    assert tried.plan == "streaming"
    assert tried.counts == streaming.counts
    assert pq.read_table(tried.files["entry_counts"]) == pq.read_table(
        streaming.files["entry_counts"]
    )


def test_in_memory_equals_streaming_with_many_copies_and_copies_in_one_file(
    tmp_path: Path,
) -> None:
    """A pair seen four times over three files, one twice in the same file, among others."""
    rows = [
        pair_row(f"https://a.example/{i}.jpg", f"text {i}", [i % 4, 4 + i % 3], "s0")
        for i in range(40)
    ]
    four = pair_row("https://a.example/four.jpg", "four", [0, 5], "s0")
    twice = pair_row("https://a.example/twice.jpg", "twice", [1], "s1")
    a = write_rows(tmp_path / "a.parquet", [*rows[:20], four, twice, {**twice, "page_url": "p2"}])
    b = write_rows(tmp_path / "b.parquet", [*rows[20:], {**four, "shard": "s1"}])
    c = write_rows(tmp_path / "c.parquet", [{**four, "shard": "s2"}, {**four, "shard": "s3"}])
    for t in (1, 3, 12):
        memory, _ = both_plans([a, b, c], tmp_path / str(t), t=t, seed=2, metadata=None)
        assert memory.counts["duplicates"] == 4
        assert memory.counts["pairs"] == 42


def test_disagreeing_copies_with_an_id_seen_nowhere_else_give_the_streaming_error(
    tmp_path: Path,
) -> None:
    """Copies [0] and [0, 5] twice: subtracting the dropped copies leaves entry 5 at count 0 (or
    below), which must not make the in-memory statement fail before Python falls back."""
    row = pair_row("https://a.example/x.jpg", "red car", [0], "shard-000")
    files = [
        write_rows(tmp_path / "a.parquet", [row]),
        write_rows(tmp_path / "b.parquet", [{**row, "shard": "shard-001", "entry_ids": [0, 5]}]),
        write_rows(tmp_path / "c.parquet", [{**row, "shard": "shard-002", "entry_ids": [0, 5]}]),
    ]
    for order in (files, files[::-1], [files[1], files[0], files[2]]):
        for plan in ("in-memory", "streaming"):
            with pytest.raises(BalanceError, match="different --metadata"):
                balance(
                    order, t=0.5, out=tmp_path / "o", dry_run=True, dry_run_plan=plan, metadata=None
                )
    assert not (tmp_path / "o").exists()


def test_cli_dry_run_plan(tmp_path: Path) -> None:
    zipf_pool(tmp_path / "in", images=100, entries=10)
    runner = CliRunner()
    args = ["balance", str(tmp_path / "in"), "--t", "5", "--dry-run", "--out", str(tmp_path / "o")]
    ok = runner.invoke(app, [*args, "--dry-run-plan", "in-memory"])
    assert ok.exit_code == 0, ok.output
    assert "(in-memory dry run)" in ok.output
    streaming = runner.invoke(app, [*args, "--dry-run-plan", "streaming"])
    assert "(streaming dry run)" in streaming.output
    worldwide = runner.invoke(
        app, ["balance", str(tmp_path / "in"), "--worldwide", "--dry-run-plan", "in-memory"]
    )
    assert worldwide.exit_code != 0
    assert "--worldwide streams" in worldwide.output


def test_auto_picks_in_memory_when_the_estimate_fits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = zipf_pool(tmp_path / "in", images=300, entries=20)
    roomy = balance(pool.files, t=5, out=tmp_path / "a", dry_run=True)
    monkeypatch.setattr(balance_module, "IN_MEMORY_BYTES_PER_ROW", 10**12)
    tight = balance(pool.files, t=5, out=tmp_path / "b", dry_run=True)
    assert (roomy.plan, tight.plan) == ("in-memory", "streaming")
    assert roomy.counts == tight.counts
    assert balance(pool.files, p=0.3, out=tmp_path / "c", dry_run=True).plan == "streaming"
    unit_image = balance(pool.files, t=5, out=tmp_path / "d", dry_run=True, unit="image")
    assert unit_image.plan == "streaming"
    assert balance(pool.files, t=5, out=tmp_path / "e").plan == "streaming"


def test_the_estimate_against_the_memory_limit() -> None:
    import duckdb

    con = duckdb.connect(config={"memory_limit": "2GB"})
    fits = balance_module.PairsFiles(10_000_000, frozenset(), 25_000_000)  # 0.68 GB
    too_big = balance_module.PairsFiles(50_000_000, frozenset(), 125_000_000)  # 3.4 GB
    assert balance_module.use_in_memory(con, fits, "auto")
    assert not balance_module.use_in_memory(con, too_big, "auto")
    assert balance_module.use_in_memory(con, too_big, "in-memory")
    assert not balance_module.use_in_memory(con, fits, "streaming")


def test_the_estimate_reads_the_entry_ids_from_the_footers(tmp_path: Path) -> None:
    pool = zipf_pool(tmp_path / "in", images=300, entries=20)
    checked = balance_module.check_pairs_files(pool.files)
    assert checked.rows == len(pool.rows)
    assert checked.entry_values == sum(max(1, len(r["entry_ids"])) for r in pool.rows)


@pytest.mark.parametrize(
    ("setting", "expected"),
    [("2GB", 2 * 10**9), ("1.8 GiB", int(1.8 * 2**30)), ("512.0 MiB", 512 * 2**20)],
)
def test_memory_limit_in_bytes(setting: str, expected: int) -> None:
    import duckdb

    con = duckdb.connect(config={"memory_limit": setting})
    assert memory_limit_bytes(con) == pytest.approx(expected, rel=0.06)


def test_in_memory_on_request_only_where_it_applies(tmp_path: Path) -> None:
    pool = zipf_pool(tmp_path / "in", images=50, entries=5)
    for options in ({"dry_run": False, "t": 5}, {"dry_run": True, "p": 0.3}):
        with pytest.raises(BalanceError, match="in-memory works with --dry-run"):
            balance(pool.files, out=tmp_path / "o", dry_run_plan="in-memory", **options)
    with pytest.raises(BalanceError, match="--dry-run-plan must be one of"):
        balance(pool.files, t=5, out=tmp_path / "o", dry_run=True, dry_run_plan="fast")
    assert not (tmp_path / "o").exists()


def test_empty_candidates_give_the_same_message_in_memory(tmp_path: Path) -> None:
    rows = [pair_row("https://a.example/x.jpg", "no match here", [])]
    path = write_rows(tmp_path / "a.parquet", rows)
    with pytest.raises(BalanceError, match="no candidate pairs"):
        balance([path], t=5, out=tmp_path / "o", dry_run=True, dry_run_plan="in-memory")
    assert not (tmp_path / "o").exists()
