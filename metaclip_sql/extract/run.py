"""`metaclip-sql extract` as a library call: inputs in, one Parquet per shard out, a summary back.

It expands the inputs, loads the metadata's automaton and the language model once, hands the
shards to a distributor and adds up the shards' counts. This is what the CLI and tests call.
"""

from __future__ import annotations

import glob
import gzip
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path

from metaclip_sql.extract.lid import default_language_id
from metaclip_sql.extract.shard import ExtractOptions, ShardStats, staging_dir
from metaclip_sql.io import staging, storage
from metaclip_sql.io.storage import Target, as_target, base_name, is_remote
from metaclip_sql.metadata.lang import LanguageMatchers, load_lang_map
from metaclip_sql.metadata.load import BUNDLED_METADATA
from metaclip_sql.metadata.matching import Matcher
from metaclip_sql.runtime.local import (
    ProgressCallback,
    WorkerContext,
    import_ray,
    run_local,
    run_ray,
)

DISTRIBUTORS = ("local", "ray")
_SUMMED = [f.name for f in fields(ShardStats) if f.type in ("int", "float", int, float)]


class InputError(ValueError):
    """Inputs that cannot be run as given (nothing matched, or clashing output names)."""


@dataclass
class ExtractSummary:
    """Per-shard stats and their totals; `failed` lists shards that produced no output;
    `leftovers` names the temporary files of killed earlier runs removed from `staging_folder`
    (`--out`, or a local folder when it is remote) before the shards ran."""

    shards: list[ShardStats]
    leftovers: list[str] = field(default_factory=list)
    staging_folder: Path | None = None

    @property
    def leftovers_note(self) -> str | None:
        """A line for the terminal when leftovers were removed."""
        if not self.leftovers:
            return None
        return staging.leftovers_note(self.leftovers, self.staging_folder or "")

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


def read_input_list(listing: str | Path, base: str | None = None) -> list[str]:
    """The inputs a list file names, one a line; blank lines and `#` comments are skipped and a
    gzip file is read as such, so Common Crawl's `wat.paths.gz` works as downloaded. Relative
    lines are joined to `base` (e.g. https://data.commoncrawl.org/) when it is given. The list
    may be a URL too. For snapshot-sized runs: 90,000 shard URLs do not fit on a command line."""
    try:
        with storage.open_input(as_target(listing)) as stream:
            raw = stream.read()
    except OSError as exc:
        raise InputError(f"--inputs-from {listing}: {exc.strerror or exc}") from None
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    lines = [line.strip() for line in raw.decode("utf-8").splitlines()]
    entries = [line for line in lines if line and not line.startswith("#")]
    if not entries:
        raise InputError(f"--inputs-from {listing}: names no input")
    return [_joined(base, entry) for entry in entries] if base else entries


def _joined(base: str, entry: str) -> str:
    """`entry` under `base` unless it is absolute already (a URL, or a path from /)."""
    if "://" in entry or entry.startswith("/"):
        return entry
    return str(storage.join(as_target(base), entry.lstrip("/")))


def expand_inputs(inputs: Sequence[str | Path]) -> list[Target]:
    """Files and globs to a sorted, de-duplicated list of files; a directory means its files.

    URLs (`s3://`, `https://`, ...) are expanded by fsspec (`storage.expand`) and stay strings.
    """
    found: dict[Target, None] = {}
    for item in inputs:
        target = as_target(item)
        matches = _expand_remote(target) if is_remote(target) else _expand_local(target)
        for match in matches:
            found.setdefault(match, None)
    names: dict[str, Target] = {}
    for target in found:
        name = base_name(target)
        if name in names:
            raise InputError(
                f"inputs {names[name]} and {target} share a file name; their outputs would clash"
            )
        names[name] = target
    return list(found)


def _expand_local(path: Path) -> list[Path]:
    text = str(path)
    if path.is_dir():
        matches = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
    elif glob.has_magic(text):
        matches = sorted(Path(p) for p in glob.glob(text, recursive=True) if Path(p).is_file())
    else:
        matches = [path]
    if not matches:
        raise InputError(f"no input files match {text}")
    for match in matches:
        if not match.is_file():
            raise InputError(f"input {match} does not exist")
    return matches


def _expand_remote(url: str) -> list[Target]:
    matches = list(storage.expand(url))
    if not matches:
        raise InputError(f"no input files match {url}")
    return matches


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
    return Matcher.from_file(metadata if metadata is not None else BUNDLED_METADATA)


def run_extract(
    inputs: Sequence[str | Path],
    options: ExtractOptions,
    metadata: str | Path | None = None,
    workers: int = 1,
    on_progress: ProgressCallback | None = None,
    lang_map: str | Path | None = None,
    distributor: str = "local",
    ray_address: str | None = None,
    max_retries: int = 3,
) -> ExtractSummary:
    """Extract every input shard; shards that fail are reported, the others complete.

    `metadata` may be a folder of `<lang>.json` lists: each text is then matched against its
    own language's list (MetaCLIP 2), routed through `lang_map` (default: the bundled one).
    `distributor` is `local` (`workers` processes here) or `ray` (one task per shard on the
    cluster at `ray_address`, a local instance when None; `workers` 0 means all its CPUs).
    """
    if distributor not in DISTRIBUTORS:
        raise InputError(f"--distributor must be one of {', '.join(DISTRIBUTORS)}")
    if distributor == "ray":
        import_ray()  # before the metadata is loaded: fail in a second, not after it
    shards = expand_inputs(inputs)
    matcher = load_matcher(metadata, options.langs, lang_map)
    context = WorkerContext(matcher, default_language_id(), options)
    if isinstance(options.out_dir, Path):
        options.out_dir.mkdir(parents=True, exist_ok=True)
    folder = staging_dir(options.out_dir)
    leftovers = staging.remove_leftovers(folder)  # what killed runs left; a live run's stays
    if distributor == "ray":
        stats = run_ray(shards, context, workers, on_progress, ray_address, max_retries)
    else:
        stats = run_local(shards, context, min(workers, len(shards)), on_progress)
    return ExtractSummary(stats, leftovers, folder)
