"""A DuckDB connection configured the one way the stages use it.

`connect` opens an in-memory database that spills to a folder the caller owns (balance puts it
under `--out`, so a killed run's spill is found and removed like its other temporaries), with
`--memory-limit` and `--threads` applied and insertion order not preserved: outputs are sets of
rows, and without the order DuckDB writes Parquet in parallel. `one_line` turns an error message
(DuckDB's span several lines) into the one line a user is shown.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from metaclip_sql.errors import MetaclipError


class SessionError(MetaclipError):
    """DuckDB refused the settings it was given (`--memory-limit`, `--threads`)."""


def one_line(message: object) -> str:
    """An error message (an exception or its text) on one line, whitespace runs collapsed."""
    return " ".join(str(message).split())


def connect(
    spill_dir: Path | None = None,
    memory_limit: str | None = None,
    threads: int | None = None,
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that spills to `spill_dir` (DuckDB's default place when None), under
    `memory_limit` (e.g. `4GB`) with `threads` threads (None or 0: DuckDB's defaults).
    Raises SessionError, naming the options, when DuckDB rejects the settings."""
    config: dict[str, Any] = {"preserve_insertion_order": False}
    if spill_dir is not None:
        config = {"temp_directory": str(spill_dir), **config}
    if memory_limit:
        config["memory_limit"] = memory_limit
    if threads:
        config["threads"] = threads
    try:
        return duckdb.connect(config=config)
    except duckdb.Error as exc:
        raise SessionError(f"bad --memory-limit or --threads: {one_line(exc)}") from exc
