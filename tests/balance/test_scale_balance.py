"""balance --distributor ray: the local distributor's rows and entry counts, whatever the partitions.

One local Ray instance with 2 CPUs serves the module (or the one another module already started).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from metaclip_sql.balance.ray import Fault, _Tasks, balance_ray
from metaclip_sql.balance.v1 import BalanceError, BalanceResult, balance
from metaclip_sql.cli import app
from metaclip_sql.errors import MetaclipError
from tests.helpers.pools import Pool, zipf_pool

ray = pytest.importorskip("ray")

T = 40
SEED = 3


@pytest.fixture(scope="module", autouse=True)
def ray_instance():
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    if started:
        ray.shutdown()


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Pool:
    """5 shards, a fifth of the pairs repeated in another shard, two languages, some unmatched."""
    return zipf_pool(
        tmp_path_factory.mktemp("pool"),
        images=3000,
        entries=80,
        shards=5,
        dup_share=0.2,
        langs=("en", "de"),
        unmatched_share=0.1,
    )


@pytest.fixture(scope="module")
def local_pair(pool: Pool, tmp_path_factory: pytest.TempPathFactory) -> BalanceResult:
    return balance(pool.files, t=T, seed=SEED, out=tmp_path_factory.mktemp("local"))


def outputs(result: BalanceResult) -> tuple[list[tuple], list[dict]]:
    """Curated rows sorted (a directory of parts or one file) and the entry_counts rows."""
    rows = pq.read_table(result.files["curated"]).to_pylist()
    curated = sorted(tuple(_freeze(v) for v in row.values()) for row in rows)
    return curated, pq.read_table(result.files["entry_counts"]).to_pylist()


def _freeze(value):
    return tuple(value) if isinstance(value, list) else value


def assert_same(ray_result: BalanceResult, local_result: BalanceResult) -> None:
    ray_rows, ray_counts = outputs(ray_result)
    local_rows, local_counts = outputs(local_result)
    assert len(ray_rows) == len(set(ray_rows)), "a row written twice"
    assert ray_rows == local_rows
    assert ray_counts == local_counts
    assert ray_result.counts == local_result.counts


@pytest.mark.parametrize("partitions", [1, 3])
def test_ray_keeps_the_local_rows_whatever_the_partitions(
    pool: Pool, local_pair: BalanceResult, tmp_path: Path, partitions: int
) -> None:
    result = balance(
        pool.files, t=T, seed=SEED, out=tmp_path, distributor="ray", partitions=partitions
    )
    assert local_pair.counts["duplicates"] > 0 and local_pair.counts["head_entries"] > 0
    assert_same(result, local_pair)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "curated",
        "entry_counts.parquet",
        "manifest.json",
    ], "no temporary file is left"
    parts = sorted(p.name for p in (tmp_path / "curated").iterdir())
    assert parts == [f"part-{k:05d}.parquet" for k in range(partitions)]
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["distributor"] == "ray" and manifest["partitions"] == partitions
    assert json.loads(Path(local_pair.files["manifest"]).read_text())["distributor"] == "local"


def test_unit_image_on_ray_keeps_the_local_rows(pool: Pool, tmp_path: Path) -> None:
    local = balance(pool.files, t=T, seed=SEED, unit="image", out=tmp_path / "local")
    result = balance_ray(
        pool.files, t=T, seed=SEED, unit="image", out=tmp_path / "ray", partitions=2
    )
    assert_same(result, local)


def test_valid_uuids_p_and_all_languages_on_ray(pool: Pool, tmp_path: Path) -> None:
    uuids = sorted({row["uuid"] for row in pool.rows})[::2]
    valid = tmp_path / "valid.txt"
    valid.write_text("\n".join(uuids) + "\n")
    options = {"p": 0.3, "seed": SEED, "lang": "all", "valid_uuids": [valid]}
    local = balance(pool.files, out=tmp_path / "local", **options)
    result = balance_ray(pool.files, out=tmp_path / "ray", partitions=2, **options)
    assert_same(result, local)
    assert result.t == local.t


def test_dry_run_on_ray_counts_what_local_keeps(
    pool: Pool, local_pair: BalanceResult, tmp_path: Path
) -> None:
    result = balance_ray(pool.files, t=T, seed=SEED, out=tmp_path, dry_run=True, partitions=2)
    assert result.counts == local_pair.counts
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "entry_counts.dry-run.parquet",
        "manifest.dry-run.json",
    ]


def test_killed_and_failing_tasks_are_retried_without_loss_or_duplicates(
    pool: Pool, local_pair: BalanceResult, tmp_path: Path
) -> None:
    faults = [
        Fault("map", 1, "kill", tmp_path / "map-1"),
        Fault("count", 0, "raise", tmp_path / "count-0"),
        Fault("sample", 2, "kill", tmp_path / "sample-2"),
    ]
    out = tmp_path / "out"
    result = balance_ray(pool.files, t=T, seed=SEED, out=out, partitions=3, faults=faults)
    assert all(f.marker.exists() for f in faults), "every fault fired once"
    assert_same(result, local_pair)
    assert len(list((out / "curated").iterdir())) == 3


def test_a_task_failing_for_good_leaves_nothing(pool: Pool, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(BalanceError, match="sample task"):
        balance_ray(
            pool.files,
            t=T,
            out=out,
            partitions=2,
            max_retries=0,
            faults=[Fault("sample", 1, "raise", tmp_path / "marker")],
        )
    assert not out.exists(), "nothing half-written is visible"


def test_after_a_failure_only_unfinished_tasks_are_cancelled() -> None:
    """Cancelling the task whose failure Ray is still recording aborted the driver once."""

    class FakeRay:
        def __init__(self) -> None:
            self.cancelled: list[str] = []

        def wait(self, refs, num_returns, timeout, fetch_local):
            assert (num_returns, timeout, fetch_local) == (len(refs), 0, False)
            return [r for r in refs if r.startswith("done")], [
                r for r in refs if not r.startswith("done")
            ]

        def cancel(self, ref, force):
            self.cancelled.append(ref)

    fake = FakeRay()
    _Tasks(fake, plan=None, max_retries=0).cancel_unfinished(["done-failed", "running", "done-ok"])
    assert fake.cancelled == ["running"]


def test_without_ray_the_error_says_what_to_install(
    pool: Pool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(MetaclipError, match=r"pip install 'metaclip-sql\[ray\]'"):
        balance(pool.files, t=T, out=tmp_path, distributor="ray")


def test_cli_balance_on_ray_replaces_a_local_output(
    pool: Pool, local_pair: BalanceResult, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    balance(pool.files, t=T, seed=SEED, out=out)
    files = [str(f) for f in pool.files]
    args = ["balance", *files, "--t", str(T), "--seed", str(SEED), "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--distributor", "ray", "--partitions", "2"])
    assert result.exit_code == 0, result.output
    assert not (out / "curated.parquet").exists(), "one curated output, the newest"
    rows = pq.read_table(out / "curated").num_rows
    assert rows == local_pair.kept
    usage = CliRunner().invoke(app, [*args, "--partitions", "2"])
    assert usage.exit_code == 2 and "--distributor ray" in usage.output
