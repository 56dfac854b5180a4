"""Find, read and run the versioned SQL files under `sql/`: SQL is the source of truth.

Python never builds SQL by concatenation. A file holds one or more statements separated by
`;` at line ends; named parameters are DuckDB's `$name`, bound from a dict. Input tables are
views that the caller defines (e.g. `con.read_parquet(files).create_view("shards")`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def sql_root() -> Path:
    """The `sql/` folder: inside the installed package, else at the repository's top level."""
    package = Path(__file__).resolve().parents[1]
    for candidate in (package / "sql", package.parent / "sql"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"no sql/ folder in or next to {package}")


@dataclass(frozen=True)
class SqlFile:
    """One SQL file: its name relative to `sql/`, its text and the sha256 recorded in manifests."""

    name: str
    text: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()

    def statements(self) -> list[str]:
        """Statements in order; comments stay (DuckDB ignores them)."""
        parts = re.split(r";[ \t]*(?:\n|$)", self.text)
        return [p.strip() for p in parts if _has_code(p)]


def _has_code(part: str) -> bool:
    lines = [ln.split("--", 1)[0].strip() for ln in part.splitlines()]
    return any(lines)


def load(name: str) -> SqlFile:
    """Read `sql/<name>` (e.g. `metaclip_v1/020_entry_counts.sql`)."""
    path = sql_root() / name
    if not path.is_file():
        raise FileNotFoundError(f"SQL file {name} not found under {sql_root()}")
    return SqlFile(name=name, text=path.read_text(encoding="utf-8"))


def version_files(version: str) -> list[SqlFile]:
    """All files of one versioned folder (e.g. `metaclip_v1`), in file-name order."""
    folder = sql_root() / version
    if not folder.is_dir():
        raise FileNotFoundError(f"SQL version folder {version} not found under {sql_root()}")
    return [load(f"{version}/{p.name}") for p in sorted(folder.glob("*.sql"))]


def run(
    con: duckdb.DuckDBPyConnection, sql: SqlFile | str, params: dict[str, Any] | None = None
) -> duckdb.DuckDBPyConnection:
    """Run every statement of a file, binding only the `$params` each statement uses.

    Returns the connection after the last statement, so a file ending in a SELECT can be read
    with `.fetchall()` / `.arrow()`.
    """
    file = load(sql) if isinstance(sql, str) else sql
    params = params or {}
    result = con
    for statement in file.statements():
        used = {m for m in _PARAM.findall(_strip_strings(statement))}
        missing = used - params.keys()
        if missing:
            raise KeyError(f"{file.name}: parameters not given: {', '.join(sorted(missing))}")
        bound = {k: params[k] for k in used}
        result = con.execute(statement, bound) if bound else con.execute(statement)
    return result


def _strip_strings(statement: str) -> str:
    """Drop quoted literals and comments so `$` inside them is not taken for a parameter."""
    no_comments = "\n".join(line.split("--", 1)[0] for line in statement.splitlines())
    return re.sub(r"'(?:[^']|'')*'", "''", no_comments)
