"""Load a metadata list: the ordered entries whose positions are the entry ids.

Accepted as users have them: MetaCLIP's `metadata.json` (a JSON list of strings), the same
gzipped, or plain text with one entry per line (`.txt`, `.txt.gz`). Without a path, the
bundled English list (built by `metaclip-sql metadata build`, see docs/metadata.md) is used.
A list built by this tool has a `.sources.json` sidecar saying which source gave which ids.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from metaclip_sql.errors import MetaclipError

BUNDLED_METADATA = Path(__file__).resolve().parents[1] / "data" / "metadata_en.json.gz"


class MetadataError(MetaclipError):
    """A metadata file that cannot be read as a list of strings."""


def load_entries(path: str | Path | None = None) -> list[str]:
    """Entries of the list at `path` (or the bundled default), in id order."""
    path = Path(path) if path is not None else BUNDLED_METADATA
    try:
        raw = _read_bytes(path)
    except OSError as exc:
        raise MetadataError(f"cannot read metadata {path}: {exc}") from exc
    text = raw.decode("utf-8-sig")
    if text.lstrip().startswith("["):
        try:
            entries = json.loads(text)
        except json.JSONDecodeError as exc:
            raise MetadataError(f"metadata {path} is not valid JSON: {exc}") from exc
        bad = [e for e in entries if not isinstance(e, str)]
        if not isinstance(entries, list) or bad:
            raise MetadataError(f"metadata {path} must be a JSON list of strings")
        return entries
    return [line.rstrip("\r") for line in text.split("\n") if line.rstrip("\r")]


def sources_path(path: str | Path) -> Path:
    """The sidecar recording how a list was built: `x.json(.gz)` -> `x.sources.json`."""
    path = Path(path)
    name = path.name.removesuffix(".gz")
    stem = Path(name).stem if Path(name).suffix in (".json", ".txt") else name
    return path.with_name(f"{stem}.sources.json")


def read_sources(path: str | Path | None = None) -> dict | None:
    """The sources sidecar of the list at `path` (or the bundled list), None when there is none."""
    sidecar = sources_path(path if path is not None else BUNDLED_METADATA)
    try:
        record = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return record if isinstance(record, dict) else None


def _read_bytes(path: Path) -> bytes:
    with path.open("rb") as f:
        head = f.read(2)
    if head == b"\x1f\x8b":
        with gzip.open(path, "rb") as f:
            return f.read()
    return path.read_bytes()
