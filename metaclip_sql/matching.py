"""Substring matching of texts against metadata entries (ALGORITHM.md section 2).

`spacing()` pads punctuation and the text's ends with spaces; an entry matches when
`" " + entry + " "` occurs in the spaced text. `Matcher` finds exactly the set the naive loop
finds, with one Aho-Corasick automaton over all padded entries (every occurrence, overlapping
ones included, is reported). The compiled automaton is cached on disk keyed by the entries'
content hash, because a 500k-entry build costs more than loading it.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import ahocorasick

_PUNCT = ",.;:?!`"
_SPACE_TABLE = str.maketrans({**{c: f" {c} " for c in _PUNCT}, "\t": " ", "\n": " ", "\r": " "})


def spacing(text: str) -> str:
    """Surround `text` and each of `, . ; : ? ! `` ` with spaces; tabs and newlines become spaces."""
    return f" {text.translate(_SPACE_TABLE)} "


def naive_match(text: str, entries: Sequence[str]) -> list[int]:
    """The reference's loop over every entry: slow, obviously correct, the tests' oracle."""
    spaced = spacing(text)
    return [i for i, entry in enumerate(entries) if f" {entry} " in spaced]


def entries_digest(entries: Sequence[str]) -> str:
    """Content hash of an entry list (order matters: ids are positions)."""
    h = hashlib.sha256()
    for entry in entries:
        h.update(entry.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()


def cache_dir() -> Path:
    """Where compiled automata live: $METACLIP_SQL_CACHE, else $XDG_CACHE_HOME/metaclip-sql."""
    env = os.environ.get("METACLIP_SQL_CACHE")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "metaclip-sql"


def build_automaton(entries: Sequence[str]) -> ahocorasick.Automaton:
    """One automaton over `" " + entry + " "`; a key's value is the tuple of ids that share it."""
    ids_by_key: dict[str, list[int]] = {}
    for i, entry in enumerate(entries):
        ids_by_key.setdefault(f" {entry} ", []).append(i)
    automaton = ahocorasick.Automaton()
    for key, ids in ids_by_key.items():
        automaton.add_word(key, tuple(ids))
    automaton.make_automaton()
    return automaton


def load_automaton(entries: Sequence[str], use_cache: bool = True) -> ahocorasick.Automaton:
    """The automaton for `entries`, from the on-disk cache when present, else built and cached."""
    if not use_cache:
        return build_automaton(entries)
    path = cache_dir() / f"automaton-{entries_digest(entries)[:32]}.pkl"
    try:
        with path.open("rb") as f:
            return pickle.load(f)
    except (OSError, pickle.UnpicklingError, EOFError):
        pass
    automaton = build_automaton(entries)
    _write_atomically(path, pickle.dumps(automaton, protocol=pickle.HIGHEST_PROTOCOL))
    return automaton


def _write_atomically(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only cache only costs the rebuild next time


class Matcher:
    """Match texts against one metadata list; equals `naive_match` on every input."""

    def __init__(self, entries: Sequence[str], use_cache: bool = True) -> None:
        self.size = len(entries)
        self._automaton = load_automaton(entries, use_cache) if entries else None

    def match(self, text: str) -> list[int]:
        """Sorted, distinct ids of the entries that occur in `spacing(text)`."""
        if self._automaton is None:
            return []
        found: set[int] = set()
        for _, ids in self._automaton.iter(spacing(text)):
            found.update(ids)
        return sorted(found)

    def match_many(self, texts: Iterable[str]) -> list[list[int]]:
        return [self.match(t) for t in texts]
