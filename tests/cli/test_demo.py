"""The quick start's main job: sample WARC -> extract -> balance, end to end."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
from typer.testing import CliRunner

from metaclip_sql.cli import app
from metaclip_sql.demo import run_demo
from metaclip_sql.sample import sample_pages


def test_sample_pages_are_reproducible() -> None:
    assert sample_pages(20, seed=1) == sample_pages(20, seed=1)
    assert sample_pages(20, seed=1) != sample_pages(20, seed=2)


def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    result = run_demo(tmp_path, pages=120, t=10)
    [shard] = result.extract.shards
    assert shard.status == "ok" and shard.html_pages == 121 and shard.errors == 0
    assert shard.non_http_urls == 120  # one data: image per page
    rows = pq.read_table(tmp_path / "matched" / "sample.warc.gz.parquet")
    assert rows.num_rows == shard.rows > 300
    assert set(rows.column("lang").to_pylist()) == {"en"}
    curated = pq.read_table(tmp_path / "balanced" / "curated.parquet")
    assert 0 < curated.num_rows < rows.num_rows  # head entries were sampled down
    assert curated.num_rows == result.balance.kept
    assert (tmp_path / "balanced" / "manifest.json").exists()


def test_demo_command(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(app, ["demo", "--out", str(out), "--pages", "40"])
    assert result.exit_code == 0, result.output
    assert "1 shards (0 failed" in result.output and "kept" in result.output
