"""`metaclip-sql extract` as a library call: inputs in, one Parquet per shard out, a summary back.

It expands the inputs, loads the metadata's automaton and the language model once, hands the
shards to a distributor and adds up the shards' counts. This is what the CLI and tests call.
"""

from __future__ import annotations

import glob
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path

from metaclip_sql.distributors import ProgressCallback, WorkerContext, run_local
from metaclip_sql.extract import ExtractOptions, ShardStats
from metaclip_sql.lang_metadata import LanguageMatchers, load_lang_map
from metaclip_sql.lid import default_language_id
from metaclip_sql.matching import Matcher
from metaclip_sql.metadata import load_entries

_SUMMED = [f.name for f in fields(ShardStats) if f.type in ("int", "float", int, float)]


class InputError(ValueError):
    """Inputs that cannot be run as given (nothing matched, or clashing output names)."""


@dataclass
class ExtractSummary:
    """Per-shard stats and their totals; `failed` lists shards that produced no output."""

    shards: list[ShardStats]

    @property
    def totals(self) -> dict[str, float]:
        return {
            name: sum(getattr(s, name) for s in self.shards if s.status == "ok") for name in _SUMMED
        }

    @property
    def failed(self) -> list[ShardStats]:
        return [s for s in self.shards if s.status == "failed"]

    @property
    def skipped(self) -> list[ShardStats]:
        return [s for s in self.shards if s.status == "skipped"]


def expand_inputs(inputs: Sequence[str | Path]) -> list[Path]:
    """Files and globs to a sorted, de-duplicated list of files; a directory means its files."""
    found: dict[Path, None] = {}
    for item in inputs:
        text = str(item)
        path = Path(text)
        if path.is_dir():
            matches = sorted(
                p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")
            )
        elif glob.has_magic(text):
            matches = sorted(Path(p) for p in glob.glob(text, recursive=True) if Path(p).is_file())
        else:
            matches = [path]
        if not matches:
            raise InputError(f"no input files match {text}")
        for match in matches:
            if not match.is_file():
                raise InputError(f"input {match} does not exist")
            found.setdefault(match, None)
    names: dict[str, Path] = {}
    for path in found:
        if path.name in names:
            raise InputError(
                f"inputs {names[path.name]} and {path} share a file name; their outputs would clash"
            )
        names[path.name] = path
    return list(found)


def load_matcher(
    metadata: str | Path | None,
    langs: frozenset[str] | None,
    lang_map: str | Path | None = None,
) -> Matcher | LanguageMatchers:
    """One Matcher for a list file (or the bundled list), per-language matchers for a folder."""
    if metadata is not None and Path(metadata).is_dir():
        return LanguageMatchers(metadata, load_lang_map(lang_map), langs)
    if lang_map is not None:
        raise InputError("--lang-map needs --metadata to be a folder of <lang>.json lists")
    return Matcher(load_entries(metadata))


def run_extract(
    inputs: Sequence[str | Path],
    options: ExtractOptions,
    metadata: str | Path | None = None,
    workers: int = 1,
    on_progress: ProgressCallback | None = None,
    lang_map: str | Path | None = None,
) -> ExtractSummary:
    """Extract every input shard; shards that fail are reported, the others complete.

    `metadata` may be a folder of `<lang>.json` lists: each text is then matched against its
    own language's list (MetaCLIP 2), routed through `lang_map` (default: the bundled one).
    """
    shards = expand_inputs(inputs)
    matcher = load_matcher(metadata, options.langs, lang_map)
    context = WorkerContext(matcher, default_language_id(), options)
    options.out_dir.mkdir(parents=True, exist_ok=True)
    stats = run_local(shards, context, min(workers, len(shards)), on_progress)
    return ExtractSummary(stats)
