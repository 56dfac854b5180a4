"""stats --survival: the t to curate with before download, checked against a simulated download.

The simulation is the workflow the plan describes: balance the pool at t_before, "download"
the curated images with a share S of them surviving (a fixed hash of the uuid decides, so every
scenario loses the same images), then balance the pool again at the target t with
--valid-uuids <survivors>. The ideal is every image downloaded: the pool balanced at t over
the S share that survives. The plan's expected sizes must match the runs, and its recommended
t_before must leave every head entry as full as the ideal, where curating at t does not.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from metaclip_sql.balance import balance
from metaclip_sql.cli import app
from metaclip_sql.explore import (
    ExploreError,
    open_pool,
    recommended_t_before,
    stats_with_survival,
    survival_plans,
)
from tests.helpers.pools import Pool, zipf_pool

S, T = 0.6, 150.0


def survives(uuid: str) -> bool:
    return int(hashlib.md5(uuid.encode()).hexdigest()[:8], 16) / 2**32 < S


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Pool:
    folder = tmp_path_factory.mktemp("survival") / "pool"
    return zipf_pool(folder, images=20_000, entries=300, shards=2, dup_share=0.02)


def _kept_per_entry(out: Path) -> dict[int, int]:
    return dict(duckdb.sql(f"SELECT entry_id, kept FROM '{out}/entry_counts.parquet'").fetchall())


def test_recommended_t_before_formula() -> None:
    assert recommended_t_before(20_000, 1.0, z=0) == 20_000
    assert recommended_t_before(20_000, 0.5, z=0) == 40_000
    # mu - z sqrt(mu) = t at mu = (z/2 + sqrt(z^2/4 + t))^2
    mu = recommended_t_before(20_000, 1.0, z=2)
    assert mu - 2 * math.sqrt(mu) == pytest.approx(20_000, abs=2)
    assert recommended_t_before(150, 0.6) == math.ceil((1 + math.sqrt(151)) ** 2 / 0.6)
    for bad in (0, -0.1, 1.5):
        with pytest.raises(ExploreError, match="--survival"):
            recommended_t_before(100, bad)


@pytest.mark.parametrize("unit", ["pair", "image"])
def test_plan_against_a_simulated_download(pool: Pool, tmp_path: Path, unit: str) -> None:
    with open_pool([pool.files[0].parent]) as p:
        (plan,) = survival_plans(p, S, [T], unit=unit)
    assert plan.t_before == recommended_t_before(T, S)
    images = sorted({r["uuid"] for r in pool.rows})
    ideal_valid = tmp_path / "ideal.txt"
    ideal_valid.write_text("\n".join(u for u in images if survives(u)) + "\n")
    ideal = balance(
        pool.files, t=T, out=tmp_path / "ideal", lang="all", unit=unit, valid_uuids=[ideal_valid]
    )
    assert ideal.kept == pytest.approx(plan.expected_pairs_ideal, rel=0.03)
    ideal_kept = _kept_per_entry(tmp_path / "ideal")
    counts = pool.entry_counts()
    heads = [e for e, c in counts.items() if S * c > T]
    assert len(heads) == plan.head_entries > 20

    ratios = {}
    for row in plan.rows:
        before = balance(pool.files, t=row.t_before, out=tmp_path / "b", lang="all", unit=unit)
        got = sorted(
            {
                u
                for (u,) in duckdb.sql(
                    f"SELECT uuid FROM '{tmp_path}/b/curated.parquet'"
                ).fetchall()
            }
        )
        survivors = [u for u in got if survives(u)]
        valid = tmp_path / "valid.txt"
        valid.write_text("\n".join(survivors) + "\n")
        after = balance(
            pool.files, t=T, out=tmp_path / "a", lang="all", unit=unit, valid_uuids=[valid]
        )
        assert before.kept == pytest.approx(row.expected_pairs_before, rel=0.02)
        assert len(got) == pytest.approx(row.expected_images_before, rel=0.02)
        assert len(survivors) == pytest.approx(row.expected_images_after, rel=0.03)
        assert after.counts["pairs"] == pytest.approx(row.expected_pairs_available, rel=0.03)
        assert after.kept == pytest.approx(row.expected_pairs_after, rel=0.03)
        kept = _kept_per_entry(tmp_path / "a")
        ratios[row.label] = (
            sum(kept.get(e, 0) for e in heads) / sum(ideal_kept[e] for e in heads),
            min(kept.get(e, 0) / ideal_kept[e] for e in heads),
        )
    naive, recommended = plan.rows[0], plan.rows[-1]
    assert naive.t_before == T and recommended.t_before == plan.t_before
    # curating at the target t now leaves the head short after download, and the plan says so
    assert naive.head_short > 0 and ratios[naive.label][0] < 0.97
    # the recommended t_before fills every head entry as the ideal would
    assert recommended.head_short == 0
    assert ratios[recommended.label][0] >= 0.99
    assert ratios[recommended.label][1] >= 0.95


def test_stats_survival_cli_and_json(pool: Pool) -> None:
    runner = CliRunner()
    args = ["stats", "-d", str(pool.files[0].parent), "--t", "150", "--survival", "0.6"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "target t=150: curate with t=295 now" in result.output
    assert "t / S" in result.output and "curate at t now" in result.output
    result = runner.invoke(app, [*args, "--json", "--unit", "image"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert record["pool"]["pairs"] > 0  # the stats are all there
    (plan,) = record["survival"]
    assert plan["t"] == 150 and plan["unit"] == "image" and len(plan["rows"]) == 3
    result = runner.invoke(app, [*args[:-1], "1.5"])
    assert result.exit_code == 2 and "--survival must be in (0, 1]" in result.output


def test_stats_with_survival_reads_the_pool_once_for_both(pool: Pool) -> None:
    stats, plans = stats_with_survival([pool.files[0].parent], ts=[150, 400], survival=0.8)
    assert [th.t for th in stats.thresholds] == [150, 400]
    assert [p.t for p in plans] == [150, 400]
    assert all(p.t_before == recommended_t_before(p.t, 0.8) for p in plans)
    # more survival, less to curate before: t_before shrinks towards t as S grows
    with open_pool([pool.files[0].parent]) as p:
        (full,) = survival_plans(p, 1.0, [150], z=0)
    assert full.t_before == 150 and full.rows[-1].head_short == 0
