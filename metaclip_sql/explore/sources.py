"""Which `--data` items are extract outputs (the pool) and which is a balance output.

`resolve_sources` sorts the paths given into extract Parquet files, checked against the extract
schema up front so a wrong path fails with its name, and at most one balance output directory.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from metaclip_sql.explore.errors import ExploreError
from metaclip_sql.io import paths

#: Files whose presence marks a directory as a `balance` output.
BALANCE_FILES = ("curated.parquet", "entry_counts.parquet", "manifest.json")


@dataclass(frozen=True)
class Sources:
    """What the `--data` paths hold: extract shards and at most one balance output."""

    pair_files: tuple[Path, ...] = ()
    balance_dir: Path | None = None
    curated_files: tuple[Path, ...] = ()
    entry_counts_file: Path | None = None


def resolve_sources(data: Sequence[str | Path]) -> Sources:
    """Sort `--data` paths into extract Parquet files and a balance output directory.

    A path may be a Parquet file, a directory (its Parquet files, recursively), a glob, or a
    balance output directory, recognised by curated.parquet, entry_counts.parquet or
    manifest.json in it. Extract files are checked against the extract schema here, so a wrong
    path fails now with its name rather than later inside a query.
    """
    pair_files: set[Path] = set()
    balance_dirs: set[Path] = set()
    for item in data:
        for path in _expand(item):
            if path.is_dir():
                if _is_balance_dir(path):
                    balance_dirs.add(path)
                else:
                    pair_files.update(_parquet_below(path, item))
            elif path.name in BALANCE_FILES:
                balance_dirs.add(path.parent)
            else:
                pair_files.add(path)
    if len(balance_dirs) > 1:
        names = ", ".join(str(d) for d in sorted(balance_dirs))
        raise ExploreError(f"give one balance output at a time, got {names}")
    files = tuple(sorted(pair_files))
    if files:
        from metaclip_sql.balance import check_pairs_files

        check_pairs_files(files)
    if not balance_dirs:
        return Sources(pair_files=files)
    out = balance_dirs.pop()
    curated = out / "curated.parquet"
    parts = sorted(p for p in curated.rglob("*.parquet") if p.is_file()) if curated.is_dir() else []
    counts = out / "entry_counts.parquet"
    return Sources(
        pair_files=files,
        balance_dir=out,
        curated_files=(curated,) if curated.is_file() else tuple(parts),
        entry_counts_file=counts if counts.is_file() else None,
    )


def _expand(item: str | Path) -> list[Path]:
    """A --data item as paths: itself when it exists (folders stay folders), else its glob."""
    return [Path(p).resolve() for p in paths.expand([item], what="--data", folder=None)]


def _is_balance_dir(path: Path) -> bool:
    return any((path / name).exists() for name in BALANCE_FILES)


def _parquet_below(folder: Path, item: str | Path) -> list[Path]:
    """Parquet files under a folder, skipping hidden (in-progress) files and balance outputs."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not _is_balance_dir(Path(root, d)))
        found += [Path(root, f) for f in files if f.endswith(".parquet") and not f.startswith(".")]
    if not found:
        raise ExploreError(f"--data {item}: no Parquet file in {folder}")
    return found
