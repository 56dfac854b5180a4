"""Build a MetaCLIP-style metadata list from its sources, and write it reproducibly.

Sources are read in the reference order (numbers, WordNet, wordfreq, unigrams, bigrams,
titles); each candidate is kept unless it is empty, punctuation only, longer than 256
characters or already in the list; the list stops at `size` entries. The JSON written is the
same bytes for the same inputs (gzip with mtime 0), so a bundled list can be rebuilt and
compared; a `.sources.json` sidecar records what each source added.
"""

from __future__ import annotations

import gzip
import json
import os
import string
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from metaclip_sql import __version__
from metaclip_sql.metadata import sources as metadata_sources
from metaclip_sql.metadata.load import sources_path
from metaclip_sql.metadata.matching import entries_digest
from metaclip_sql.metadata.sources import SourceError

MAX_ENTRY_CHARS = 256
SIDECAR_FORMAT = "metaclip-sql metadata sources 1"
_ASCII_PUNCTUATION = frozenset(string.punctuation)

__all__ = [
    "MAX_ENTRY_CHARS",
    "BuildResult",
    "Source",
    "SourceCount",
    "SourceError",
    "build_metadata",
    "drop_reason",
    "merge",
    "reference_sources",
    "write_metadata",
]


@dataclass(frozen=True)
class Source:
    """A named source: the parameters recorded for it and a callable giving its candidates."""

    name: str
    params: dict[str, Any]
    candidates: Callable[[], Iterable[str]]


@dataclass
class SourceCount:
    """What one source did: candidates read, entries added, candidates dropped by rule."""

    name: str
    params: dict[str, Any]
    first_id: int
    read: int = 0
    added: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    complete: bool = False  # False when the list filled up before the source ended

    @property
    def repeated(self) -> int:
        """Candidates already in the list (from this or an earlier source)."""
        return self.read - self.added - sum(self.dropped.values())


@dataclass
class BuildResult:
    """The list built and, per source, what it contributed (the sidecar's content)."""

    entries: list[str]
    sources: list[SourceCount]
    size: int
    lang: str = "en"

    def sidecar(self) -> dict[str, Any]:
        """The `.sources.json` record: enough to know where every id range came from."""
        return {
            "format": SIDECAR_FORMAT,
            "tool": f"metaclip-sql {__version__}",
            "entries": len(self.entries),
            "entries_sha256": entries_digest(self.entries),
            "size": self.size,
            "lang": self.lang,
            "sources": [
                {
                    "name": s.name,
                    "first_id": s.first_id,
                    "added": s.added,
                    "read": s.read,
                    "repeated": s.repeated,
                    "dropped": s.dropped,
                    "complete": s.complete,
                    "params": s.params,
                }
                for s in self.sources
            ],
        }


def drop_reason(entry: str) -> str | None:
    """Why a candidate is never an entry: 'empty', 'punctuation' or 'too_long'; else None."""
    if not entry.strip():
        return "empty"
    if len(entry) > MAX_ENTRY_CHARS:
        return "too_long"
    if all(c.isspace() or _is_punctuation(c) for c in entry):
        return "punctuation"
    return None


def _is_punctuation(char: str) -> bool:
    return char in _ASCII_PUNCTUATION or unicodedata.category(char).startswith("P")


def merge(sources: Sequence[Source], size: int, lang: str = "en") -> BuildResult:
    """Entries from `sources` in order: first occurrence kept, dropped by rule, at most `size`."""
    entries: list[str] = []
    seen: set[str] = set()
    counts: list[SourceCount] = []
    for source in sources:
        count = SourceCount(source.name, source.params, first_id=len(entries))
        counts.append(count)
        if len(entries) >= size:
            continue
        iterator = iter(source.candidates())
        try:
            for candidate in iterator:
                count.read += 1
                reason = drop_reason(candidate)
                if reason:
                    count.dropped[reason] = count.dropped.get(reason, 0) + 1
                elif candidate not in seen:
                    seen.add(candidate)
                    entries.append(candidate)
                    count.added += 1
                    if len(entries) >= size:
                        break
            else:
                count.complete = True
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()
    return BuildResult(entries=entries, sources=counts, size=size, lang=lang)


def reference_sources(
    *,
    numbers: bool = True,
    wordnet: str | Path | None = None,
    wordfreq: bool = False,
    unigrams: str | Path | None = None,
    bigrams: str | Path | None = None,
    titles: Sequence[str | Path] = (),
    lang: str = "en",
    min_count: int = 100,
    min_pmi: float = 30.0,
    min_views: int = 70,
    min_row_views: int = 50,
    title_projects: Sequence[str] | None = None,
) -> list[Source]:
    """The sources asked for, in MetaCLIP's order; checked now so a bad option fails early."""
    src = metadata_sources
    out: list[Source] = []
    if numbers:
        out.append(Source("numbers", {}, src.numbers))
    if wordnet is not None:
        src.wordnet_names(wordnet)  # checks the folder
        out.append(Source("wordnet", {"dir": str(wordnet)}, partial(src.wordnet_names, wordnet)))
    if wordfreq:
        wordlist, version = src.wordfreq_wordlist(lang)
        params = {"lang": lang, "wordlist": wordlist, "wordfreq": version}
        out.append(Source("wordfreq", params, partial(src.wordfreq_words, lang)))
    if bigrams is not None and unigrams is None:
        raise SourceError("--bigrams needs --unigrams: PMI divides by the unigram counts")
    for path in (unigrams, bigrams):
        if path is not None:
            src.compression(path)  # checks it can be read
    if unigrams is not None:
        params = {"file": str(unigrams), "min_count": min_count}
        entries = partial(_entries, src.scored_unigrams, unigrams, min_count)
        out.append(Source("unigrams", params, entries))
    if bigrams is not None:
        params = {"file": str(bigrams), "unigrams": str(unigrams), "min_pmi": min_pmi}
        entries = partial(_entries, src.scored_bigrams, unigrams, bigrams, min_pmi)
        out.append(Source("bigrams", params, entries))
    if titles:
        files = src.expand_paths(titles)
        projects = list(title_projects) if title_projects else [lang]
        params = {
            "files": [str(p) for p in files],
            "projects": projects,
            "min_views": min_views,
            "min_row_views": min_row_views,
        }
        entries = partial(_entries, src.scored_titles, files, projects, min_views, min_row_views)
        out.append(Source("titles", params, entries))
    return out


def _entries(scored: Callable[..., Iterable[tuple[Any, ...]]], *args: Any) -> Iterator[str]:
    """The entries (first column) of a scored source's rows; closing it closes the query."""
    with closing(scored(*args)) as rows:
        for row in rows:
            yield row[0]


def build_metadata(
    out: str | Path, *, size: int = 500_000, lang: str = "en", **options: Any
) -> BuildResult:
    """Build from the sources named in `options` (see `reference_sources`) and write to `out`."""
    if size < 1:
        raise SourceError(f"--size must be at least 1, not {size}")
    sources = reference_sources(lang=lang, **options)
    if not sources:
        raise SourceError("no sources: give at least one of --wordnet, --wordfreq, ...")
    result = merge(sources, size=size, lang=lang)
    write_metadata(result, out)
    return result


def summary_lines(result: BuildResult, out: str | Path) -> list[str]:
    """What a build did, one line per source, for the command line."""
    lines = [f"{len(result.entries):,} entries -> {out} (sources: {sources_path(out).name})"]
    for s in result.sources:
        dropped = ", ".join(f"{k} {v:,}" for k, v in sorted(s.dropped.items())) or "none"
        line = f"  {s.name}: added {s.added:,} of {s.read:,} read"
        line += f" (already listed {s.repeated:,}, dropped {dropped})"
        if not s.complete:
            line += " - list full, rest not read" if s.read else " - list full, not read"
        lines.append(line)
    return lines


def write_metadata(result: BuildResult, out: str | Path) -> tuple[Path, Path]:
    """Write the JSON list (gzipped when `out` ends in .gz) and its sidecar, each atomically."""
    out = Path(out)
    data = encode_entries(result.entries, gz=out.name.endswith(".gz"))
    sidecar = sources_path(out)
    text = json.dumps(result.sidecar(), ensure_ascii=False, indent=2) + "\n"
    _write_atomically(out, data)
    _write_atomically(sidecar, text.encode("utf-8"))
    return out, sidecar


def encode_entries(entries: Sequence[str], gz: bool) -> bytes:
    """One entry per line of a JSON list; gzip without a name or time, so bytes are repeatable."""
    data = (json.dumps(list(entries), ensure_ascii=False, indent=0) + "\n").encode("utf-8")
    if not gz:
        return data
    return gzip.compress(data, compresslevel=9, mtime=0)


def _write_atomically(path: Path, data: bytes) -> None:
    """Write beside `path`, then rename: readers never see half a file (umask respected)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with tmp.open("xb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
