"""MetaCLIP 1 (Algorithm 1): one threshold t for every entry, run locally in DuckDB.

`balance` checks the options and inputs, then runs `sql/metaclip_v1/` (with `sql/common/`) in
order: the candidates, dedup and counts per entry, the probabilities at t, then each pair's draw;
it writes curated.parquet, entry_counts.parquet and the manifest. With `distributor="ray"` the
same files run per hash partition on a Ray cluster (ray.py). A dry run of `--unit pair` at a
given t may instead read the pool once into memory (`015_dry_run_in_memory.sql`), when the
estimate fits (`use_in_memory`); both plans give the same numbers.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import duckdb

from metaclip_sql.balance import manifest, options, pool, steps
from metaclip_sql.balance.inputs import (
    PairsFiles,
    check_pairs_files,
    define_inputs,
    load_metadata,
    register_metadata,
    resolve_parquet_inputs,
    resolve_paths,
)
from metaclip_sql.balance.options import DEFAULT_MAX_RETRIES, DEFAULT_SEED, BalanceError
from metaclip_sql.balance.ray import balance_ray
from metaclip_sql.balance.results import BalanceResult
from metaclip_sql.balance.steps import Steps
from metaclip_sql.duck.settings import memory_limit_bytes
from metaclip_sql.io.staging import OutputStaging

__all__ = ["BalanceError", "BalanceResult", "balance", "check_pairs_files", "use_in_memory"]

#: Bytes the in-memory dry run holds per candidate row and per entry id (docs/balance.md, "Why
#: the SQL is written this way"); its estimate may use half the memory limit.
IN_MEMORY_BYTES_PER_ROW = 48
IN_MEMORY_BYTES_PER_ENTRY = 8


def balance(
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
    dry_run_plan: str = "auto",
    distributor: str = "local",
    ray_address: str | None = None,
    partitions: int | None = None,
    max_retries: int = DEFAULT_MAX_RETRIES,
) -> BalanceResult:
    """Count matches per entry over the pool, sample each pair, write the curated set.

    Give exactly one of `t` (threshold) and `p` (tail proportion, turned into t as the
    reference's `p_to_t` does). Raises BalanceError for bad inputs or options.
    `dry_run_plan` (local, --unit pair, --t only): `in-memory` reads the pool once into memory,
    `streaming` runs the steps that each read it, `auto` picks in-memory when it fits in half
    the memory limit; the numbers are the same.
    `distributor="ray"` runs the same SQL per hash partition on a Ray cluster (ray.py); the rows
    are the same, `curated/` is then a directory of parts.
    """
    options.check_plan(dry_run_plan, dry_run, distributor, unit, t)
    if distributor == "ray":
        return balance_ray(
            inputs,
            t=t,
            p=p,
            out=out,
            seed=seed,
            lang=lang,
            metadata=metadata,
            valid_uuids=valid_uuids,
            unit=unit,
            memory_limit=memory_limit,
            threads=threads,
            dry_run=dry_run,
            ray_address=ray_address,
            partitions=partitions,
            max_retries=max_retries,
        )
    if ray_address is not None or partitions is not None:
        raise BalanceError("--ray-address and --partitions need --distributor ray")
    options.check_threshold(t, p, unit)
    files = resolve_parquet_inputs(inputs)
    checked = check_pairs_files(files)
    valid_files = resolve_paths(valid_uuids, "--valid-uuids") if valid_uuids else []
    entries = load_metadata(metadata)

    def body(con: duckdb.DuckDBPyConnection, staging: OutputStaging) -> BalanceResult:
        return _balance(
            con, staging, files, checked, valid_files, entries, t, p, seed, lang, unit, dry_run_plan
        )

    def record(result: BalanceResult) -> dict:
        how = {"distributor": "local", "plan": result.plan}
        meta = manifest.list_record(metadata, entries)
        return manifest.build_manifest("balance", steps.V1, result, files, valid_files, meta, how)

    return steps.run_staged(Path(out), dry_run, memory_limit, threads, body, record)


def _balance(
    con: duckdb.DuckDBPyConnection,
    staging: OutputStaging,
    files: list[Path],
    checked: PairsFiles,
    valid_files: list[Path],
    entries: list[str] | None,
    t: float | None,
    p: float | None,
    seed: int,
    lang: str,
    unit: str,
    dry_run_plan: str,
) -> BalanceResult:
    started = time.perf_counter()
    run = steps.start_v1(con, options.parse_langs(lang), seed, checked.entry_modulus)
    define_inputs(con, files, checked.without_key, valid_files)
    register_metadata(con, entries)
    steps.select_candidates(run, bool(valid_files))
    duplicates, in_memory = _count(run, staging.dry_run, checked, unit, t, dry_run_plan)
    counts = pool.pool_counts(con, checked.rows, duplicates)
    counts["files_without_pair_key"] = len(checked.without_key)
    unmatched = None
    if counts["pairs"] == 0 and valid_files and pool.count_rows(con, "shards") == 0:
        unmatched = pool.count_rows(con, "valid_ids")
    pool.check_pool(con, counts, lang, entries, unmatched)
    t, tail_proportion, head_entries, n_entries = steps.probabilities(run, t, p)
    if not in_memory:
        curated = None if staging.dry_run else staging.temp("curated.parquet")
        steps.sample(run, unit, curated)
    run.run(
        "070_write_entry_counts.sql",
        path=str(staging.temp("entry_counts.parquet")),
        with_kept=not staging.dry_run,
    )
    counts["kept"] = pool.total(con, "kept_totals", "kept")
    counts["entries"], counts["head_entries"] = n_entries, head_entries
    run.seconds["total"] = time.perf_counter() - started
    return BalanceResult(
        out=staging.out,
        dry_run=staging.dry_run,
        t=t,
        p=p,
        tail_proportion=tail_proportion,
        seed=seed,
        lang=lang,
        unit=unit,
        counts=counts,
        seconds=run.seconds,
        plan="in-memory" if in_memory else "streaming",
    )


def _count(
    run: Steps, dry_run: bool, checked: PairsFiles, unit: str, t: float | None, plan: str
) -> tuple[int, bool]:
    """Dedup and count, and in an in-memory dry run also decide: (duplicate rows dropped,
    whether the in-memory plan did it)."""
    if options.in_memory_applies(dry_run, unit, t) and use_in_memory(run.con, checked, plan):
        duplicates = _dry_run_in_memory(run, t)
        if duplicates is not None:
            return duplicates, True
    counted = steps.count_pool(run)
    pool.check_dropped_ids(run.con, counted.dropped_top)
    return counted.duplicates, False


def _dry_run_in_memory(run: Steps, t: float | None) -> int | None:
    """The whole --unit pair dry run in one statement (015); returns the duplicate rows dropped,
    or None when duplicated pairs disagree on their entries (the streaming steps then run and
    name the problem)."""
    run.run("015_dry_run_in_memory.sql", t=t)
    if pool.total(run.con, "dry_run_counts", "disagreeing"):
        return None
    return pool.total(run.con, "dry_run_counts", "duplicates")


def use_in_memory(con: duckdb.DuckDBPyConnection, checked: PairsFiles, plan: str) -> bool:
    """`plan`, or for `auto` whether the in-memory dry run's estimate fits in half the memory
    limit (beyond that it spills, and the streaming steps are faster)."""
    if plan != "auto":
        return plan == "in-memory"
    need = IN_MEMORY_BYTES_PER_ROW * checked.rows + IN_MEMORY_BYTES_PER_ENTRY * checked.entry_values
    return need <= memory_limit_bytes(con) // 2
