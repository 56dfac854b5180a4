"""Per-epoch draws: balance's hash (`metaclip_sql.splitmix`) on numpy uint64 arrays, one state per epoch.

Epoch 0 uses the states an offline `balance --seed S` run uses, so its decisions are that run's;
epoch e > 0 mixes e into each state, so its draws are a fresh function of (seed, epoch, pair_key):
no generator, no order, nothing shared between workers.

    keep_state(S, 0) = seed_state(S, KEEP_SALT)           (balance's u)
    pick_state(S, 0) = seed_state(S, PICK_SALT)           (balance's --unit image pick)
    state(S, salt, e) = mix64(seed_state(S, salt) XOR seed_state(e, EPOCH_SALT))   for e > 0
    u = (mix64(low64(pair_key) XOR keep_state) >> 11) / 2^53
    pick = mix64(high64(pair_key) XOR pick_state)
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from metaclip_sql.splitmix import KEEP_SALT, PICK_SALT, mix64, seed_state

#: Salt of the epoch's own state (0 and 1 are balance's keep and pick salts).
EPOCH_SALT = 2
_C1 = np.uint64(0xBF58476D1CE4E5B9)
_C2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = (np.uint64(k) for k in (30, 27, 31, 11))
_INV_2_53 = 1.0 / 9007199254740992.0  # a power of two: multiplying is dividing, exactly


def check_epoch(epoch: int) -> int:
    if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) or epoch < 0:
        raise ValueError(f"epoch must be an integer >= 0, got {epoch!r}")
    return int(epoch)


@lru_cache(maxsize=256)
def state(seed: int, salt: int, epoch: int) -> int:
    """The state an epoch's draws start from (epoch 0: the offline run's)."""
    base = seed_state(seed, salt)
    if epoch == 0:
        return base
    return mix64(base ^ seed_state(epoch, EPOCH_SALT))


def keep_state(seed: int, epoch: int) -> int:
    return state(seed, KEEP_SALT, check_epoch(epoch))


def pick_state(seed: int, epoch: int) -> int:
    return state(seed, PICK_SALT, check_epoch(epoch))


def mix64_inplace(z: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer on a uint64 array, in place (products wrap modulo 2^64)."""
    tmp = np.empty_like(z)
    np.right_shift(z, _S30, out=tmp)
    np.bitwise_xor(z, tmp, out=z)
    np.multiply(z, _C1, out=z)
    np.right_shift(z, _S27, out=tmp)
    np.bitwise_xor(z, tmp, out=z)
    np.multiply(z, _C2, out=z)
    np.right_shift(z, _S31, out=tmp)
    np.bitwise_xor(z, tmp, out=z)
    return z


def uniforms(low: np.ndarray, keep: int) -> np.ndarray:
    """Each pair's u in [0, 1) from the low 64 bits of its key (float64, 53 bits)."""
    z = np.bitwise_xor(low, np.uint64(keep))
    mix64_inplace(z)
    np.right_shift(z, _S11, out=z)
    u = z.astype(np.float64)
    u *= _INV_2_53
    return u


def pick_keys(high: np.ndarray, pick: int) -> np.ndarray:
    """Each pair's pick key from the high 64 bits of its key: an image's smallest is its text."""
    return mix64_inplace(np.bitwise_xor(high, np.uint64(pick)))


def uniform_one(low: int, keep: int) -> float:
    """`uniforms` for one pair, in Python integers (the same bits)."""
    return (mix64(low ^ keep) >> 11) / 9007199254740992.0


def pick_one(high: int, pick: int) -> int:
    return mix64(high ^ pick)
