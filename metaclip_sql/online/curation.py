"""OnlineCuration: MetaCLIP's balancing decided per pair inside a data loader, every epoch anew.

A pair with entries E is kept in epoch e when `u_e < 1 - prod(1 - min(1, t / count[x]))` over
x in E, the product taken in entry_ids order, u_e the pair's draw for (seed, epoch) (draws.py).
Epoch 0 is the offline `balance` run: same states, same arithmetic as `sql/metaclip_v1/
007_keep_rule.sql` and `balance/sampling.py`, so the same pairs, to the bit. Nothing here needs
DuckDB or torch: the counts are a float64 table indexed by entry id (8 bytes an entry id).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from metaclip_sql.online import draws
from metaclip_sql.online.counts import (
    CurationSourceError,
    find_balance_output,
    langs_of,
    read_entry_counts,
)
from metaclip_sql.online.keys import Lists, entry_lists, halves_one, key_halves

UNITS = ("pair", "image")
#: What to do with an entry id the counts do not know: `error` (the counts do not describe the
#: pool), or `tail` (count 0: prob 1, the pair is always kept, as min(1, t / 0) says).
UNKNOWN_POLICIES = ("error", "tail")
_MAX_U64 = np.iinfo(np.uint64).max


class OnlineCuration:
    """Per-pair keep decisions for any epoch, from per-entry counts and t, seed, unit."""

    def __init__(
        self,
        entry_ids: Iterable[int],
        counts: Iterable[int],
        *,
        t: float,
        seed: int = 0,
        unit: str = "pair",
        lang: str | None = None,
        unknown: str = "error",
    ) -> None:
        ids = np.asarray(entry_ids, dtype=np.int64)
        cnt = np.asarray(counts, dtype=np.int64)
        if ids.shape != cnt.shape or ids.ndim != 1:
            raise ValueError("entry_ids and counts must be 1-D and of one length")
        if not (isinstance(t, (int, float, np.number)) and t > 0):
            raise ValueError(f"t must be > 0, got {t!r}")
        if unit not in UNITS:
            raise ValueError(f"unit must be one of {', '.join(UNITS)}, got {unit!r}")
        if unknown not in UNKNOWN_POLICIES:
            raise ValueError(f"unknown must be one of {', '.join(UNKNOWN_POLICIES)}")
        if len(ids) and (ids.min() < 0 or cnt.min() <= 0):
            raise ValueError("entry ids must be >= 0 and counts > 0")
        if len(ids) and np.bincount(ids).max() > 1:  # (numpy 2.4's np.unique is slow)
            raise ValueError("entry ids must be distinct")
        self.t = float(t)
        self.seed = int(seed)
        self.unit = unit
        self.lang = lang
        self.langs = langs_of(lang)
        self.unknown = unknown
        self.entries = len(ids)
        # factor[e] = 1 - t / count[e] for head entries, 0 for tail ones (prob 1): the numbers
        # 007_keep_rule.sql multiplies, computed with the same IEEE operations (t / count in
        # float64, then 1 - that). Unknown ids: NaN (error) or 0 (tail).
        size = int(ids.max()) + 1 if len(ids) else 0
        self._factor = np.full(size, np.nan if unknown == "error" else 0.0)
        ratio = self.t / cnt.astype(np.float64)
        self._factor[ids] = np.where(ratio < 1.0, 1.0 - ratio, 0.0)
        self.heads = int(np.count_nonzero(ratio < 1.0))
        self.source: dict[str, Any] = {}

    # --- constructors ---------------------------------------------------------------------------

    @classmethod
    def from_counts(
        cls,
        path: str | Path,
        *,
        t: float,
        seed: int = 0,
        unit: str = "pair",
        lang: str | None = None,
        unknown: str = "error",
    ) -> OnlineCuration:
        """From an `entry_counts.parquet` (rows with entry_id >= 0) and the given t, seed, unit."""
        ids, counts = read_entry_counts(path)
        curation = cls(ids, counts, t=t, seed=seed, unit=unit, lang=lang, unknown=unknown)
        curation.source = {"entry_counts": str(path)}
        return curation

    @classmethod
    def from_balance(
        cls, path: str | Path, *, dry_run: bool | None = None, unknown: str = "error"
    ) -> OnlineCuration:
        """From a balance `--out` folder: its entry counts and its manifest's t, seed, unit, lang.

        `dry_run`: read the dry run's outputs (True), the full run's (False), or whichever is
        there (None; both there is an error)."""
        found = find_balance_output(path, dry_run)
        if not found.entry_counts.is_file():
            raise CurationSourceError(f"{found.folder}: {found.entry_counts.name} is missing")
        m = found.manifest
        ids, counts = read_entry_counts(found.entry_counts)
        curation = cls(
            ids,
            counts,
            t=m["t"],
            seed=m.get("seed", 0),
            unit=m.get("unit", "pair"),
            lang=m.get("lang"),
            unknown=unknown,
        )
        curation.source = {
            "balance": str(found.folder),
            "dry_run": found.dry_run,
            "kept": m.get("counts", {}).get("kept"),
            "pairs": m.get("counts", {}).get("pairs"),
        }
        return curation

    def __repr__(self) -> str:
        return (
            f"OnlineCuration(t={self.t:g}, seed={self.seed}, unit={self.unit!r}, "
            f"lang={self.lang!r}, entries={self.entries:,}, heads={self.heads:,})"
        )

    # --- batches --------------------------------------------------------------------------------

    def probability(self, entry_ids: Any) -> np.ndarray:
        """Each pair's chance to be kept, 1 - prod(1 - min(1, t / count)) (0 for no entries).

        Under unit image this is the chance given that the pair is its image's text."""
        return 1.0 - self._miss(entry_lists(entry_ids))

    def keep(
        self,
        pair_keys: Any,
        entry_ids: Any,
        epoch: int = 0,
        *,
        langs: Any = None,
        uuids: Any = None,
        image_keys: Any = None,
    ) -> np.ndarray:
        """Keep decisions (bool, one per pair) for `epoch`; epoch 0 is the offline run's.

        `langs`: each pair's language; pairs outside the run's `--lang` are never kept (not
        given: every pair counts as selected). Unit image only: `image_keys`, per pair the keys
        of all its image's texts (itself included), picks the image's text exactly per sample;
        else `uuids` lets the rows of this call that share an image compete; with neither, each
        pair is taken as its image's only text (see docs/online.md, "One text per image")."""
        epoch = draws.check_epoch(epoch)
        lists = entry_lists(entry_ids)
        high, low = key_halves(pair_keys)
        if len(high) != len(lists):
            raise ValueError(f"{len(high)} pair keys but {len(lists)} entry lists")
        candidates = lists.lengths > 0
        if langs is not None and self.langs is not None:
            candidates &= self._selected(langs, len(lists))
        kept = draws.uniforms(low, draws.keep_state(self.seed, epoch)) < 1.0 - self._miss(lists)
        kept &= candidates
        if self.unit == "image":
            pick = draws.pick_keys(high, draws.pick_state(self.seed, epoch))
            if image_keys is not None:
                kept &= self._picked_among(pick, image_keys, epoch)
            elif uuids is not None:
                kept &= _picked_in_groups(pick, _group_codes(uuids, len(lists)), candidates)
        return kept

    # --- one sample -----------------------------------------------------------------------------

    def keep_one(
        self,
        pair_key: Any,
        entry_ids: Iterable[int],
        epoch: int = 0,
        *,
        lang: str | None = None,
        image_keys: Iterable[Any] | None = None,
    ) -> bool:
        """`keep` for one pair, in plain Python (the same bits; for per-sample filters)."""
        epoch = draws.check_epoch(epoch)
        high, low = halves_one(pair_key)
        ids = list(entry_ids) if entry_ids is not None else []
        if not ids or (lang is not None and self.langs is not None and lang not in self.langs):
            return False
        miss = 1.0
        for e in ids:
            miss *= self._factor_one(int(e))
        if miss != miss:
            raise self._unknown_error([int(e) for e in ids])
        if not draws.uniform_one(low, draws.keep_state(self.seed, epoch)) < 1.0 - miss:
            return False
        if self.unit == "image" and image_keys:
            state = draws.pick_state(self.seed, epoch)
            own = draws.pick_one(high, state)
            return all(own <= draws.pick_one(halves_one(k)[0], state) for k in image_keys)
        return True

    def probability_one(self, entry_ids: Iterable[int]) -> float:
        ids = [int(e) for e in entry_ids]
        miss = 1.0
        for e in ids:
            miss *= self._factor_one(e)
        if miss != miss:
            raise self._unknown_error(ids)
        return 1.0 - miss if ids else 0.0

    # --- loaders --------------------------------------------------------------------------------

    def webdataset_filter(self, epoch: Any = 0, **fields: Any):
        """A predicate for `wds.WebDataset(urls).select(...)`: reads each sample's json.

        `epoch`: an int, a callable returning it, or open_clip's `SharedEpoch` (read per call).
        `fields` rename what is read: pair_key, entry_ids, uuid, text, lang, image_keys."""
        from metaclip_sql.online.filters import WebDatasetFilter

        return WebDatasetFilter(self, epoch, **fields)

    def hf_filter(self, epoch: Any = 0, **fields: Any):
        """A function for Hugging Face `dataset.filter(f, batched=True)` (or unbatched): reads
        the columns pair_key (or uuid and caption/text), entry_ids, lang, image_keys."""
        from metaclip_sql.online.filters import HFFilter

        return HFFilter(self, epoch, **fields)

    # --- internals ------------------------------------------------------------------------------

    def _factor_one(self, e: int) -> float:
        if 0 <= e < len(self._factor):
            return float(self._factor[e])
        if e < 0:
            raise ValueError(f"entry_ids: negative entry id {e}")
        return 0.0 if self.unknown == "tail" else float("nan")

    def _factors(self, values: np.ndarray) -> np.ndarray:
        """factor[v] for every value; ids past the table are unknown."""
        if not len(values):
            return np.empty(0)
        low, high = values.min(), values.max()
        if low < 0:
            raise ValueError(f"entry_ids: negative entry id {low}")
        if high < len(self._factor):
            return self._factor[values]
        known = values < len(self._factor)
        out = np.full(len(values), np.nan if self.unknown == "error" else 0.0)
        out[known] = self._factor[values[known]]
        return out

    def _miss(self, lists: Lists) -> np.ndarray:
        """prod(factor) per row, in entry order (1 for an empty row): the chance of a miss."""
        factors = self._factors(lists.values)
        if self.unknown == "error" and len(factors) and np.isnan(factors.sum()):
            raise self._unknown_error(lists.values[np.isnan(factors)].tolist())
        return ordered_reduce(factors, lists, np.multiply, 1.0)

    def _unknown_error(self, ids: list[int]) -> ValueError:
        unknown = [e for e in ids if not (e < len(self._factor) and self._factor[e] >= 0)]
        return ValueError(
            f"entry id(s) {unknown[:5]} have no count: the counts do not describe this pool "
            "(count what the loader reads: balance --valid-uuids ... --dry-run), or pass "
            "unknown='tail'"
        )

    def _selected(self, langs: Any, n: int) -> np.ndarray:
        """Pairs whose language the run selected; an unknown (null) language counts as selected,
        as a sample without `lang` does."""
        assert self.langs is not None
        if isinstance(langs, (pa.Array, pa.ChunkedArray)):
            listed = pc.is_in(langs, value_set=pa.array(sorted(self.langs)))
            mask = np.asarray(pc.or_(listed, pc.is_null(langs)).to_numpy(zero_copy_only=False))
        else:
            mask = np.fromiter((x is None or x in self.langs for x in langs), dtype=bool)
        if len(mask) != n:
            raise ValueError(f"{len(mask)} languages for {n} pairs")
        return mask.astype(bool, copy=False)

    def _picked_among(self, pick: np.ndarray, image_keys: Any, epoch: int) -> np.ndarray:
        """Whether each pair's pick key is the smallest among its image's keys."""
        sib_lists, sib_keys = _key_lists(image_keys)
        if len(sib_lists) != len(pick):
            raise ValueError(f"{len(sib_lists)} image key lists for {len(pick)} pairs")
        high, _ = key_halves(sib_keys)
        sib_pick = draws.pick_keys(high, draws.pick_state(self.seed, epoch))
        lists = Lists(sib_lists.starts, sib_lists.lengths, np.arange(len(sib_pick)))
        smallest = ordered_reduce(sib_pick, lists, np.minimum, _MAX_U64)
        return pick <= smallest


def ordered_reduce(values: np.ndarray, lists: Lists, op: np.ufunc, empty: Any) -> np.ndarray:
    """op over each row's values, strictly left to right (`empty` for an empty row).

    A product in entry_ids order is what SQL computes, so it must be this order to the bit.
    numpy's `reduceat` runs each segment in order (checked once per process by
    `_reduceat_in_order`; any other numpy takes the loop below) and needs rows laid end to end,
    as a list array's are; otherwise rows are visited by position, left to right."""
    lengths, starts = lists.lengths, lists.starts
    dtype = values.dtype if len(values) else np.asarray(empty).dtype
    out = np.full(len(lengths), empty, dtype=dtype)
    nonempty = lengths > 0
    rows = None if nonempty.all() else np.flatnonzero(nonempty)
    first = starts if rows is None else starts[rows]
    if not len(first):
        return out
    ends = first + (lengths if rows is None else lengths[rows])
    if np.array_equal(first[1:], ends[:-1]) and _reduceat_in_order():
        segment = values[first[0] : ends[-1]]
        reduced = op.reduceat(segment, first - first[0])
        if rows is None:
            return reduced
        out[rows] = reduced
        return out
    rows = np.arange(len(lengths)) if rows is None else rows
    out[rows] = values[starts[rows]]
    rows = rows[lengths[rows] > 1]
    j = 1
    while len(rows):
        out[rows] = op(out[rows], values[starts[rows] + j])
        j += 1
        rows = rows[lengths[rows] > j]
    return out


@lru_cache(maxsize=1)
def _reduceat_in_order() -> bool:
    """Whether this numpy's multiply.reduceat multiplies each segment left to right: random
    segments of 3 to 10 factors, where another association order changes the last bits."""
    rng = np.random.default_rng(12345)
    lengths = rng.integers(3, 11, size=300)
    values = rng.random(int(lengths.sum())) * 0.999 + 0.0005
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    got = np.multiply.reduceat(values, starts)
    for i, (s, n) in enumerate(zip(starts.tolist(), lengths.tolist(), strict=True)):
        acc = 1.0
        for v in values[s : s + n].tolist():
            acc *= v
        if acc != got[i]:
            return False
    return True


def _group_codes(uuids: Any, n: int) -> np.ndarray:
    if isinstance(uuids, pa.ChunkedArray):
        uuids = uuids.combine_chunks()
    if not isinstance(uuids, pa.Array):
        uuids = pa.array(uuids if isinstance(uuids, np.ndarray) else list(uuids))
    codes = pc.dictionary_encode(uuids).indices.to_numpy(zero_copy_only=False)
    if len(codes) != n:
        raise ValueError(f"{len(codes)} uuids for {n} pairs")
    return np.asarray(codes, dtype=np.int64)


def _picked_in_groups(pick: np.ndarray, codes: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Whether each candidate has the smallest pick key among the candidates of its group."""
    rows = np.flatnonzero(candidates)
    group, key = codes[rows], pick[rows]
    smallest = np.full(int(codes.max()) + 1 if len(codes) else 0, _MAX_U64, dtype=np.uint64)
    np.minimum.at(smallest, group, key)
    picked = np.zeros(len(pick), dtype=bool)
    picked[rows] = key == smallest[group]
    return picked


def _key_lists(image_keys: Any) -> tuple[Lists, Any]:
    """Rows of keys (a pyarrow list array or lists of keys) as Lists over a flat key array."""
    if isinstance(image_keys, pa.ChunkedArray):
        image_keys = image_keys.combine_chunks()
    if isinstance(image_keys, pa.Array) and (
        pa.types.is_list(image_keys.type) or pa.types.is_large_list(image_keys.type)
    ):
        offsets = np.asarray(image_keys.offsets).astype(np.int64)
        values = image_keys.values
        if len(offsets) and (offsets[0] != 0 or offsets[-1] != len(values)):
            values = values.slice(offsets[0], offsets[-1] - offsets[0])
            offsets = offsets - offsets[0]
        lengths = np.diff(offsets)
        if image_keys.null_count:
            lengths = np.where(np.asarray(image_keys.is_null()), 0, lengths)
        return Lists(offsets[:-1], lengths, np.empty(0)), values
    rows = [[] if r is None else list(r) for r in image_keys]
    lengths = np.fromiter((len(r) for r in rows), np.int64, len(rows))
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    return Lists(starts, lengths, np.empty(0)), [k for r in rows for k in r]
