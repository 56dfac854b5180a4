"""The hash every balancing draw is made of, in plain Python: splitmix64's finalizer and the
state a run's draws start from (`metaclip_mix64` and the seed states of sql/common/draws.sql).

Offline balance (`balance/sampling.py`, the SQL's statement) and online curation
(`online/draws.py`, the same bits on numpy arrays) both use it; it lives outside both stages so
that importing it loads nothing else (online curation runs in data loaders, without DuckDB).
"""

from __future__ import annotations

MASK64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15  # 2^64 / golden ratio: spreads the salts apart
#: Salts of the two draws a run makes: a pair's u, and under `--unit image` its pick key.
KEEP_SALT, PICK_SALT = 0, 1


def mix64(z: int) -> int:
    """splitmix64's finalizer: a bijection on 64 bits (`metaclip_mix64` in sql/common/draws.sql)."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def seed_state(seed: int, salt: int) -> int:
    """The state a run's draws start from: the seed (two's complement) mixed with a salt."""
    return mix64((seed & MASK64) ^ ((salt * GOLDEN) & MASK64))
