"""Balance on a Ray cluster: MetaCLIP 1's SQL (v1.py), run per hash partition of uuid.

Counts are decomposable, so the pool never has to sit on one machine:

1. map: one task per group of input shards writes its candidate rows (`005`, `009`) split into
   N partitions by a hash of uuid (`008`), so every copy of a (uuid, text) meets in one (DuckDB's
   hash: the driver checks that every map task ran the same DuckDB version);
2. count: one task per partition runs `009` and steps.count_pool, as local does, and returns its
   `match_counts`;
3. the driver sums them (`022`), runs steps.probabilities as local does, and puts the pool's
   `entry_counts` and `t` in the object store;
4. sample: one task per partition runs `030` on those, `009`/`010` again, then steps.sample as
   local does into its part of `curated/`, and returns its kept counts and totals;
5. the driver sums those (`065`), writes `entry_counts.parquet` (`070`) and the manifest, and
   renames everything into place.

The rows are those of the local distributor for the same seed: the dedup tie-break reads the
original `filename` and `file_row_number` carried through the map, and each draw is a hash of the
row, not of where it ran. Tasks write under temporary names and rename when complete, so a retried
task (`max_retries`) replaces a dead attempt's output instead of adding to it. Paths are local;
on a cluster of several machines `--out` and the inputs must be on a filesystem they all share.
"""

from __future__ import annotations

import math
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from metaclip_sql.balance import manifest, options, pool, steps
from metaclip_sql.balance.inputs import (
    check_pairs_files,
    define_inputs,
    load_metadata,
    register_metadata,
    resolve_parquet_inputs,
    resolve_paths,
    valid_input,
)
from metaclip_sql.balance.options import DEFAULT_MAX_RETRIES, DEFAULT_SEED, BalanceError
from metaclip_sql.balance.results import BalanceResult
from metaclip_sql.balance.steps import Steps
from metaclip_sql.duck import session
from metaclip_sql.io.staging import OutputStaging
from metaclip_sql.runtime import ray as ray_runtime
from metaclip_sql.runtime.ray import Fault, fault_point
from metaclip_sql.schema import PAIRS_SCHEMA

#: Input bytes per partition when --partitions is not given: small enough for one task's memory.
PARTITION_BYTES = 1 << 30
#: Input bytes per map task: enough that each task's per-partition files are not tiny.
MAP_TASK_BYTES = 256 << 20

#: The columns the map step writes: the extract's, plus where each row came from (dedup ties).
_ROW_SCHEMA = pa.schema(
    [*PAIRS_SCHEMA, pa.field("filename", pa.string()), pa.field("file_row_number", pa.int64())]
)


@dataclass(frozen=True)
class _Plan:
    """What every task needs: picklable, sent with each task."""

    spill: Path
    langs: list[str] | None
    seed: int
    unit: str
    partitions: int
    threads: int
    memory_limit: str | None
    valid_files: list[Path]
    without_key: frozenset[Path]  # input files with no pair_key column (it is computed)
    entry_modulus: int  # for metaclip_entry_slot (entry_slots.py), from the inputs' footers
    dry_run: bool
    curated_dir: Path
    faults: tuple[Fault, ...] = ()

    @property
    def map_dir(self) -> Path:
        return self.spill / "map"


@dataclass
class _MapResult:
    duckdb_version: str  # the partition hash is DuckDB's: every map task must run the same one
    rows: int | None = None  # rows left after --valid-uuids (None without it)
    valid_ids: int | None = None


@dataclass
class _PartitionResult:
    counts: pa.Table  # match_counts or kept_counts of one partition
    duplicates: int = 0
    dropped_top: int | None = None  # largest entry id on a dropped duplicate (count step)
    totals: pa.Table | None = None  # kept_totals of one partition (sample step)


def balance_ray(
    inputs: Sequence[str | Path],
    *,
    t: float | None = None,
    p: float | None = None,
    out: str | Path = "balanced",
    seed: int = DEFAULT_SEED,
    lang: str = "en",
    metadata: str | Path | None = None,
    valid_uuids: Sequence[str | Path] = (),
    unit: str = "pair",
    memory_limit: str | None = None,
    threads: int | None = None,
    dry_run: bool = False,
    ray_address: str | None = None,
    partitions: int | None = None,
    max_retries: int = DEFAULT_MAX_RETRIES,
    faults: Sequence[Fault] = (),
) -> BalanceResult:
    """`balance` on Ray: the same outputs, with `curated/` as one part per partition.

    `threads` is DuckDB's threads per task and the CPUs each task asks Ray for (default 1).
    `faults` is for tests (see Fault).
    """
    options.check_threshold(t, p, unit)
    options.check_ray_options(partitions, max_retries)
    files = resolve_parquet_inputs(inputs)
    checked = check_pairs_files(files)
    valid_files = resolve_paths(valid_uuids, "--valid-uuids") if valid_uuids else []
    entries = load_metadata(metadata)
    langs = options.parse_langs(lang)
    ray_runtime.import_ray()  # before anything is read: fail in a second
    split: dict[str, Any] = {}

    def body(con: duckdb.DuckDBPyConnection, staging: OutputStaging) -> BalanceResult:
        if valid_files:
            valid_input(con, valid_files)  # bad files fail here, before any task
        with ray_runtime.session(ray_address) as ray:
            cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
            input_bytes = sum(f.stat().st_size for f in files)
            plan = _Plan(
                spill=staging.spill_dir(),
                langs=langs,
                seed=seed,
                unit=unit,
                partitions=partitions or max(cpus, math.ceil(input_bytes / PARTITION_BYTES)),
                threads=threads or 1,
                memory_limit=memory_limit,
                valid_files=valid_files,
                without_key=checked.without_key,
                entry_modulus=checked.entry_modulus,
                dry_run=dry_run,
                curated_dir=staging.temp("curated"),
                faults=tuple(faults),
            )
            groups = _groups(files, max(cpus, math.ceil(input_bytes / MAP_TASK_BYTES)))
            split.update(  # what the manifest adds for a Ray run: how the pool was split
                partitions=plan.partitions,
                map_tasks=len(groups),
                threads_per_task=plan.threads,
                curated_parts="curated/part-<partition>.parquet",
            )
            tasks = _Tasks(ray, plan, max_retries)
            return _drive(con, tasks, staging, plan, groups, checked.rows, entries, t, p, lang)

    def record(result: BalanceResult) -> dict:
        how = {"distributor": "ray", "plan": result.plan, **split}
        meta = manifest.list_record(metadata, entries)
        return manifest.build_manifest("balance", steps.V1, result, files, valid_files, meta, how)

    return steps.run_staged(
        Path(out), dry_run, memory_limit, threads, body, record, curated="curated", spill="driver"
    )


def _drive(
    con: duckdb.DuckDBPyConnection,
    tasks: _Tasks,
    staging: OutputStaging,
    plan: _Plan,
    groups: list[list[Path]],
    rows_in: int,
    entries: list[str] | None,
    t: float | None,
    p: float | None,
    lang: str,
) -> BalanceResult:
    """The five steps of the module docstring, timed; the driver only holds per-entry tables."""
    started = time.perf_counter()
    run = steps.start_v1(con, plan.langs, plan.seed, plan.entry_modulus)
    mapped = tasks.run(_map_task, [(i, g) for i, g in enumerate(groups)], "map")
    _check_same_hash(mapped)
    counted = tasks.run(_count_task, [(k,) for k in range(plan.partitions)], "count")
    _register(con, "partial_match_counts", [r.counts for r in counted])
    run.run("022_sum_match_counts.sql")
    counts = pool.pool_counts(con, rows_in, sum(r.duplicates for r in counted))
    counts["files_without_pair_key"] = len(plan.without_key)
    tops = [r.dropped_top for r in counted if r.dropped_top is not None]
    pool.check_dropped_ids(con, max(tops, default=None))
    unmatched = None
    if counts["pairs"] == 0 and plan.valid_files and sum(m.rows or 0 for m in mapped) == 0:
        unmatched = mapped[0].valid_ids or 0
    pool.check_pool(con, counts, lang, entries, unmatched)
    t, tail_proportion, head_entries, n_entries = steps.probabilities(run, t, p)
    pool_counts = tasks.put(con.table("entry_counts").to_arrow_table())
    args = [(k, pool_counts, t) for k in range(plan.partitions)]
    sampled = tasks.run(_sample_task, args, "sample")
    _register(con, "partial_kept_counts", [r.counts for r in sampled])
    _register(con, "partial_kept_totals", [r.totals for r in sampled])
    run.run("065_sum_kept_counts.sql")
    register_metadata(con, entries)
    run.run(
        "070_write_entry_counts.sql",
        path=str(staging.temp("entry_counts.parquet")),
        with_kept=not plan.dry_run,
    )
    counts["kept"] = pool.total(con, "kept_totals", "kept")
    counts["entries"], counts["head_entries"] = n_entries, head_entries
    seconds = {**tasks.seconds, **run.seconds, "total": time.perf_counter() - started}
    return BalanceResult(
        out=staging.out,
        dry_run=plan.dry_run,
        t=t,
        p=p,
        tail_proportion=tail_proportion,
        seed=plan.seed,
        lang=lang,
        unit=plan.unit,
        counts=counts,
        seconds=seconds,
    )


# --- Ray ---------------------------------------------------------------------------------------


class _Tasks:
    """Submits one stage's tasks, waits for all of them, and turns task errors into one line."""

    def __init__(self, ray: Any, plan: _Plan, max_retries: int) -> None:
        self.ray = ray
        self.plan = plan
        self.max_retries = max_retries
        self.seconds: dict[str, float] = {}

    def put(self, value: Any) -> Any:
        return self.ray.put(value)

    def run(self, fn: Callable[..., Any], args: list[tuple], stage: str) -> list[Any]:
        started = time.perf_counter()
        remote = self.ray.remote(fn).options(
            num_cpus=self.plan.threads,
            max_retries=self.max_retries,
            retry_exceptions=[OSError],
        )
        refs = [remote.remote(self.plan, *a) for a in args]
        try:
            results = self.ray.get(refs)
        except self.ray.exceptions.RayTaskError as exc:
            self.cancel_unfinished(refs)
            cause = getattr(exc, "cause", None) or exc
            raise BalanceError(f"{stage} task failed: {session.one_line(cause)}") from exc
        except self.ray.exceptions.RayError as exc:
            raise BalanceError(f"{stage} task lost: {session.one_line(exc)}") from exc
        self.seconds[stage] = time.perf_counter() - started
        return results

    def cancel_unfinished(self, refs: list[Any]) -> None:
        """Stop the stage's other tasks once one failed for good. Finished ones, the failed task
        among them, are left alone: cancelling a task whose failure Ray is still recording can
        abort the driver (docs/balance.md, "Why the SQL is written this way")."""
        try:
            _, unfinished = self.ray.wait(refs, num_returns=len(refs), timeout=0, fetch_local=False)
            for ref in unfinished:
                self.ray.cancel(ref, force=True)
        except self.ray.exceptions.RayError:
            pass  # the task's own error is the one to report


def _groups(files: list[Path], tasks: int) -> list[list[Path]]:
    """Contiguous groups of the sorted files, at most `tasks` of them, none empty."""
    n = max(1, min(tasks, len(files)))
    bounds = [len(files) * i // n for i in range(n + 1)]
    return [files[bounds[i] : bounds[i + 1]] for i in range(n)]


# --- tasks (run in Ray workers) ----------------------------------------------------------------


def _map_task(plan: _Plan, index: int, files: list[Path]) -> _MapResult:
    """Route one group's candidate rows to the partitions of their uuids (008_partition.sql)."""
    final = plan.map_dir / f"task-{index:05d}"
    temp = plan.spill / "tmp" / f"map-{index:05d}.{uuid.uuid4().hex}"
    temp.parent.mkdir(parents=True, exist_ok=True)
    plan.map_dir.mkdir(parents=True, exist_ok=True)
    result = _MapResult(duckdb.__version__)
    with _task_steps(plan, f"map-{index}") as run:
        define_inputs(run.con, files, plan.without_key, plan.valid_files)
        steps.select_candidates(run, bool(plan.valid_files))
        if plan.valid_files:
            result.rows = pool.count_rows(run.con, "shards")
            result.valid_ids = pool.count_rows(run.con, "valid_ids")
        run.rows("008_partition.sql", partitions=plan.partitions, path=str(temp))
    temp.mkdir(parents=True, exist_ok=True)  # no candidate rows: an empty output is complete too
    fault_point(plan.faults, "map", index)
    _replace(temp, final)
    return result


def _count_task(plan: _Plan, part: int) -> _PartitionResult:
    """Dedup and count one partition as local does (steps.count_pool), over rows that meet only
    here."""
    with _task_steps(plan, f"count-{part}") as run:
        _partition_view(run.con, plan, part)
        steps.select_candidates(run, False)
        counted = steps.count_pool(run)
        counts = run.con.table("match_counts").to_arrow_table()
    fault_point(plan.faults, "count", part)
    return _PartitionResult(counts, counted.duplicates, counted.dropped_top)


def _sample_task(plan: _Plan, part: int, entry_counts: pa.Table, t: float) -> _PartitionResult:
    """Sample one partition with the pool's probabilities; write its curated part, count it."""

    def publish(temp: Path) -> Path:
        final = plan.curated_dir / f"part-{part:05d}.parquet"
        fault_point(plan.faults, "sample", part)
        os.replace(temp, final)
        return final

    with _task_steps(plan, f"sample-{part}") as run:
        run.con.register("entry_counts", entry_counts)
        run.rows("030_probs.sql", t=t)
        _partition_view(run.con, plan, part)
        steps.select_candidates(run, False)
        run.run("common/010_pairs.sql")
        curated = None
        if not plan.dry_run:
            curated = plan.spill / "tmp" / f"part-{part:05d}.{uuid.uuid4().hex}.parquet"
            curated.parent.mkdir(parents=True, exist_ok=True)
            plan.curated_dir.mkdir(parents=True, exist_ok=True)
        steps.sample(run, plan.unit, curated, publish)
        return _PartitionResult(
            counts=run.con.table("kept_counts").to_arrow_table(),
            totals=run.con.table("kept_totals").to_arrow_table(),
        )


@contextmanager
def _task_steps(plan: _Plan, name: str) -> Iterator[Steps]:
    """A MetaCLIP 1 session for one task attempt (steps.start_v1), with a spill dir of its own."""
    spill = plan.spill / "tasks" / f"{name}.{uuid.uuid4().hex}"
    spill.mkdir(parents=True)
    con = session.connect(spill, plan.memory_limit, plan.threads)
    try:
        yield steps.start_v1(con, plan.langs, plan.seed, plan.entry_modulus)
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)


def _partition_view(con: duckdb.DuckDBPyConnection, plan: _Plan, part: int) -> None:
    """`shards` for one partition: every map task's file for it (none when no row hashed here)."""
    files = sorted(plan.map_dir.glob(f"task-*/part={part}/*.parquet"))
    if files:
        rows = con.read_parquet([str(f) for f in files], hive_partitioning=False)
    else:
        rows = con.from_arrow(_ROW_SCHEMA.empty_table())
    rows.create_view("shards")


def _replace(temp: Path, final: Path) -> None:
    """Put a finished directory in place; an earlier attempt's complete output is replaced."""
    if final.exists():
        shutil.rmtree(final)
    os.replace(temp, final)


# --- driver ------------------------------------------------------------------------------------


def _register(con: duckdb.DuckDBPyConnection, name: str, tables: list[pa.Table]) -> None:
    con.register(name, pa.concat_tables(tables))


def _check_same_hash(mapped: list[_MapResult]) -> None:
    """Duplicates only meet when every map task hashed uuids alike, i.e. with one DuckDB."""
    versions = sorted({m.duckdb_version for m in mapped})
    if len(versions) > 1:
        raise BalanceError(
            f"the Ray workers run different DuckDB versions ({', '.join(versions)}): install one "
            "version on every node, so that copies of a pair land in the same partition"
        )
