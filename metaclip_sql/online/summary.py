"""How many pairs the first N epochs of online curation keep, and how many distinct ones in all.

`epochs_summary` is what `balance --epochs N` and `stats --epochs N` print: per epoch the pairs
kept (epoch 0 is the offline sample), the expected size `sum(p)` with its binomial spread, and the
distinct pairs (and images) N epochs see together, against the one offline sample.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.compute as pc

from metaclip_sql.online.counts import CurationSourceError, find_balance_output
from metaclip_sql.online.curation import OnlineCuration
from metaclip_sql.online.pool import Pool, read_pool


@dataclass
class EpochsSummary:
    """Numbers for the first `epochs` epochs of online curation over one pool."""

    t: float
    seed: int
    unit: str
    lang: str | None
    pairs: int  # candidate pairs in the pool (deduplicated)
    images: int
    expected: float  # expected pairs kept per epoch: sum(p) (unit image: per image, mean p)
    spread: float  # its standard deviation, sqrt(sum(p (1 - p)))
    kept: list[int] = field(default_factory=list)  # per epoch, epoch 0 first
    distinct: list[int] = field(default_factory=list)  # distinct pairs seen by epochs 0..e
    distinct_images: list[int] = field(default_factory=list)
    always: int | None = None  # unit pair: pairs with p = 1 (a tail entry), kept every epoch
    offline: int | None = None  # what the balance run recorded as kept, if read from one
    source: dict[str, Any] = field(default_factory=dict)

    @property
    def epochs(self) -> int:
        return len(self.kept)

    def record(self) -> dict[str, Any]:
        return {**asdict(self), "epochs": self.epochs}

    def summary(self) -> str:
        """Lines for the terminal."""
        if not self.kept:
            return "online: 0 epochs"
        first = self.kept[0]
        lines = [
            f"online curation, {self.epochs} epoch(s) at t={self.t:g}, seed {self.seed}, unit "
            f"{self.unit}: pool {self.pairs:,} pairs, {self.images:,} images; expected per "
            f"epoch {self.expected:,.1f} +- {self.spread:,.1f}",
        ]
        if self.offline is not None:
            same = "the same as" if self.offline == first else "NOT the same as"
            lines.append(f"epoch 0 keeps {first:,}: {same} the offline run's {self.offline:,}")
        for epoch, (kept, seen) in enumerate(zip(self.kept, self.distinct, strict=True)):
            lines.append(
                f"  epoch {epoch:>3}: kept {kept:>12,}   distinct so far {seen:>12,} "
                f"({seen / first if first else 0:.2f}x the offline sample)"
            )
        if self.always is not None:
            sampled = self.pairs - self.always
            fresh = self.distinct[-1] - self.always
            lines.append(
                f"{self.always:,} pairs have a tail entry (kept every epoch); of the other "
                f"{sampled:,}, epoch 0 keeps {first - self.always:,}, {self.epochs} epochs "
                f"{fresh:,} ({fresh / max(1, first - self.always):.2f}x)"
            )
        lines.append(
            f"{self.epochs} epochs see {self.distinct[-1]:,} distinct pairs "
            f"({self.distinct[-1] / self.pairs if self.pairs else 0:.1%} of the pool) and "
            f"{self.distinct_images[-1]:,} distinct images; one offline sample: {first:,} pairs"
        )
        return "\n".join(lines)


def check_epochs(epochs: int, worldwide: bool = False) -> None:
    """`--epochs N` before anything runs: N >= 1, and MetaCLIP 1 outputs only."""
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise CurationSourceError(f"--epochs must be an integer >= 1, got {epochs!r}")
    if worldwide:
        raise CurationSourceError("--epochs reads MetaCLIP 1 outputs; --worldwide is not supported")


def epochs_summary(
    source: str | Path | Iterable[str | Path],
    epochs: int,
    *,
    dry_run: bool | None = None,
    t: float | None = None,
    seed: int = 0,
    unit: str = "pair",
    lang: str | None = "en",
    valid_uuids: Sequence[str | Path] = (),
) -> EpochsSummary:
    """Summarise `epochs` epochs of online curation.

    `source` is a balance `--out` folder (its manifest gives t, seed, unit, lang, the inputs and
    --valid-uuids; its entry counts the probabilities; `dry_run` picks which of its runs), or
    extract outputs (files, folders, globs: then `t` is required, counts are computed here)."""
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise CurationSourceError(f"--epochs must be an integer >= 1, got {epochs!r}")
    if _is_balance_output(source):
        found = find_balance_output(source, dry_run)  # type: ignore[arg-type]
        curation = OnlineCuration.from_balance(source, dry_run=found.dry_run)  # type: ignore[arg-type]
        m = found.manifest
        pool = read_pool(
            [i["path"] for i in m.get("inputs", [])],
            lang=m.get("lang"),
            valid_uuids=[v["path"] for v in m.get("valid_uuids", [])],
        )
        offline = m.get("counts", {}).get("kept")
        origin = {"balance": str(found.folder), "dry_run": found.dry_run}
    else:
        if t is None:
            raise CurationSourceError(
                "t is required when the source is a pool, not a balance output"
            )
        pool = read_pool(source, lang=lang, valid_uuids=valid_uuids)  # type: ignore[arg-type]
        curation = curation_for_pool(pool, t=t, seed=seed, unit=unit, lang=lang)
        offline = None
        origin = {"inputs": [str(f) for f in pool.files]}
    return summarize(curation, pool, epochs, offline=offline, source=origin)


def curation_for_pool(
    pool: Pool, *, t: float, seed: int = 0, unit: str = "pair", lang: str | None = "en"
) -> OnlineCuration:
    """Counts over the pool's deduplicated candidates, as balance's would be."""
    values = pool.table["entry_ids"].combine_chunks().flatten().to_numpy()
    if not len(values):
        raise CurationSourceError("no candidate pairs in the pool")
    counts = np.bincount(values.astype(np.int64))
    ids = np.flatnonzero(counts)
    return OnlineCuration(ids, counts[ids], t=t, seed=seed, unit=unit, lang=lang)


def summarize(
    curation: OnlineCuration,
    pool: Pool,
    epochs: int,
    *,
    offline: int | None = None,
    source: dict[str, Any] | None = None,
) -> EpochsSummary:
    table = pool.table
    keys, entries = table["pair_key"], table["entry_ids"]
    codes = pc.dictionary_encode(table["uuid"].combine_chunks()).indices.to_numpy(False)
    codes = np.asarray(codes, dtype=np.int64)
    n_images = int(codes.max()) + 1 if len(codes) else 0
    p = curation.probability(entries)
    if curation.unit == "image":  # each text is its image's with chance 1 / (texts of the image)
        per_image = np.bincount(codes, minlength=n_images)
        p = p / per_image[codes]
        by_image = np.bincount(codes, weights=p, minlength=n_images)
        expected, spread = (
            float(by_image.sum()),
            math.sqrt(float((by_image * (1 - by_image)).sum())),
        )
    else:
        expected, spread = float(p.sum()), math.sqrt(float((p * (1 - p)).sum()))
    always = int(np.count_nonzero(p == 1.0)) if curation.unit == "pair" else None
    seen = np.zeros(len(codes), dtype=bool)
    result = EpochsSummary(
        t=curation.t,
        seed=curation.seed,
        unit=curation.unit,
        lang=curation.lang,
        pairs=len(codes),
        images=n_images,
        expected=expected,
        spread=spread,
        always=always,
        offline=offline,
        source=source or {},
    )
    for epoch in range(epochs):
        kept = curation.keep(keys, entries, epoch, uuids=codes)
        seen |= kept
        result.kept.append(int(kept.sum()))
        result.distinct.append(int(seen.sum()))
        result.distinct_images.append(int(np.count_nonzero(np.bincount(codes[seen]))))
    return result


def _is_balance_output(source: Any) -> bool:
    if not isinstance(source, (str, Path)):
        return False
    path = Path(source)
    if path.is_file():
        return path.name.startswith("manifest")
    return path.is_dir() and any(
        (path / name).is_file() for name in ("manifest.json", "manifest.dry-run.json")
    )


__all__ = ["CurationSourceError", "EpochsSummary", "epochs_summary"]
