"""Reading a DuckDB connection's settings (balance's plan choice and its per-entry arrays size
themselves against the memory limit)."""

from __future__ import annotations

import re

import duckdb
from duckdb import ColumnExpression, ConstantExpression

_DECIMAL_PREFIXES = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15}


def setting(con: duckdb.DuckDBPyConnection, name: str) -> str:
    """One of DuckDB's settings, as duckdb_settings() shows it."""
    rows = con.table_function("duckdb_settings", [])
    row = rows.filter(ColumnExpression("name") == ConstantExpression(name))
    return str(row.select(ColumnExpression("value")).fetchall()[0][0])


def memory_limit_bytes(con: duckdb.DuckDBPyConnection) -> int:
    """DuckDB's memory_limit setting ('18.6 GiB', '2.0 GB', ...) in bytes."""
    value = setting(con, "memory_limit")
    match = re.fullmatch(r"\s*([\d.]+)\s*([KMGTP]?)(i?)B?\s*", value)
    if not match:
        return 0
    number, prefix, binary = match.groups()
    scale = 1024 ** "_KMGTP".index(prefix) if binary and prefix else _DECIMAL_PREFIXES[prefix]
    return int(float(number) * scale)
