"""The balancing arithmetic in plain Python: the definition the SQL in `sql/metaclip_v1/` follows.

The SQL is what runs; these functions state the same rules in a form anyone can check (tests
compare the two) and re-implement elsewhere (another engine, a distributed run) to the bit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

#: Separates the fields hashed for a draw; it cannot occur in a uuid or a decimal number.
SEPARATOR = "\x1f"


def draw(seed: int, uuid: str, text: str, position: int) -> float:
    """The uniform draw in [0, 1) of a pair's entry at `position` (1-based) in its entry_ids.

    32 bits of D_b = md5 of `seed, uuid, text, b` joined by U+001F (SQL: `concat_ws(chr(31),
    ...)`) with b = (position - 1) // 4, read as a little-endian 128-bit integer (DuckDB's
    `md5_number`): bits 32 * ((position - 1) % 4) up, over 2^32. One md5 serves four entries.
    """
    block, chunk = divmod(position - 1, 4)
    digest = _md5_number(SEPARATOR.join((str(seed), uuid, text, str(block))))
    return ((digest >> (32 * chunk)) & 0xFFFFFFFF) / 2.0**32


def pick_key(seed: int, uuid: str, text: str) -> int:
    """The key whose smallest value picks an image's one text under `--unit image`."""
    return _md5_number(SEPARATOR.join((str(seed), "pick", uuid, text)))


def entry_prob(count: int, t: float) -> float:
    """`least(1, t / count)`: tail entries keep everything, head entries about t texts."""
    return min(1.0, t / count)


def kept(seed: int, uuid: str, text: str, entry_ids: Iterable[int], probs: Sequence[float]) -> bool:
    """A pair is kept when any of its entries' draws falls under that entry's probability."""
    return any(
        draw(seed, uuid, text, position) < probs[e] for position, e in enumerate(entry_ids, start=1)
    )


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


def _md5_number(key: str) -> int:
    return int.from_bytes(hashlib.md5(key.encode()).digest(), "little")
