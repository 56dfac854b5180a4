"""stats and plot on a worldwide pool: one language at a time, and every language's t at t_en."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from metaclip_sql.balance.v2 import balance_worldwide
from metaclip_sql.cli import app
from metaclip_sql.explore import ExploreError, compute_stats, open_pool
from tests.helpers.pools import zipf_pool


@pytest.fixture
def world(tmp_path: Path) -> tuple[Path, Path]:
    zipf_pool(tmp_path / "pool" / "en", images=3000, entries=150, langs=("en",), seed=1)
    zipf_pool(tmp_path / "pool" / "de", images=1200, entries=60, langs=("de",), seed=2)
    meta = tmp_path / "meta"
    meta.mkdir()
    for lang, size in (("en", 150), ("de", 60)):
        (meta / f"{lang}.json").write_text(json.dumps([f"{lang}-{i}" for i in range(size)]))
    return tmp_path / "pool", meta


def test_stats_one_language_names_its_entries(world: tuple[Path, Path]) -> None:
    pool_dir, meta = world
    with open_pool([pool_dir], meta, lang="de") as pool:
        stats = compute_stats(pool, ts=[20], top=3)
    assert [r["lang"] for r in stats.languages] == ["de"]
    assert all(e["entry"].startswith("de-") for e in stats.top_entries)
    with pytest.raises(ExploreError, match="give --lang"):
        open_pool([pool_dir], meta)


def test_stats_t_en_agrees_with_balance_worldwide(world: tuple[Path, Path], tmp_path: Path) -> None:
    pool_dir, meta = world
    result = balance_worldwide([pool_dir], t_en=30, out=tmp_path / "out", dry_run=True)
    runner = CliRunner()
    args = ["stats", "--data", str(pool_dir), "--metadata", str(meta), "--lang", "en"]
    shown = runner.invoke(app, [*args[:3], "--t-en", "30", "--json"])
    assert shown.exit_code == 0, shown.output
    rows = json.loads(shown.output)["language_thresholds"]
    assert {r["lang"]: r["t"] for r in rows} == {k: v["t"] for k, v in result.languages.items()}
    assert {r["lang"]: r["tail_proportion"] for r in rows} == pytest.approx(
        {k: v["tail_proportion"] for k, v in result.languages.items()}
    )
    text = runner.invoke(app, [*args[:3], "--t-en", "30"])
    assert "per language at English's tail proportion" in text.output
    one = runner.invoke(app, args)
    assert one.exit_code == 0 and "en-" in one.output


def test_plot_and_balance_output_per_language(world: tuple[Path, Path], tmp_path: Path) -> None:
    pool_dir, meta = world
    out = tmp_path / "balanced"
    balance_worldwide([pool_dir], t_en=30, out=out, metadata=meta)
    runner = CliRunner()
    png = tmp_path / "de.png"
    args = ["plot", "--data", str(out), "--metadata", str(meta), "--lang", "de", "-o", str(png)]
    shown = runner.invoke(app, args)
    assert shown.exit_code == 0, shown.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bad = runner.invoke(app, ["stats", "--data", str(out)])
    assert bad.exit_code == 2 and "--lang" in bad.output
