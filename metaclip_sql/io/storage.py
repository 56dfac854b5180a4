"""Where shards come from and outputs go: local paths, or URLs that fsspec understands.

A local path (or `file://` URL) stays a `Path` and takes the same code as before: plain `open`,
`os.replace`. Anything else with a scheme (`s3://`, `gs://`, `https://`, ...) stays a `str` and
goes through fsspec, imported only then: inputs are streamed (never copied whole to disk),
outputs are written locally and uploaded in one PUT, which object stores make visible atomically.
S3 endpoints and credentials come from the usual AWS settings (`AWS_ENDPOINT_URL`,
`AWS_ACCESS_KEY_ID`, `~/.aws/...`), which s3fs reads through botocore.
"""

from __future__ import annotations

import glob
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from metaclip_sql.errors import MetaclipError

Target = Path | str  # a local path, or a URL with a scheme other than file

_HINT = "remote inputs and outputs need fsspec and its backend: pip install 'metaclip-sql[cloud]'"


def as_target(value: str | Path) -> Target:
    """A user's path or URL: `Path` for local ones (`file://` included), the URL otherwise."""
    if isinstance(value, Path):
        return value
    scheme = urlsplit(value).scheme if "://" in value else ""
    if not scheme:
        return Path(value)
    if scheme == "file":
        return Path(value[len("file://") :])
    return value


def is_remote(target: Target) -> bool:
    return isinstance(target, str)


def base_name(target: Target) -> str:
    """The file name of a path or URL (query strings dropped)."""
    if isinstance(target, Path):
        return target.name
    return urlsplit(target).path.rstrip("/").rsplit("/", 1)[-1]


def join(directory: Target, name: str) -> Target:
    if isinstance(directory, Path):
        return directory / name
    return f"{directory.rstrip('/')}/{name}"


def _fs(url: str):
    """(filesystem, path) for a URL; a missing backend becomes a ValueError with the fix."""
    try:
        from fsspec.core import url_to_fs

        return url_to_fs(url)
    except ImportError as exc:
        raise MetaclipError(f"{url}: {_HINT} ({exc})") from None


def open_input(target: Target) -> BinaryIO:
    """A binary stream over the shard; remote ones are read in blocks as they are consumed."""
    if isinstance(target, Path):
        return open(target, "rb")
    fs, path = _fs(target)
    return fs.open(path, "rb")


def can_seek(stream: BinaryIO) -> bool:
    """Whether a freshly opened stream really seeks (fsspec's streaming HTTP file says it does,
    then refuses any move)."""
    if not stream.seekable():
        return False
    try:
        stream.seek(1)
        stream.seek(0)
    except (OSError, ValueError):
        return False
    return True


def exists(target: Target) -> bool:
    if isinstance(target, Path):
        return target.exists()
    fs, path = _fs(target)
    return fs.exists(path)


def publish(local: Path, target: Target) -> None:
    """Move a finished local file to `target`: a rename, or one upload (atomic on S3/GCS)."""
    if isinstance(target, Path):
        local.replace(target)
        return
    fs, path = _fs(target)
    fs.put_file(str(local), path)


def expand(item: str) -> list[str]:
    """A remote glob or folder (a URL ending in `/`) as sorted file URLs; any other URL is taken
    as one file without a request (90,000 shards must not cost 90,000 round trips here)."""
    fs, path = _fs(item)
    if glob.has_magic(path):
        found = fs.glob(path, detail=True).values()
    elif item.endswith("/"):
        found = fs.ls(path, detail=True)
    else:
        return [item]
    names = [
        entry["name"]
        for entry in found
        if entry.get("type") == "file" and not base_name(entry["name"]).startswith(".")
    ]
    return sorted(n if "://" in n else fs.unstrip_protocol(n) for n in names)
