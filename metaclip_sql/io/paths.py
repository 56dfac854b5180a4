"""Naming inputs: files, folders, glob patterns and URLs, and files that list them.

Every command takes inputs the same way; they differ only in what a folder stands for (the
files in it, the Parquet files below it, or the folder itself) and whether URLs are allowed.
`expand` keeps the order the items are given in (each item's matches sorted) and names each
input once.
"""

from __future__ import annotations

import glob
import gzip
from collections.abc import Callable, Iterable
from pathlib import Path

from metaclip_sql.errors import MetaclipError
from metaclip_sql.io import storage
from metaclip_sql.io.storage import Target, as_target, is_remote


class PathError(MetaclipError):
    """An input that names nothing: no such file, an empty folder, a glob without a match."""


def files_in(folder: Path) -> list[Path]:
    """The files directly in `folder`, hidden ones (in-progress outputs) left out."""
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def parquet_below(folder: Path) -> list[Path]:
    """Every `*.parquet` file below `folder`."""
    return sorted(p for p in folder.rglob("*.parquet") if p.is_file())


def expand(
    items: Iterable[str | Path],
    *,
    what: str = "input",
    folder: Callable[[Path], list[Path]] | None = files_in,
    remote: bool = False,
) -> list[Target]:
    """Files named by `items`: a file; a folder, through `folder` (None keeps the folder
    itself); a glob pattern (`**` recurses; only files match unless `folder` is None); with
    `remote`, a URL (`storage.expand`: a remote glob or a folder ending in `/`)."""
    found: dict[Target, None] = {}
    for item in items:
        target = as_target(item)
        if is_remote(target):
            if not remote:
                raise PathError(f"{what} {item}: URLs are not read here, only local paths")
            matches: list[Target] = list(storage.expand(target))
        else:
            matches = list(_local(target, folder))
        if not matches:
            raise PathError(f"{what} {item}: {_nothing(target, folder)}")
        for match in matches:
            found.setdefault(match, None)
    return list(found)


def _nothing(target: Target, folder: Callable[[Path], list[Path]] | None) -> str:
    if isinstance(target, Path) and target.is_dir():
        return "no Parquet file in this folder" if folder is parquet_below else "an empty folder"
    return "no such file, or no Parquet file in it" if folder is parquet_below else "no such file"


def _local(path: Path, folder: Callable[[Path], list[Path]] | None) -> list[Path]:
    if path.is_dir():
        return folder(path) if folder is not None else [path]
    if path.is_file():
        return [path]
    if not glob.has_magic(str(path)):
        return []
    matches = (Path(p) for p in glob.glob(str(path), recursive=True))
    return sorted(m for m in matches if folder is None or m.is_file())


def read_list(
    listing: str | Path, base: str | None = None, what: str = "--inputs-from"
) -> list[str]:
    """The inputs a list file names, one a line; blank lines and `#` comments are skipped and a
    gzip file is read as such, so Common Crawl's `wat.paths.gz` works as downloaded. Relative
    lines are joined to `base` (e.g. https://data.commoncrawl.org/) when it is given. The list
    may be a URL too. For snapshot-sized runs: 90,000 shard URLs do not fit on a command line."""
    try:
        with storage.open_input(as_target(listing)) as stream:
            raw = stream.read()
    except OSError as exc:
        raise PathError(f"{what} {listing}: {exc.strerror or exc}") from None
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    lines = [line.strip() for line in raw.decode("utf-8").splitlines()]
    entries = [line for line in lines if line and not line.startswith("#")]
    if not entries:
        raise PathError(f"{what} {listing}: names no input")
    return [_joined(base, entry) for entry in entries] if base else entries


def _joined(base: str, entry: str) -> str:
    """`entry` under `base` unless it is absolute already (a URL, or a path from /)."""
    if "://" in entry or entry.startswith("/"):
        return entry
    return str(storage.join(as_target(base), entry.lstrip("/")))
