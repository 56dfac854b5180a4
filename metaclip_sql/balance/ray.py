"""Balance on a Ray cluster: the SQL of `balance.py`, run per hash partition of uuid.

Counts are decomposable, so the pool never has to sit on one machine:

1. map: one task per group of input shards runs `008_partition.sql`, which writes its candidate
   rows split into N partitions by a hash of uuid, so every copy of a (uuid, text) meets in one
   (DuckDB's hash: the driver checks that every map task ran the same DuckDB version);
2. count: one task per partition runs `009_candidates.sql`, `010_pairs.sql` and
   `020_entry_counts.sql`, as local does, and returns its `match_counts`;
3. the driver sums them (`022_sum_match_counts.sql`), runs `025`/`030` as local does, and puts
   the pool's `entry_counts` and `t` in the object store;
4. sample: one task per partition runs `007`/`030` on those (so it holds the pool's
   probabilities in whatever form `040` reads them), `009`/`010` again, then `040`/`041` and
   `050` into its part of `curated/`, and returns its kept counts (`060`);
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

from metaclip_sql.balance import entry_slots
from metaclip_sql.balance import v1 as local
from metaclip_sql.balance.v1 import BalanceError, BalanceResult
from metaclip_sql.runtime import ray as ray_runtime
from metaclip_sql.runtime.ray import Fault, fault_point
from metaclip_sql.schema import PAIRS_SCHEMA

#: Input bytes per partition when --partitions is not given: small enough for one task's memory.
PARTITION_BYTES = 1 << 30
#: Input bytes per map task: enough that each task's per-partition files are not tiny.
MAP_TASK_BYTES = 256 << 20
DEFAULT_MAX_RETRIES = 3

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


def balance_ray(
    inputs: Sequence[str | Path],
    *,
    t: float | None = None,
    p: float | None = None,
    out: str | Path = "balanced",
    seed: int = local.DEFAULT_SEED,
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
    """`balance.balance` on Ray: the same outputs, with `curated/` as one part per partition.

    `threads` is DuckDB's threads per task and the CPUs each task asks Ray for (default 1).
    `faults` is for tests (see Fault).
    """
    local._check_options(t, p, unit)
    _check_ray_options(partitions, max_retries)
    files = local.resolve_parquet_inputs(inputs)
    checked = local.check_pairs_files(files)
    valid_files = local.resolve_paths(valid_uuids, "--valid-uuids") if valid_uuids else []
    entries = local._load_metadata(metadata)
    langs = local.parse_langs(lang)
    ray_runtime.import_ray()  # before anything is read: fail in a second
    run = local._Run(Path(out), dry_run)
    try:
        with ray_runtime.session(ray_address) as ray:
            spill = run.spill_dir()
            con = local._connect(spill / "driver", memory_limit, threads)
            try:
                if valid_files:
                    local._valid_input(con, valid_files)  # bad files fail here, before any task
                cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
                input_bytes = sum(f.stat().st_size for f in files)
                plan = _Plan(
                    spill=spill,
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
                    curated_dir=run.temp("curated"),
                    faults=tuple(faults),
                )
                groups = _groups(files, max(cpus, math.ceil(input_bytes / MAP_TASK_BYTES)))
                tasks = _Tasks(ray, plan, max_retries)
                result = _drive(con, tasks, run, plan, groups, checked.rows, entries, t, p, lang)
            finally:
                con.close()
            result.leftovers = run.leftovers
            result.manifest = local._manifest(result, files, valid_files, metadata, entries)
            result.manifest |= _ray_record(plan, len(groups))
            result.files = run.commit(result.manifest, curated="curated")
            return result
    except duckdb.Error as exc:
        raise BalanceError(local._one_line(str(exc))) from exc
    finally:
        run.cleanup()


def _check_ray_options(partitions: int | None, max_retries: int) -> None:
    if partitions is not None and partitions < 1:
        raise BalanceError(f"--partitions must be >= 1, got {partitions}")
    if max_retries < 0:
        raise BalanceError(f"--max-retries must be >= 0, got {max_retries}")


def _ray_record(plan: _Plan, map_tasks: int) -> dict[str, Any]:
    """What the manifest adds for a Ray run: how the pool was split."""
    return {
        "distributor": "ray",
        "partitions": plan.partitions,
        "map_tasks": map_tasks,
        "threads_per_task": plan.threads,
        "curated_parts": "curated/part-<partition>.parquet",
    }


def _drive(
    con: duckdb.DuckDBPyConnection,
    tasks: _Tasks,
    run: local._Run,
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
    steps = local._Steps(con)
    mapped = tasks.run(_map_task, [(i, g) for i, g in enumerate(groups)], "map")
    _check_same_hash(mapped)
    counted = tasks.run(_count_task, [(k,) for k in range(plan.partitions)], "count")
    _register(con, "partial_match_counts", [r.counts for r in counted])
    steps.run("022_sum_match_counts.sql")
    counts = local.pool_counts(con, rows_in, sum(r.duplicates for r in counted))
    counts["files_without_pair_key"] = len(plan.without_key)
    tops = [r.dropped_top for r in counted if r.dropped_top is not None]
    local.check_dropped_ids(con, max(tops, default=None))
    _check_pool(con, counts, mapped, plan, lang, entries)
    if p is not None:
        t = float(steps.run("025_p_to_t.sql", p=p).fetchall()[0][0])
    steps.run("007_keep_rule.sql")
    t, tail_proportion, head_entries, n_entries = steps.run("030_probs.sql", t=t).fetchall()[0]
    pool_counts = tasks.put(con.table("entry_counts").to_arrow_table())
    args = [(k, pool_counts, float(t)) for k in range(plan.partitions)]
    sampled = tasks.run(_sample_task, args, "sample")
    _register(con, "partial_kept_counts", [r.counts for r in sampled])
    steps.run("065_sum_kept_counts.sql")
    local._register_metadata(con, entries)
    steps.run(
        "070_write_entry_counts.sql",
        path=str(run.temp("entry_counts.parquet")),
        with_kept=not plan.dry_run,
    )
    counts["kept"] = local._scalar(con, "kept_counts", "kept", "entry_id", -1)
    counts["entries"], counts["head_entries"] = int(n_entries), int(head_entries)
    seconds = {**tasks.seconds, **steps.seconds, "total": time.perf_counter() - started}
    return BalanceResult(
        out=run.out,
        dry_run=plan.dry_run,
        t=float(t),
        p=p,
        tail_proportion=float(tail_proportion),
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
            raise BalanceError(f"{stage} task failed: {local._one_line(str(cause))}") from exc
        except self.ray.exceptions.RayError as exc:
            raise BalanceError(f"{stage} task lost: {local._one_line(str(exc))}") from exc
        self.seconds[stage] = time.perf_counter() - started
        return results

    def cancel_unfinished(self, refs: list[Any]) -> None:
        """Stop the stage's other tasks once one failed for good. Finished ones, the failed task
        among them, are left alone: Ray 2.60 can abort the driver when a task is cancelled while
        its failure is still being recorded ("Tried to complete task that was not pending", a
        race of the kind ray-project/ray#54798 fixed for retries); CI hit it once."""
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
    with _task_connection(plan, f"map-{index}") as con:
        local._define_inputs(con, files, plan.without_key, plan.valid_files, None)
        if plan.valid_files:
            _sql(con, "005_valid_ids.sql")
            result.rows = local._count(con, "shards")
            result.valid_ids = local._count(con, "valid_ids")
        _sql(con, "008_partition.sql", partitions=plan.partitions, path=str(temp))
    temp.mkdir(parents=True, exist_ok=True)  # no candidate rows: an empty output is complete too
    fault_point(plan.faults, "map", index)
    _replace(temp, final)
    return result


def _count_task(plan: _Plan, part: int) -> _PartitionResult:
    """Dedup and count one partition: local's 009, 010 and 020, over rows that meet only here."""
    with _task_connection(plan, f"count-{part}") as con:
        _partition_view(con, plan, part)
        _sql(con, "009_candidates.sql")
        _sql(con, "010_pairs.sql")
        _sql(con, "020_entry_counts.sql")
        counts = con.table("match_counts").to_arrow_table()
        duplicates = local._count(con, "duplicate_rows")
        dropped_top = _sql(con, "024_dropped_ids.sql")[0][0]
    fault_point(plan.faults, "count", part)
    return _PartitionResult(counts=counts, duplicates=duplicates, dropped_top=dropped_top)


def _sample_task(plan: _Plan, part: int, entry_counts: pa.Table, t: float) -> _PartitionResult:
    """Sample one partition with the pool's probabilities; write its curated part, count it."""
    with _task_connection(plan, f"sample-{part}") as con:
        con.register("entry_counts", entry_counts)
        _sql(con, "007_keep_rule.sql")
        _sql(con, "030_probs.sql", t=t)
        _partition_view(con, plan, part)
        _sql(con, "009_candidates.sql")
        _sql(con, "010_pairs.sql")
        _sql(con, "040_sample.sql")
        if plan.unit == "image":
            _sql(con, "041_sample_image.sql")
        if plan.dry_run:
            _sql(con, "055_kept_total.sql" if plan.unit == "pair" else "056_kept_total_image.sql")
        else:
            final = plan.curated_dir / f"part-{part:05d}.parquet"
            temp = plan.spill / "tmp" / f"part-{part:05d}.{uuid.uuid4().hex}.parquet"
            temp.parent.mkdir(parents=True, exist_ok=True)
            plan.curated_dir.mkdir(parents=True, exist_ok=True)
            _sql(con, "050_write_curated.sql", path=str(temp))
            fault_point(plan.faults, "sample", part)
            os.replace(temp, final)
            con.read_parquet(str(final)).create_view("kept_rows")
            _sql(con, "060_kept_counts.sql")
        return _PartitionResult(counts=con.table("kept_counts").to_arrow_table())


@contextmanager
def _task_connection(plan: _Plan, name: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB session for one task attempt: parameters set, a spill dir of its own."""
    spill = plan.spill / "tasks" / f"{name}.{uuid.uuid4().hex}"
    spill.mkdir(parents=True)
    con = local._connect(spill, plan.memory_limit, plan.threads)
    try:
        local.sqlrunner.run(con, local.COMMON_SQL)
        _sql(
            con,
            "000_params.sql",
            langs=plan.langs,
            seed=plan.seed,
            entry_modulus=plan.entry_modulus,
        )
        entry_slots.use_entry_slots(con, plan.entry_modulus)
        yield con
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


def _sql(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> list[tuple]:
    """Run one file of the version; a final SELECT's rows are read (and returned), so none is
    left pending."""
    return local.sqlrunner.run(con, f"{local.SQL_VERSION}/{name}", params).fetchall()


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


def _check_pool(
    con: duckdb.DuckDBPyConnection,
    counts: dict[str, int],
    mapped: list[_MapResult],
    plan: _Plan,
    lang: str,
    entries: list[str] | None,
) -> None:
    """The local run's checks, from the map tasks' numbers instead of the whole pool's tables."""
    if counts["pairs"] == 0 and plan.valid_files and sum(m.rows or 0 for m in mapped) == 0:
        n_valid = mapped[0].valid_ids or 0
        raise BalanceError(f"--valid-uuids: none of its {n_valid:,} uuids/urls is in the input")
    local._check_pool(con, counts, [], lang, entries)
