"""manifest.json: what a balancing output records about how it was made.

One builder for every run (MetaCLIP 1 local or on Ray, MetaCLIP 2): the tool and its version,
the SQL version with the sha256 of every file it runs (its folder's and `sql/common/`'s), DuckDB's
version, the draw, the inputs and `--valid-uuids` files with their sizes, how the run was made
(distributor, plan, partitions), the metadata with its sha256, the result's own fields
(`BalanceResult.record`, `WorldwideResult.record`) and the seconds per step.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import duckdb

from metaclip_sql import __version__
from metaclip_sql.balance.results import BalanceResult, WorldwideResult
from metaclip_sql.balance.steps import COMMON, V1, V2
from metaclip_sql.duck import sql as sqlrunner
from metaclip_sql.metadata.lang import metadata_files
from metaclip_sql.metadata.load import BUNDLED_METADATA

_DRAW = (
    "one per pair: u = splitmix64_finalizer(low 64 bits of pair_key XOR "
    "splitmix64_finalizer(seed)) >> 11, over 2^53; kept when u < 1 - prod(1 - {t} / count) "
    "over its entries"
)
#: The draw each SQL version makes, in the manifest's words (sql/common/draws.sql computes it).
DRAW_FUNCTION = {
    V1: _DRAW.format(t="t"),
    V2: _DRAW.format(t="t_lang") + ", t_lang the threshold of the pair's language",
}


def sql_files(sql_version: str) -> dict[str, str]:
    """Every SQL file a version runs (its folder's and common/'s), name -> sha256."""
    files = [*sqlrunner.version_files(sql_version), *sqlrunner.version_files(COMMON)]
    return {f.name: f.sha256 for f in files}


def build_manifest(
    command: str,
    sql_version: str,
    result: BalanceResult | WorldwideResult,
    files: list[Path],
    valid_files: list[Path],
    metadata: dict[str, Any],
    run: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The manifest of `result`; `run` says how it was made (distributor, plan, partitions),
    `metadata` is list_record's or folder_record's."""
    return {
        "tool": "metaclip-sql",
        "tool_version": __version__,
        "command": command,
        "dry_run": result.dry_run,
        "sql_version": sql_version,
        "sql_files": sql_files(sql_version),
        "duckdb_version": duckdb.__version__,
        "draw": DRAW_FUNCTION[sql_version],
        "inputs": [{"path": str(f), "bytes": f.stat().st_size} for f in files],
        "valid_uuids": [{"path": str(f), "bytes": f.stat().st_size} for f in valid_files],
        **(run or {}),
        "metadata": metadata,
        **result.record(),
        "seconds": {k: round(v, 3) for k, v in result.seconds.items()},
    }


def list_record(metadata: str | Path | None, entries: list[str] | None) -> dict[str, Any]:
    """One metadata list (MetaCLIP 1): its path, entries and sha256 (the bundled list's when
    none was given)."""
    if entries is None:
        return {"path": None, "entries": None}
    path = Path(metadata) if metadata is not None else BUNDLED_METADATA
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return {"path": str(path.resolve()), "entries": len(entries), "sha256": digest}


def folder_record(
    metadata: str | Path | None, lists: dict[str, list[str]] | None
) -> dict[str, Any]:
    """A folder of per-language lists (MetaCLIP 2): per language its file, entries and sha256."""
    if metadata is None or lists is None:
        return {"path": None, "languages": None}
    files = metadata_files(metadata)
    return {
        "path": str(Path(metadata).resolve()),
        "languages": {
            lang: {
                "file": files[lang].name,
                "entries": len(entries),
                "sha256": hashlib.sha256(files[lang].read_bytes()).hexdigest(),
            }
            for lang, entries in lists.items()
        },
    }
