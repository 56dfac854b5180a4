"""The balancing arithmetic in plain Python: the definition the SQL in `sql/` follows.

The SQL is what runs; these functions state the same rules in a form anyone can check (tests
compare the two) and re-implement elsewhere (another engine, a distributed run) to the bit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from metaclip_sql.splitmix import KEEP_SALT, PICK_SALT, mix64, seed_state

__all__ = ["KEEP_SALT", "PICK_SALT", "draw", "mix64", "pick_key", "seed_state"]


def draw(seed: int, pair_key: bytes) -> float:
    """A pair's uniform draw in [0, 1): 53 bits of mix64(low half of pair_key ^ keep state).

    pair_key is `schema.pair_key(uuid, text)`; DuckDB reads it as a UUID, a big-endian integer.
    """
    low = int.from_bytes(pair_key[8:], "big")
    return (mix64(low ^ seed_state(seed, KEEP_SALT)) >> 11) / 2.0**53


def pick_key(seed: int, pair_key: bytes) -> int:
    """The key whose smallest value picks an image's one text under `--unit image`."""
    return mix64(int.from_bytes(pair_key[:8], "big") ^ seed_state(seed, PICK_SALT))


def entry_prob(count: int, t: float) -> float:
    """`least(1, t / count)`: tail entries keep everything, head entries about t texts."""
    return min(1.0, t / count)


def kept(seed: int, pair_key: bytes, entry_ids: Iterable[int], probs: Sequence[float]) -> bool:
    """A pair is kept when its draw falls under 1 - prod(1 - prob) over its entries, the chance
    that any of independent per-entry draws u_e < prob_e would keep it (one draw, same law).
    The product runs in entry_ids order, as SQL's does, so the two agree to the bit."""
    miss = 1.0
    for e in entry_ids:
        miss *= 1.0 - probs[e]
    return draw(seed, pair_key) < 1.0 - miss


def keep_probability(entry_probs: Iterable[float]) -> float:
    """Chance a pair is kept: `1 - prod(1 - prob)` over its entries (independent draws)."""
    miss = 1.0
    for prob in entry_probs:
        miss *= 1.0 - prob
    return 1.0 - miss


def t_to_p(counts: Iterable[int], t: float) -> float:
    """Tail proportion at t: the share of all matches held by entries with count < t."""
    counts = list(counts)
    total = sum(counts)
    return sum(c for c in counts if c < t) / total if total else 0.0


def p_to_t(counts: Iterable[int], p: float) -> int:
    """The count whose cumulative share (counts sorted ascending) is closest to p."""
    ordered = sorted(c for c in counts if c > 0)
    total = sum(ordered)
    best, best_gap, running = ordered[0], float("inf"), 0
    for count in ordered:
        running += count
        gap = abs(running / total - p)
        if gap < best_gap:
            best, best_gap = count, gap
    return best
