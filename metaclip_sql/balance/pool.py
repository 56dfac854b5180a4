"""The pool: extract outputs read as one relation, every row with its pair_key; its totals.

Balancing (local, Ray, worldwide) reads the pool through `pair_rows`, so files written before
pair_key existed, or by another writer, balance exactly like new ones: the key is computed in
SQL (`sql/common/pair_key.sql`) for them, and read as stored for the rest.

Once MetaCLIP 1's counting steps ran, `pool_counts` reads the pool's sizes from their totals
table (`pool_totals`), and `check_pool` and `check_dropped_ids` stop a run that has nothing to
balance or whose shards were matched against different metadata.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path

import duckdb
from duckdb import ColumnExpression, FunctionExpression

from metaclip_sql.balance.options import BalanceError
from metaclip_sql.duck import sql as sqlrunner
from metaclip_sql.schema import REQUIRED_COLUMNS

#: Where each row came from: dedup breaks ties on these, the anti-join drops duplicates by them.
ORIGIN_COLUMNS = ("filename", "file_row_number")


def pair_rows(
    con: duckdb.DuckDBPyConnection, files: Sequence[Path], without_key: Collection[Path]
) -> duckdb.DuckDBPyRelation:
    """Every row of `files` in the extract columns (pair_key included), plus filename and
    file_row_number. `without_key` (from inputs.check_pairs_files, which reads every footer
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


def count_rows(con: duckdb.DuckDBPyConnection, table: str) -> int:
    """The rows of a table or view."""
    return int(con.table(table).count("*").fetchall()[0][0])


def total(con: duckdb.DuckDBPyConnection, table: str, column: str) -> int:
    """A column of a one-row totals table (pool_totals, kept_totals), read through the relation
    API (no SQL strings)."""
    return int(con.table(table).select(ColumnExpression(column)).fetchall()[0][0])


def pool_counts(con: duckdb.DuckDBPyConnection, rows_in: int, duplicates: int) -> dict[str, int]:
    """The pool's sizes for the summary and manifest, once pool_totals holds the pairs."""
    pairs = total(con, "pool_totals", "pairs")
    return {
        "rows_in": rows_in,
        "candidates": pairs + duplicates,
        "duplicates": duplicates,
        "pairs": pairs,
    }


def check_pool(
    con: duckdb.DuckDBPyConnection,
    counts: dict[str, int],
    lang: str,
    entries: list[str] | None,
    unmatched_valid: int | None = None,
) -> None:
    """Stop early, with the reason, when there is nothing to balance or ids outrun the metadata.
    `unmatched_valid`: the number of --valid-uuids values, when none of them is in the input."""
    if counts["pairs"] == 0:
        if unmatched_valid is not None:
            raise BalanceError(
                f"--valid-uuids: none of its {unmatched_valid:,} uuids/urls is in the input"
            )
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
