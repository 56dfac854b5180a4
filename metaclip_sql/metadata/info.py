"""Inspect a metadata list: size, recorded sources, duplicates, and entries that cannot match.

An entry `e` matches a text when `" " + e + " "` occurs in `spacing(text)` (docs/algorithm.md,
section 3). `spacing()` gives every padded mark (`, . ; : ? ! ``) its own space on each side
and turns tabs and newlines into spaces, so `" " + e + " "` can occur in some spaced text
exactly when, in it:
  - there is no tab, newline or carriage return;
  - every padded mark has a space on both sides (so "U.S." or "Washington, D.C." never match);
  - no two padded marks are one space apart: two marks in a spaced text have each their own
    pair of spaces, so at least two spaces between them (". ." never matches).
When all three hold, the text `e` with each " mark " shrunk back to "mark" is a witness.
Leading or trailing spaces do not make an entry unmatchable, only odd: " dog" matches after a
padded mark (", dog") or a double space, never where " dog" was meant.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from metaclip_sql.metadata.load import BUNDLED_METADATA, load_entries, read_sources, sources_path
from metaclip_sql.metadata.matching import entries_digest, spacing


@lru_cache(maxsize=4096)
def _kind(char: str) -> str:
    """How `spacing()` treats one character: 'padded', 'blank' (becomes a space) or 'plain'."""
    spaced = spacing(char)
    if spaced == f"  {char}  ":
        return "padded"
    if spaced == "   " and char != " ":
        return "blank"
    return "plain"


def never_match_reason(entry: str) -> str | None:
    """Why `" " + entry + " "` occurs in no `spacing(text)` at all; None when some text matches."""
    for char in entry:
        if _kind(char) == "blank":
            return f"holds {char!r}, which spacing() turns into a space"
    padded = f" {entry} "
    previous = -3
    for i, char in enumerate(padded):
        if _kind(char) != "padded":
            continue
        if padded[i - 1] != " " or padded[i + 1] != " ":
            return f"{char!r} without a space on each side"
        if i - previous == 2:
            return "two marks one space apart (spacing() puts two spaces between them)"
        previous = i
    return None


@dataclass
class MetadataInfo:
    """What `inspect_metadata` found; ids are positions in the list."""

    path: Path
    entries: int
    sources: dict[str, Any] | None
    sources_note: str
    duplicates: dict[str, list[int]] = field(default_factory=dict)
    empty: list[int] = field(default_factory=list)
    longest: tuple[int, str] | None = None
    never_match: list[tuple[int, str, str]] = field(default_factory=list)
    edge_space: list[tuple[int, str]] = field(default_factory=list)


def inspect_metadata(path: str | Path | None = None) -> MetadataInfo:
    """Read the list at `path` (or the bundled one) and analyse every entry."""
    list_path = Path(path) if path is not None else BUNDLED_METADATA
    entries = load_entries(list_path)
    sources, note = _matching_sources(list_path, entries)
    info = MetadataInfo(path=list_path, entries=len(entries), sources=sources, sources_note=note)
    ids_of: dict[str, list[int]] = defaultdict(list)
    for i, entry in enumerate(entries):
        ids_of[entry].append(i)
        if not entry.strip():
            info.empty.append(i)
            continue
        reason = never_match_reason(entry)
        if reason:
            info.never_match.append((i, entry, reason))
        elif entry != entry.strip():
            info.edge_space.append((i, entry))
        if info.longest is None or len(entry) > len(info.longest[1]):
            info.longest = (i, entry)
    info.duplicates = {e: ids for e, ids in ids_of.items() if len(ids) > 1}
    return info


def _matching_sources(path: Path, entries: list[str]) -> tuple[dict[str, Any] | None, str]:
    record = read_sources(path)
    sidecar = sources_path(path).name
    if record is None:
        return None, "not recorded (no readable sidecar)"
    if record.get("entries_sha256") != entries_digest(entries):
        return None, f"{sidecar} does not describe this list (entries differ); ignored"
    return record, f"from {sidecar}"


def format_info(info: MetadataInfo, examples: int = 5) -> str:
    """The human report `metaclip-sql metadata info` prints."""
    lines = [f"{info.path}", f"entries: {info.entries:,}", f"sources: {info.sources_note}"]
    for source in (info.sources or {}).get("sources", []):
        lines.append(_source_line(source))
    extra = sum(len(ids) - 1 for ids in info.duplicates.values())
    lines.append(f"duplicates: {len(info.duplicates):,} strings repeated ({extra:,} extra ids)")
    for entry, ids in list(info.duplicates.items())[:examples]:
        lines.append(f"  {_show(entry)} at ids {', '.join(map(str, ids[:5]))}")
    lines.append(f"empty or blank entries: {len(info.empty):,}" + _ids(info.empty, examples))
    if info.longest is not None:
        i, entry = info.longest
        lines.append(f"longest: {len(entry)} characters, id {i}: {_show(entry)}")
    lines.append(f"can never match (padding rules): {len(info.never_match):,}")
    for i, entry, reason in info.never_match[:examples]:
        lines.append(f"  id {i} {_show(entry)}: {reason}")
    lines.append(
        f"leading/trailing spaces (match only beside a mark or a double space): "
        f"{len(info.edge_space):,}"
    )
    for i, entry in info.edge_space[:examples]:
        lines.append(f"  id {i} {_show(entry)}")
    return "\n".join(lines)


def _source_line(source: dict[str, Any]) -> str:
    added = source.get("added", 0)
    first = source.get("first_id", 0)
    span = f"ids {first}-{first + added - 1}" if added else "no ids"
    note = "" if source.get("complete", True) else " (list full before the source ended)"
    return f"  {source.get('name')}: {added:,} added, {span}{note}"


def _ids(ids: list[int], examples: int) -> str:
    return f" (ids {', '.join(map(str, ids[:examples]))})" if ids else ""


def _show(entry: str, width: int = 80) -> str:
    text = entry if len(entry) <= width else entry[: width - 1] + "…"
    return repr(text)
