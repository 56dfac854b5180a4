"""Balance extracted pairs with MetaCLIP's Algorithm 1, running the versioned SQL in `sql/`.

Python only wires the steps: it checks the inputs, defines the input views, binds parameters,
runs the SQL files of one version in order, times them, and moves finished outputs into place.
What is computed lives in `sql/metaclip_v1/*.sql`; the arithmetic is restated in `sampling.py`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from duckdb import ColumnExpression, ConstantExpression

from metaclip_sql import __version__
from metaclip_sql.balance import entry_slots
from metaclip_sql.balance.pool import pair_rows
from metaclip_sql.duck import sql as sqlrunner
from metaclip_sql.duck.settings import memory_limit_bytes
from metaclip_sql.errors import MetaclipError
from metaclip_sql.io import paths, staging
from metaclip_sql.io.paths import parquet_below
from metaclip_sql.metadata.load import BUNDLED_METADATA, MetadataError, load_entries
from metaclip_sql.schema import PAIRS_SCHEMA, REQUIRED_COLUMNS

R = TypeVar("R")  # BalanceResult or WorldwideResult: both carry manifest and files

SQL_VERSION = "metaclip_v1"
#: The draw's hash, shared by every algorithm version (and recorded in each manifest).
COMMON_SQL = "common/draws.sql"
DEFAULT_SEED = 0
UNITS = ("pair", "image")
DISTRIBUTORS = ("local", "ray")
#: How a dry run reads the pool: `auto` picks in-memory when its estimate fits (_use_in_memory).
DRY_RUN_PLANS = ("auto", "in-memory", "streaming")
#: Bytes the in-memory dry run holds per candidate row and per entry id: measured peak 3.37 GB
#: on 51.0M rows with 127.7M ids (48 and 8 give 3.5 GB); it may use half the memory limit.
IN_MEMORY_BYTES_PER_ROW = 48
IN_MEMORY_BYTES_PER_ENTRY = 8
#: Rows of 015's dry_run_totals that hold totals, not entries (see the file's header).
_DUPLICATE_ROWS, _DISAGREEING_PAIRS = -3, -4
DRAW_FUNCTION = (
    "one per pair: u = splitmix64_finalizer(low 64 bits of pair_key XOR "
    "splitmix64_finalizer(seed)) >> 11, over 2^53; kept when u < 1 - prod(1 - t / count) "
    "over its entries"
)


class PairsFiles(NamedTuple):
    """What check_pairs_files read in the inputs' footers."""

    rows: int
    without_key: frozenset[Path]  # files with no pair_key column, or NULLs in it
    entry_values: int  # values in the entry_ids lists (for the in-memory plan's estimate)
    entry_modulus: int = entry_slots.NO_BOUND_MODULUS  # for metaclip_entry_slot (entry_slots.py)


class BalanceError(MetaclipError):
    """A problem with the user's inputs or options, told in one line; nothing is written."""


@dataclass
class BalanceResult:
    """What a balance run did: the numbers the CLI prints and the manifest records."""

    out: Path
    dry_run: bool
    t: float
    p: float | None
    tail_proportion: float
    seed: int
    lang: str
    unit: str
    counts: dict[str, int]
    seconds: dict[str, float]
    files: dict[str, str] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)
    plan: str = "streaming"  # how the pool was read: streaming steps, or in-memory (dry run)
    leftovers: list[str] = field(default_factory=list)  # killed runs' temporaries, removed

    @property
    def kept(self) -> int:
        return self.counts["kept"]

    def summary(self) -> str:
        """A few lines for the terminal."""
        c = self.counts
        share = c["kept"] / c["pairs"] if c["pairs"] else 0.0
        lines = [
            f"{'dry run: would keep' if self.dry_run else 'kept'} {c['kept']:,} of "
            f"{c['pairs']:,} pairs ({share:.1%}) at t={self.t:g} "
            f"(tail proportion {self.tail_proportion:.4f}), seed {self.seed}, unit {self.unit}",
            f"rows in {c['rows_in']:,}; candidates {c['candidates']:,}; cross-shard duplicates "
            f"{c['duplicates']:,}; entries matched {c['entries']:,}, head {c['head_entries']:,}",
            f"seconds: {self.seconds['total']:.1f}"
            + (f" ({self.plan} dry run)" if self.dry_run else ""),
        ]
        lines += pair_key_note(c)
        lines += leftovers_lines(self.leftovers, self.out)
        lines += [f"wrote {path}" for path in self.files.values()]
        return "\n".join(lines)


def leftovers_lines(leftovers: list[str], out: Path) -> list[str]:
    """A line for the summary when the run removed what killed earlier runs left in --out."""
    return [staging.leftovers_note(leftovers, out)] if leftovers else []


def pair_key_note(counts: dict[str, int]) -> list[str]:
    """A line for the summary when some inputs had no pair_key (the slower path)."""
    missing = counts.get("files_without_pair_key", 0)
    if not missing:
        return []
    return [
        f"note: {missing:,} input file(s) have no pair_key column (written before metaclip-sql "
        "0.2) or NULLs in it: it was computed per row, which is slower; re-extract them to "
        "store it"
    ]


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
    max_retries: int = 3,
) -> BalanceResult:
    """Count matches per entry over the pool, sample each pair, write the curated set.

    Give exactly one of `t` (threshold) and `p` (tail proportion, turned into t as the
    reference's `p_to_t` does). Raises BalanceError for bad inputs or options.
    `dry_run_plan` (local, --unit pair, --t only): `in-memory` reads the pool once into memory,
    `streaming` runs the steps that each read it, `auto` picks in-memory when it fits in half
    the memory limit; the numbers are the same.
    `distributor="ray"` runs the same SQL per hash partition on a Ray cluster
    (`balance_distributed.py`); the rows are the same, `curated/` is then a directory of parts.
    """
    _check_plan(dry_run_plan, dry_run, distributor, unit, t)
    if distributor not in DISTRIBUTORS:
        raise BalanceError(f"--distributor must be one of {', '.join(DISTRIBUTORS)}")
    if distributor == "ray":
        from metaclip_sql.balance.ray import balance_ray

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
    _check_options(t, p, unit)
    files = resolve_parquet_inputs(inputs)
    checked = check_pairs_files(files)
    valid_files = resolve_paths(valid_uuids, "--valid-uuids") if valid_uuids else []
    entries = _load_metadata(metadata)
    return run_steps(
        Path(out),
        dry_run,
        memory_limit,
        threads,
        lambda con, run: _balance(
            con, run, files, checked, valid_files, entries, t, p, seed, lang, unit, dry_run_plan
        ),
        lambda result: _manifest(result, files, valid_files, metadata, entries),
    )


def run_steps(
    out: Path,
    dry_run: bool,
    memory_limit: str | None,
    threads: int | None,
    steps: Callable[[duckdb.DuckDBPyConnection, _Run], R],
    manifest: Callable[[R], dict[str, Any]],
) -> R:
    """Run a balancing's SQL steps in DuckDB (spilling under `out`), then record the manifest
    and commit the outputs. Shared by every algorithm version: DuckDB errors become one-line
    BalanceErrors and temporary files never stay behind, whatever fails."""
    run = _Run(out, dry_run)
    try:
        con = _connect(run.spill_dir(), memory_limit, threads)
        try:
            result = steps(con, run)
        finally:
            con.close()
        result.leftovers = run.leftovers
        result.manifest = manifest(result)
        result.files = run.commit(result.manifest)
        return result
    except duckdb.Error as exc:
        raise BalanceError(_one_line(str(exc))) from exc
    finally:
        run.cleanup()


def _balance(
    con: duckdb.DuckDBPyConnection,
    run: _Run,
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
    steps = _Steps(con)
    started = time.perf_counter()
    sqlrunner.run(con, COMMON_SQL)
    steps.run(
        "000_params.sql", langs=parse_langs(lang), seed=seed, entry_modulus=checked.entry_modulus
    )
    entry_slots.use_entry_slots(con, checked.entry_modulus)
    _define_inputs(con, files, checked.without_key, valid_files, entries)
    if valid_files:
        steps.run("005_valid_ids.sql")
    steps.run("007_keep_rule.sql")
    steps.run("009_candidates.sql")
    duplicates, in_memory = _count_pool(steps, run, checked, unit, t, dry_run_plan)
    counts = pool_counts(con, checked.rows, duplicates)
    counts["files_without_pair_key"] = len(checked.without_key)
    _check_pool(con, counts, valid_files, lang, entries)
    if p is not None:
        t = float(steps.run("025_p_to_t.sql", p=p).fetchone()[0])
    t, tail_proportion, head_entries, n_entries = steps.run("030_probs.sql", t=t).fetchone()
    if not in_memory:
        _sample(steps, run, unit)
    steps.run(
        "070_write_entry_counts.sql",
        path=str(run.temp("entry_counts.parquet")),
        with_kept=not run.dry_run,
    )
    counts["kept"] = _scalar(con, "kept_counts", "kept", "entry_id", -1)
    counts["entries"], counts["head_entries"] = int(n_entries), int(head_entries)
    steps.seconds["total"] = time.perf_counter() - started
    return BalanceResult(
        out=run.out,
        dry_run=run.dry_run,
        t=float(t),
        p=p,
        tail_proportion=float(tail_proportion),
        seed=seed,
        lang=lang,
        unit=unit,
        counts=counts,
        seconds=steps.seconds,
        plan="in-memory" if in_memory else "streaming",
    )


def _count_pool(
    steps: _Steps, run: _Run, checked: PairsFiles, unit: str, t: float | None, plan: str
) -> tuple[int, bool]:
    """Dedup and count, and in an in-memory dry run also decide: (duplicate rows dropped,
    whether the in-memory plan did it)."""
    if _in_memory_applies(run.dry_run, unit, t) and _use_in_memory(steps.con, checked, plan):
        assert t is not None  # _in_memory_applies checked it
        duplicates = _dry_run_in_memory(steps, t)
        if duplicates is not None:
            return duplicates, True
    return _count_streaming(steps), False


def _count_streaming(steps: _Steps) -> int:
    """Steps 1b and 2 over the Parquet (010, 020, 024); returns the duplicate rows dropped."""
    steps.run("010_pairs.sql")
    steps.run("020_entry_counts.sql")
    check_dropped_ids(steps.con, steps.run("024_dropped_ids.sql").fetchall()[0][0])
    return _count(steps.con, "duplicate_rows")


def _dry_run_in_memory(steps: _Steps, t: float) -> int | None:
    """The whole --unit pair dry run in one statement (015); returns the duplicate rows dropped,
    or None when duplicated pairs disagree on their entries (the streaming steps then run and
    name the problem)."""
    steps.run("015_dry_run_in_memory.sql", t=t)
    if _scalar(steps.con, "dry_run_totals", "count", "entry_id", _DISAGREEING_PAIRS):
        return None
    return _scalar(steps.con, "dry_run_totals", "count", "entry_id", _DUPLICATE_ROWS)


def _sample(steps: _Steps, run: _Run, unit: str) -> None:
    """Steps 4 to 6 of the streaming plan: decide every pair, then count or write the kept."""
    steps.run("040_sample.sql")
    if unit == "image":
        steps.run("041_sample_image.sql")
    if run.dry_run:
        steps.run("055_kept_total.sql" if unit == "pair" else "056_kept_total_image.sql")
        return
    steps.run("050_write_curated.sql", path=str(run.temp("curated.parquet")))
    steps.con.read_parquet(str(run.temp("curated.parquet"))).create_view("kept_rows")
    steps.run("060_kept_counts.sql")


def _use_in_memory(con: duckdb.DuckDBPyConnection, checked: PairsFiles, plan: str) -> bool:
    """`plan`, or for `auto` whether the in-memory dry run's estimate fits in half the memory
    limit (it spills beyond that, and then the streaming steps are faster)."""
    if plan != "auto":
        return plan == "in-memory"
    need = IN_MEMORY_BYTES_PER_ROW * checked.rows + IN_MEMORY_BYTES_PER_ENTRY * checked.entry_values
    return need <= memory_limit_bytes(con) // 2


# --- options and inputs ------------------------------------------------------------------------


def _check_options(t: float | None, p: float | None, unit: str) -> None:
    if (t is None) == (p is None):
        raise BalanceError("give exactly one of --t (threshold) and --p (tail proportion)")
    if t is not None and not t > 0:
        raise BalanceError(f"--t must be > 0, got {t}")
    if p is not None and not 0 < p < 1:
        raise BalanceError(f"--p must be between 0 and 1 (exclusive), got {p}")
    if unit not in UNITS:
        raise BalanceError(f"--unit must be one of {', '.join(UNITS)}, got {unit!r}")


def _in_memory_applies(dry_run: bool, unit: str, t: float | None) -> bool:
    """015 computes a --unit pair dry run's kept total for a given t (not --p, not a full run)."""
    return dry_run and unit == "pair" and t is not None


def _check_plan(plan: str, dry_run: bool, distributor: str, unit: str, t: float | None) -> None:
    if plan not in DRY_RUN_PLANS:
        raise BalanceError(f"--dry-run-plan must be one of {', '.join(DRY_RUN_PLANS)}")
    if plan == "in-memory" and not (
        distributor == "local" and _in_memory_applies(dry_run, unit, t)
    ):
        raise BalanceError(
            "--dry-run-plan in-memory works with --dry-run, --unit pair, --t and the local "
            "distributor only"
        )


def parse_langs(lang: str) -> list[str] | None:
    """`en` -> ['en']; `all` -> None (every language); `de,fr` -> ['de', 'fr']."""
    codes = [code.strip() for code in lang.split(",") if code.strip()]
    if not codes:
        raise BalanceError("--lang is empty: give a code (en), a list (de,fr) or all")
    return None if codes == ["all"] else codes


def resolve_parquet_inputs(inputs: Sequence[str | Path]) -> list[Path]:
    """Files, directories (every *.parquet below) and globs, sorted so input order never matters."""
    files = [f for f in resolve_paths(inputs, "input") if not f.name.startswith(".")]
    if not files:
        raise BalanceError("no input files: give extract outputs (Parquet files, folders or globs)")
    return files


def resolve_paths(items: Iterable[str | Path], what: str) -> list[Path]:
    """Local files, folders (every *.parquet below) and globs, as sorted absolute paths."""
    return sorted({Path(p).resolve() for p in paths.expand(items, what=what, folder=parquet_below)})


def check_pairs_files(files: Sequence[Path]) -> PairsFiles:
    """Fail on the first file that is not Parquet in the extract schema; return the total rows,
    the files without a pair_key column, the number of entry ids and their modulus."""
    rows, values, without_key, bounds = 0, 0, set(), []
    for path in files:
        try:
            meta = pq.ParquetFile(path).metadata
            schema = meta.schema.to_arrow_schema()
        except (OSError, pa.ArrowException) as exc:
            raise BalanceError(
                f"{path}: not a readable Parquet file ({_one_line(str(exc))})"
            ) from exc
        problem = _schema_problem(schema)
        if problem:
            raise BalanceError(f"{path}: not an extract output: {problem}")
        rows += meta.num_rows
        values += _entry_values(meta)
        bounds.append(entry_slots.entry_id_bound(meta))
        if "pair_key" not in schema.names or _has_nulls(meta, "pair_key"):
            without_key.add(path)
    if rows == 0:
        raise BalanceError(f"empty input: {len(files)} Parquet file(s) with no rows")
    return PairsFiles(rows, frozenset(without_key), values, entry_slots.entry_modulus(bounds))


def _has_nulls(meta: pq.FileMetaData, column: str) -> bool:
    """Whether the footer's statistics count a NULL in `column` (a file whose stored pair_key has
    NULLs gets its key computed, like a file without one). Writers that keep no null counts
    cannot be told apart here."""
    index = [i for i in range(meta.num_columns) if meta.schema.column(i).path == column]
    for g in range(meta.num_row_groups):
        for i in index:
            stats = meta.row_group(g).column(i).statistics
            if stats is not None and stats.has_null_count and stats.null_count > 0:
                return True
    return False


def _entry_values(meta: pq.FileMetaData) -> int:
    """Values in the entry_ids lists, from the footer (an empty list counts one null value)."""
    leaves = [
        i for i in range(meta.num_columns) if meta.schema.column(i).path.startswith("entry_ids.")
    ]
    return sum(
        meta.row_group(g).column(i).num_values for g in range(meta.num_row_groups) for i in leaves
    )


def _schema_problem(schema: pa.Schema) -> str | None:
    for expected in PAIRS_SCHEMA:
        if expected.name not in schema.names:
            if expected.name in REQUIRED_COLUMNS:
                return f"column {expected.name} missing"
            continue
        actual = schema.field(expected.name).type
        if _base_type(actual) != _base_type(expected.type):
            return f"column {expected.name} is {actual}, expected {expected.type}"
    return None


def _base_type(dtype: pa.DataType) -> str:
    """Compare types without list field names, string widths, or the UUID annotation (pair_key
    reads as uuid or as its 16-byte storage, depending on the reader), which vary by writer."""
    if isinstance(dtype, pa.BaseExtensionType):
        dtype = dtype.storage_type
    if pa.types.is_list(dtype) or pa.types.is_large_list(dtype):
        return f"list<{_base_type(dtype.value_type)}>"
    if pa.types.is_large_string(dtype) or pa.types.is_string_view(dtype):
        return "string"
    return str(dtype)


def _load_metadata(path: str | Path | None) -> list[str] | None:
    """The entry names for entry_counts.parquet; None when no list is known (names stay NULL)."""
    if path is None and not BUNDLED_METADATA.exists():
        return None
    try:
        return load_entries(path)
    except MetadataError as exc:
        raise BalanceError(str(exc)) from exc


# --- DuckDB session ----------------------------------------------------------------------------


def _connect(
    spill_dir: Path, memory_limit: str | None, threads: int | None
) -> duckdb.DuckDBPyConnection:
    config: dict[str, Any] = {
        "temp_directory": str(spill_dir),
        "preserve_insertion_order": False,
    }
    if memory_limit:
        config["memory_limit"] = memory_limit
    if threads:
        config["threads"] = threads
    try:
        return duckdb.connect(config=config)
    except duckdb.Error as exc:
        raise BalanceError(f"bad --memory-limit or --threads: {_one_line(str(exc))}") from exc


def _define_inputs(
    con: duckdb.DuckDBPyConnection,
    files: list[Path],
    without_key: frozenset[Path],
    valid_files: list[Path],
    entries: list[str] | None,
) -> None:
    """The views the SQL reads: raw_shards or shards, valid_input, metadata_entries."""
    pair_rows(con, files, without_key).create_view("shards" if not valid_files else "raw_shards")
    if valid_files:
        _valid_input(con, valid_files).create_view("valid_input")
    _register_metadata(con, entries)


def _register_metadata(con: duckdb.DuckDBPyConnection, entries: list[str] | None) -> None:
    """The metadata_entries view (entry_id, entry) that names the entries in entry_counts."""
    names = entries or []
    table = pa.table(
        {
            "entry_id": pa.array(range(len(names)), pa.int32()),
            "entry": pa.array(names, pa.string()),
        }
    )
    con.register("metadata_entries", table)


def _valid_input(con: duckdb.DuckDBPyConnection, files: list[Path]) -> duckdb.DuckDBPyRelation:
    """One `value` column of uuids or urls from Parquet (uuid or url column) or text files."""
    relation = None
    for path in files:
        part = _valid_parquet(con, path) if _is_parquet(path) else _valid_text(con, path)
        relation = part if relation is None else relation.union(part)
    assert relation is not None
    return relation


def _valid_parquet(con: duckdb.DuckDBPyConnection, path: Path) -> duckdb.DuckDBPyRelation:
    try:
        relation = con.read_parquet(str(path))
    except duckdb.Error as exc:
        raise BalanceError(f"--valid-uuids {path}: {_one_line(str(exc))}") from exc
    column = next((c for c in ("uuid", "url") if c in relation.columns), None)
    if column is None:
        raise BalanceError(f"--valid-uuids {path}: needs a uuid or url column")
    if "status" in relation.columns:
        relation = relation.filter(ColumnExpression("status") == ConstantExpression("success"))
    return relation.select(ColumnExpression(column).cast(duckdb.sqltype("VARCHAR")).alias("value"))


def _valid_text(con: duckdb.DuckDBPyConnection, path: Path) -> duckdb.DuckDBPyRelation:
    return con.read_csv(
        str(path),
        header=False,
        columns={"value": "VARCHAR"},
        sep="\x1f",
        quotechar="",
        escapechar="",
        auto_detect=False,
    )


def _is_parquet(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(4) == b"PAR1"


class _Steps:
    """Runs SQL files of the version in use and times each one."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.seconds: dict[str, float] = {}

    def run(self, name: str, **params: Any) -> duckdb.DuckDBPyConnection:
        started = time.perf_counter()
        result = sqlrunner.run(self.con, f"{SQL_VERSION}/{name}", params)
        self.seconds[name] = time.perf_counter() - started
        return result


def _scalar(con: duckdb.DuckDBPyConnection, table: str, column: str, key: str, value: int) -> int:
    """One value of a small result table, read through the relation API (no SQL strings)."""
    rows = con.table(table).filter(ColumnExpression(key) == ConstantExpression(value))
    found = rows.select(ColumnExpression(column)).fetchall()
    return int(found[0][0]) if found else 0


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return int(con.table(table).count("*").fetchall()[0][0])


def pool_counts(con: duckdb.DuckDBPyConnection, rows_in: int, duplicates: int) -> dict[str, int]:
    """The pool's sizes for the summary and manifest (match_counts' entry -1 holds the pairs)."""
    pairs = _scalar(con, "match_counts", "count", "entry_id", -1)
    return {
        "rows_in": rows_in,
        "candidates": pairs + duplicates,
        "duplicates": duplicates,
        "pairs": pairs,
    }


def _check_pool(
    con: duckdb.DuckDBPyConnection,
    counts: dict[str, int],
    valid_files: list[Path],
    lang: str,
    entries: list[str] | None,
) -> None:
    """Stop early, with the reason, when there is nothing to balance or ids outrun the metadata."""
    if counts["pairs"] == 0:
        if valid_files and _count(con, "shards") == 0:
            n_valid = _count(con, "valid_ids")
            raise BalanceError(f"--valid-uuids: none of its {n_valid:,} uuids/urls is in the input")
        raise BalanceError(
            f"no candidate pairs: no input row with --lang {lang} has a matched entry"
        )
    if entries is not None:
        top = con.table("entry_counts").max("entry_id").fetchall()[0][0]
        if top >= len(entries):
            raise BalanceError(
                f"entry ids reach {top} but the metadata has {len(entries)} entries: "
                "give the --metadata that extract used"
            )


def check_dropped_ids(con: duckdb.DuckDBPyConnection, dropped_top: int | None) -> None:
    """Stop when a dropped duplicate has an entry id no kept pair has: the shards were matched
    against different metadata (the same text got different entries), so counts are unsound."""
    top = con.table("entry_counts").max("entry_id").fetchall()[0][0]
    if dropped_top is not None and top is not None and dropped_top > top:
        raise BalanceError(
            f"the same (uuid, text) has different entry ids in different shards (id {dropped_top}"
            f" only on a duplicate copy): were the shards extracted with different --metadata?"
        )


# --- outputs -----------------------------------------------------------------------------------


class _Run:
    """Temporary names under --out, renamed into place only when every output is complete.

    The run holds `.balance-<tag>.lock` from before its first temporary name exists until the
    last is gone: another run's cleanup leaves them alone while this one lives, and removes them
    if it was killed (staging.py). `leftovers` names what killed runs had left, removed when
    this run started."""

    def __init__(self, out: Path, dry_run: bool) -> None:
        self.out = out
        self.dry_run = dry_run
        self.created_out = not out.exists()
        self.tag = f"{os.getpid()}-{time.time_ns()}"
        self._temps: list[Path] = []
        self._held: staging.Held | None = None
        self.leftovers: list[str] = []

    def _start(self) -> None:
        """Before the first temporary name: remove killed runs' leftovers, hold this run's lock."""
        if self._held is None:
            self.out.mkdir(parents=True, exist_ok=True)
            self.leftovers = staging.remove_leftovers(self.out)
            self._held = staging.hold(self.out / f".balance-{self.tag}.lock")

    def spill_dir(self) -> Path:
        self._start()
        path = self.out / f".balance-spill-{self.tag}"
        path.mkdir(parents=True, exist_ok=True)
        self._temps.append(path)
        return path

    def temp(self, name: str) -> Path:
        self._start()
        path = self.out / f".{name}.{self.tag}.tmp"
        if path not in self._temps:
            self._temps.append(path)
        return path

    def final(self, name: str) -> Path:
        if self.dry_run:
            stem, dot, suffix = name.partition(".")
            name = f"{stem}.dry-run{dot}{suffix}"
        return self.out / name

    def commit(self, manifest: dict[str, Any], curated: str = "curated.parquet") -> dict[str, str]:
        """Move outputs into place; manifest.json goes last, so its presence means complete.

        `curated` is one file (`curated.parquet`) or a directory of parts (`curated`); the other
        form, left by an earlier run with the other distributor, is removed so one remains.
        A concurrent run on the same --out commits before or after, never in between.
        """
        with staging.commit_lock(self.out):
            return self._commit(manifest, curated)

    def _commit(self, manifest: dict[str, Any], curated: str) -> dict[str, str]:
        names = ["entry_counts.parquet"] + ([] if self.dry_run else [curated])
        manifest_path = self.final("manifest.json")
        manifest_path.unlink(missing_ok=True)
        if not self.dry_run:
            _remove(self.final("curated" if curated == "curated.parquet" else "curated.parquet"))
        done = {}
        for name in names:
            if self.final(name).is_dir():
                shutil.rmtree(self.final(name))
            os.replace(self.temp(name), self.final(name))
            done[name.split(".")[0]] = str(self.final(name))
        self.temp("manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        os.replace(self.temp("manifest.json"), manifest_path)
        done["manifest"] = str(manifest_path)
        return done

    def cleanup(self) -> None:
        for path in self._temps:
            _remove(path)
        if self._held is not None:  # last: the temporaries are gone
            self._held.release(remove=True)
            self._held = None
        if self.created_out and self.out.is_dir() and not any(self.out.iterdir()):
            self.out.rmdir()


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def manifest_header(
    command: str,
    dry_run: bool,
    sql_version: str,
    draw: str,
    files: list[Path],
    valid_files: list[Path],
) -> dict[str, Any]:
    """What every balancing manifest starts with: tool, SQL (with sha256s), draw and inputs."""
    sql_files = [*sqlrunner.version_files(sql_version), *sqlrunner.version_files("common")]
    return {
        "tool": "metaclip-sql",
        "tool_version": __version__,
        "command": command,
        "dry_run": dry_run,
        "sql_version": sql_version,
        "sql_files": {f.name: f.sha256 for f in sql_files},
        "duckdb_version": duckdb.__version__,
        "draw": draw,
        "inputs": [{"path": str(f), "bytes": f.stat().st_size} for f in files],
        "valid_uuids": [{"path": str(f), "bytes": f.stat().st_size} for f in valid_files],
    }


def _manifest(
    result: BalanceResult,
    files: list[Path],
    valid_files: list[Path],
    metadata: str | Path | None,
    entries: list[str] | None,
) -> dict[str, Any]:
    return {
        **manifest_header(
            "balance", result.dry_run, SQL_VERSION, DRAW_FUNCTION, files, valid_files
        ),
        "distributor": "local",
        "plan": result.plan,
        "metadata": _metadata_record(metadata, entries),
        "t": result.t,
        "p": result.p,
        "tail_proportion": result.tail_proportion,
        "seed": result.seed,
        "lang": result.lang,
        "unit": result.unit,
        "counts": result.counts,
        "seconds": {k: round(v, 3) for k, v in result.seconds.items()},
    }


def _metadata_record(metadata: str | Path | None, entries: list[str] | None) -> dict[str, Any]:
    if entries is None:
        return {"path": None, "entries": None}
    path = Path(metadata) if metadata is not None else BUNDLED_METADATA
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return {"path": str(path.resolve()), "entries": len(entries), "sha256": digest}


def _one_line(message: str) -> str:
    return " ".join(message.split())
