"""`metaclip-sql sql`: run the user's SQL over the pool and write its result.

The result goes out as DuckDB's box table (head and tail of long results), CSV, one JSON array
of objects (lists stay JSON arrays) or Parquet, to a stream or a file.
"""

from __future__ import annotations

import contextlib
import io
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import duckdb

from metaclip_sql.duck import sql as sqlrunner
from metaclip_sql.explore.errors import ExploreError, one_line
from metaclip_sql.explore.pool import Pool, open_pool

FORMATS = ("table", "csv", "json", "parquet")


def run_sql(
    query: str,
    data: Sequence[str | Path] = (),
    metadata: str | Path | None = None,
    fmt: str = "table",
    output: Path | None = None,
    max_rows: int = 40,
    stream: TextIO | None = None,
) -> None:
    """Open the pool over `data`, run `query` and write its result (`write_result`)."""
    with open_pool(data, metadata) as pool:
        result = run_query(pool, query)
        write_result(pool, result, fmt, output, max_rows, stream)


def run_query(pool: Pool, query: str) -> duckdb.DuckDBPyRelation | None:
    """Run the user's SQL; None when its last statement returns no rows (e.g. a CREATE)."""
    try:
        return pool.con.sql(query)
    except duckdb.Error as exc:
        hint = f" (views here: {', '.join(pool.views) or 'none'})"
        raise ExploreError(one_line(exc) + hint) from exc


def write_result(
    pool: Pool,
    relation: duckdb.DuckDBPyRelation | None,
    fmt: str = "table",
    output: Path | None = None,
    max_rows: int = 40,
    stream: TextIO | None = None,
) -> None:
    """Write a result as a box table, CSV, a JSON array or Parquet, to `output` or `stream`."""
    if fmt not in FORMATS:
        raise ExploreError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if fmt == "parquet" and output is None:
        raise ExploreError("--format parquet needs --output FILE")
    if relation is None:
        return
    stream = stream if stream is not None else sys.stdout
    try:
        if fmt == "table":
            text = format_table(relation, max_rows)
            if output is None:
                stream.write(text)
            else:
                Path(output).write_text(text, encoding="utf-8")
            return
        if output is not None:
            _export(pool, relation, fmt, Path(output))
            return
        with tempfile.TemporaryDirectory(prefix="metaclip-sql-") as tmp:
            path = Path(tmp) / f"result.{fmt}"
            _export(pool, relation, fmt, path)
            with path.open(encoding="utf-8") as f:
                shutil.copyfileobj(f, stream)
    except duckdb.Error as exc:
        raise ExploreError(one_line(exc)) from exc


def format_table(relation: duckdb.DuckDBPyRelation, max_rows: int = 40) -> str:
    """DuckDB's own box rendering, sized to the terminal; long results show head and tail."""
    width = shutil.get_terminal_size((120, 24)).columns
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        relation.show(max_rows=max_rows, max_width=width)
    return buffer.getvalue().rstrip() + "\n"


def _export(pool: Pool, relation: duckdb.DuckDBPyRelation, fmt: str, path: Path) -> None:
    if fmt == "csv":
        relation.write_csv(str(path), header=True)
    elif fmt == "parquet":
        relation.write_parquet(str(path), compression="zstd")
    else:
        relation.create_view("result")
        sqlrunner.run(pool.con, "explore/export_json.sql", {"path": str(path)})
