"""The pool: extract outputs read as one relation, every row with its pair_key.

Balancing (local, Ray, worldwide) reads the pool through `pair_rows`, so files written before
pair_key existed, or by another writer, balance exactly like new ones: the key is computed in
SQL (`sql/common/pair_key.sql`) for them, and read as stored for the rest.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path

import duckdb
from duckdb import ColumnExpression, FunctionExpression

from metaclip_sql.duck import sql as sqlrunner
from metaclip_sql.schema import REQUIRED_COLUMNS

#: Where each row came from: dedup breaks ties on these, the anti-join drops duplicates by them.
ORIGIN_COLUMNS = ("filename", "file_row_number")


def pair_rows(
    con: duckdb.DuckDBPyConnection, files: Sequence[Path], without_key: Collection[Path]
) -> duckdb.DuckDBPyRelation:
    """Every row of `files` in the extract columns (pair_key included), plus filename and
    file_row_number. `without_key` (from balance.check_pairs_files, which reads every footer
    once) are the files with no pair_key column: theirs is computed."""
    keyed = [str(f) for f in files if f not in without_key]
    unkeyed = [str(f) for f in files if f in without_key]
    columns = [ColumnExpression(c) for c in REQUIRED_COLUMNS]
    origin = [ColumnExpression(c) for c in ORIGIN_COLUMNS]
    parts = []
    if keyed:
        # Writers store the 16 bytes with or without Parquet's UUID annotation (pyarrow before
        # 21 drops it), which DuckDB reads as UUID or BLOB: cast, a no-op for UUID.
        key = ColumnExpression("pair_key").cast(duckdb.sqltype("UUID")).alias("pair_key")
        parts.append(_read(con, keyed).select(*columns, key, *origin))
    if unkeyed:
        sqlrunner.run(con, "common/pair_key.sql")
        key = FunctionExpression(
            "metaclip_pair_key", ColumnExpression("uuid"), ColumnExpression("text")
        ).alias("pair_key")
        parts.append(_read(con, unkeyed).select(*columns, key, *origin))
    relation = parts[0]
    for part in parts[1:]:
        relation = relation.union(part)
    return relation


def _read(con: duckdb.DuckDBPyConnection, files: list[str]) -> duckdb.DuckDBPyRelation:
    return con.read_parquet(files, union_by_name=True, filename=True, file_row_number=True)
