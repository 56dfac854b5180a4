"""`metaclip-sql extract` as a library call: inputs in, one Parquet per shard out, a summary back.

It expands the inputs, loads the metadata's automaton and the language model once, hands the
shards to a distributor and adds up the shards' counts. This is what the CLI and tests call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path

from metaclip_sql.errors import MetaclipError
from metaclip_sql.extract.job import ExtractJob
from metaclip_sql.extract.lid import default_language_id, parse_lang_option
from metaclip_sql.extract.shard import ExtractOptions, ShardStats, staging_dir
from metaclip_sql.io import paths, staging
from metaclip_sql.io.storage import Target, as_target, base_name
from metaclip_sql.metadata.lang import LanguageMatchers, load_folder_lang_map
from metaclip_sql.metadata.load import BUNDLED_METADATA
from metaclip_sql.metadata.matching import Matcher
from metaclip_sql.runtime import DISTRIBUTORS
from metaclip_sql.runtime import ray as ray_runtime
from metaclip_sql.runtime.local import ProgressCallback, default_workers, run_local

_SUMMED = [f.name for f in fields(ShardStats) if f.type in ("int", "float", int, float)]


class InputError(MetaclipError):
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
    """The shards `--inputs-from` names (`io.paths.read_list`)."""
    return paths.read_list(listing, base)


def expand_inputs(inputs: Sequence[str | Path]) -> list[Target]:
    """Shards named by files, folders (their files), globs and URLs (`io.paths.expand`); two
    shards may not share a file name, since their outputs would."""
    found = paths.expand(inputs, remote=True)
    names: dict[str, Target] = {}
    for target in found:
        name = base_name(target)
        if name in names:
            raise InputError(
                f"inputs {names[name]} and {target} share a file name; their outputs would clash"
            )
        names[name] = target
    return found


def load_matcher(
    metadata: str | Path | None,
    langs: frozenset[str] | None,
    lang_map: str | Path | None = None,
) -> Matcher | LanguageMatchers:
    """One Matcher for a list file (or the bundled list), per-language matchers for a folder."""
    if metadata is not None and Path(metadata).is_dir():
        return LanguageMatchers(metadata, load_folder_lang_map(metadata, lang_map), langs)
    if lang_map is not None:
        raise InputError("--lang-map needs --metadata to be a folder of <lang>.json lists")
    return Matcher.from_file(metadata if metadata is not None else BUNDLED_METADATA)


@dataclass(frozen=True)
class ExtractPlan:
    """What `run_extract` is given: the shards named, the per-shard options, the worker count."""

    shards: list[Target]
    options: ExtractOptions
    workers: int


def plan_extract(
    inputs: Sequence[str] = (),
    inputs_from: Sequence[str] = (),
    inputs_base: str | None = None,
    *,
    out: str | Path = "matched",
    lang: str = "en",
    keep_unmatched: bool = False,
    overwrite: bool = False,
    page_timeout: float = 60.0,
    workers: int = 0,
    distributor: str = "local",
    ray_address: str | None = None,
) -> ExtractPlan:
    """Check how the options combine, read the `--inputs-from` lists, expand every input and
    settle the defaults (workers 0: all cores here, the cluster's CPUs with ray)."""
    if distributor == "local" and ray_address is not None:
        raise InputError("--ray-address needs --distributor ray")
    if not inputs and not inputs_from:
        raise InputError("give shards, or --inputs-from a file listing them")
    if inputs_base is not None and not inputs_from:
        raise InputError("--inputs-base needs --inputs-from")
    listed = [x for listing in inputs_from for x in read_input_list(listing, inputs_base)]
    options = ExtractOptions(
        out_dir=as_target(out),
        langs=parse_lang_option(lang),
        keep_unmatched=keep_unmatched,
        overwrite=overwrite,
        page_timeout=page_timeout,
    )
    shards = expand_inputs([*inputs, *listed])
    return ExtractPlan(
        shards, options, workers or (0 if distributor == "ray" else default_workers())
    )


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
    faults: Sequence[ray_runtime.Fault] = (),
) -> ExtractSummary:
    """Extract every input shard; shards that fail are reported, the others complete.

    `metadata` may be a folder of `<lang>.json` lists: each text is then matched against its
    own language's list (MetaCLIP 2), routed through `lang_map` (default: the bundled one).
    `distributor` is `local` (`workers` processes here) or `ray` (one task per shard on the
    cluster at `ray_address`, a local instance when None; `workers` 0 means all its CPUs).
    `faults` is for tests (`runtime.ray.Fault`, stage `shard`).
    """
    if distributor not in DISTRIBUTORS:
        raise InputError(f"--distributor must be one of {', '.join(DISTRIBUTORS)}")
    if distributor == "ray":
        ray_runtime.import_ray()  # before the metadata is loaded: fail in a second, not after it
    shards = expand_inputs(inputs)
    matcher = load_matcher(metadata, options.langs, lang_map)
    job = ExtractJob(matcher, default_language_id(), options)
    if isinstance(options.out_dir, Path):
        options.out_dir.mkdir(parents=True, exist_ok=True)
    folder = staging_dir(options.out_dir)
    leftovers = staging.remove_leftovers(folder)  # what killed runs left; a live run's stays
    if distributor == "ray":
        stats = ray_runtime.run_shards(
            shards, job, workers, on_progress, ray_address, max_retries, faults
        )
    else:
        stats = run_local(shards, job, min(workers, len(shards)), on_progress)
    return ExtractSummary(stats, leftovers, folder)
