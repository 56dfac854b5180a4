"""What balancing reads, checked before any SQL runs, and the views the SQL reads it through.

- `resolve_parquet_inputs` / `resolve_paths`: files, folders and globs as sorted paths;
- `check_pairs_files`: every footer read once: the extract schema, the row count, which files
  lack `pair_key`, and the entry ids' values and bound (for the in-memory plan's estimate and
  entry_slots.py);
- `load_metadata` (one list, MetaCLIP 1) and `load_lists` (a folder of `<lang>.json`, MetaCLIP 2):
  the names entry_counts.parquet gives the entries;
- `define_inputs`, `valid_input`, `register_metadata`, `register_lang_metadata`: the views the
  SQL files name as their inputs (`shards` or `raw_shards`, `valid_input`, `metadata_entries`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from duckdb import ColumnExpression, ConstantExpression

from metaclip_sql.balance import entry_slots
from metaclip_sql.balance.options import BalanceError
from metaclip_sql.balance.pool import pair_rows
from metaclip_sql.duck.session import one_line
from metaclip_sql.io import paths
from metaclip_sql.io.paths import parquet_below
from metaclip_sql.metadata.lang import metadata_files
from metaclip_sql.metadata.load import BUNDLED_METADATA, MetadataError, load_entries
from metaclip_sql.schema import PAIRS_SCHEMA, REQUIRED_COLUMNS


class PairsFiles(NamedTuple):
    """What check_pairs_files read in the inputs' footers."""

    rows: int
    without_key: frozenset[Path]  # files with no pair_key column, or NULLs in it
    entry_values: int  # values in the entry_ids lists (for the in-memory plan's estimate)
    entry_modulus: int = entry_slots.NO_BOUND_MODULUS  # for metaclip_entry_slot (entry_slots.py)


# --- paths -------------------------------------------------------------------------------------


def resolve_parquet_inputs(inputs: Sequence[str | Path]) -> list[Path]:
    """Files, directories (every *.parquet below) and globs, sorted so input order never matters."""
    files = [f for f in resolve_paths(inputs, "input") if not f.name.startswith(".")]
    if not files:
        raise BalanceError("no input files: give extract outputs (Parquet files, folders or globs)")
    return files


def resolve_paths(items: Iterable[str | Path], what: str) -> list[Path]:
    """Local files, folders (every *.parquet below) and globs, as sorted absolute paths."""
    return sorted({Path(p).resolve() for p in paths.expand(items, what=what, folder=parquet_below)})


# --- footers -----------------------------------------------------------------------------------


def check_pairs_files(files: Sequence[Path]) -> PairsFiles:
    """Fail on the first file that is not Parquet in the extract schema; return the total rows,
    the files without a pair_key column, the number of entry ids and their modulus."""
    rows, values, without_key, bounds = 0, 0, set(), []
    for path in files:
        try:
            meta = pq.ParquetFile(path).metadata
            schema = meta.schema.to_arrow_schema()
        except (OSError, pa.ArrowException) as exc:
            raise BalanceError(f"{path}: not a readable Parquet file ({one_line(exc)})") from exc
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


# --- metadata ----------------------------------------------------------------------------------


def load_metadata(path: str | Path | None) -> list[str] | None:
    """The entry names for entry_counts.parquet; None when no list is known (names stay NULL)."""
    if path is None and not BUNDLED_METADATA.exists():
        return None
    try:
        return load_entries(path)
    except MetadataError as exc:
        raise BalanceError(str(exc)) from exc


def load_lists(metadata: str | Path | None) -> dict[str, list[str]] | None:
    """Entries per language from the metadata folder; None when none is given (names NULL)."""
    if metadata is None:
        return None
    if not Path(metadata).is_dir():
        raise BalanceError(
            f"--worldwide --metadata must be a folder of <lang>.json lists: {metadata}"
        )
    try:
        return {lang: load_entries(path) for lang, path in metadata_files(metadata).items()}
    except MetadataError as exc:
        raise BalanceError(str(exc)) from exc


# --- views -------------------------------------------------------------------------------------


def define_inputs(
    con: duckdb.DuckDBPyConnection,
    files: list[Path],
    without_key: frozenset[Path],
    valid_files: list[Path],
) -> None:
    """The pool as the view `shards`, or with --valid-uuids as `raw_shards` plus `valid_input`
    (common/005_valid_ids.sql then defines `shards`)."""
    pair_rows(con, files, without_key).create_view("shards" if not valid_files else "raw_shards")
    if valid_files:
        valid_input(con, valid_files).create_view("valid_input")


def register_metadata(con: duckdb.DuckDBPyConnection, entries: list[str] | None) -> None:
    """The metadata_entries view (entry_id, entry) that names the entries in entry_counts."""
    names = entries or []
    table = pa.table(
        {
            "entry_id": pa.array(range(len(names)), pa.int32()),
            "entry": pa.array(names, pa.string()),
        }
    )
    con.register("metadata_entries", table)


def register_lang_metadata(
    con: duckdb.DuckDBPyConnection, lists: dict[str, list[str]] | None
) -> None:
    """The metadata_entries view (lang, entry_id, entry) of MetaCLIP 2's per-language lists."""
    langs, ids, names = [], [], []
    for lang, entries in (lists or {}).items():
        langs += [lang] * len(entries)
        ids += range(len(entries))
        names += entries
    table = pa.table(
        {
            "lang": pa.array(langs, pa.string()),
            "entry_id": pa.array(ids, pa.int32()),
            "entry": pa.array(names, pa.string()),
        }
    )
    con.register("metadata_entries", table)


def valid_input(con: duckdb.DuckDBPyConnection, files: list[Path]) -> duckdb.DuckDBPyRelation:
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
        raise BalanceError(f"--valid-uuids {path}: {one_line(exc)}") from exc
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
