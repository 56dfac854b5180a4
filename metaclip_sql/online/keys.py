"""Pair keys and entry lists as a loader has them, turned into numpy arrays.

A `pair_key` is 16 bytes (md5 of uuid U+001F text, `metaclip_sql.schema.pair_key`). Loaders hold
it as Parquet's UUID (pyarrow's uuid extension type or its fixed_size_binary(16) storage), as
`bytes` or `uuid.UUID`, or in its string form (`3903ce80-23e1-338f-f5a3-3f7caa7d8568`, what a
JSON sample carries; 32 hex digits without dashes work too). Draws read it as two big-endian
64-bit integers: `high` (bytes 0-7, the image-unit pick) and `low` (bytes 8-15, the keep draw).

Entry lists arrive as a pyarrow list array, `(offsets, values)` numpy arrays (CSR: the entries of
row i are values[offsets[i]:offsets[i + 1]]) or Python lists; they become `Lists`: a start and a
length per row into one values array (a null list is an empty one).
"""

from __future__ import annotations

import uuid as uuid_module
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa

from metaclip_sql.schema import pair_key as pair_key_of

_DASHES = (8, 13, 18, 23)


class Lists(NamedTuple):
    """Variable-length rows of ints: row i is values[starts[i]:starts[i] + lengths[i]]."""

    starts: np.ndarray  # int64
    lengths: np.ndarray  # int64
    values: np.ndarray  # integer

    def __len__(self) -> int:
        return len(self.lengths)


# --- pair keys ---------------------------------------------------------------------------------


def key_halves(keys: Any) -> tuple[np.ndarray, np.ndarray]:
    """(high, low) uint64 arrays, one per key, from any of the forms the module names."""
    raw = np.ascontiguousarray(key_bytes(keys))
    words = raw.view(">u8").reshape(-1, 2)
    return words[:, 0].astype(np.uint64), words[:, 1].astype(np.uint64)


def key_bytes(keys: Any) -> np.ndarray:
    """The keys as an (n, 16) uint8 array."""
    if isinstance(keys, pa.ChunkedArray):
        keys = keys.combine_chunks() if keys.num_chunks != 1 else keys.chunk(0)
    if isinstance(keys, pa.Array):
        return _arrow_key_bytes(keys)
    if isinstance(keys, np.ndarray):
        return _numpy_key_bytes(keys)
    return _python_key_bytes(list(keys))


def _arrow_key_bytes(keys: pa.Array) -> np.ndarray:
    if keys.null_count:
        raise ValueError(f"pair_key: {keys.null_count} null key(s)")
    if isinstance(keys.type, pa.BaseExtensionType):
        keys = keys.storage
    dtype = keys.type
    n = len(keys)
    if pa.types.is_fixed_size_binary(dtype):
        if dtype.byte_width != 16:
            raise ValueError(f"pair_key: fixed_size_binary({dtype.byte_width}), expected 16 bytes")
        buf = keys.buffers()[1]
        flat = np.frombuffer(buf, dtype=np.uint8, count=n * 16, offset=keys.offset * 16)
        return flat.reshape(n, 16)
    if pa.types.is_string(dtype) or pa.types.is_large_string(dtype):
        return _hex_rows(_arrow_fixed_rows(keys, (36, 32), "a key's string form"))
    if pa.types.is_binary(dtype) or pa.types.is_large_binary(dtype):
        return _arrow_fixed_rows(keys, (16,), "a 16-byte key")
    if pa.types.is_string_view(dtype) or pa.types.is_binary_view(dtype):
        return key_bytes(keys.to_pylist())
    raise ValueError(f"pair_key: cannot read a key from a {dtype} column")


def _arrow_fixed_rows(keys: pa.Array, widths: tuple[int, ...], what: str) -> np.ndarray:
    """The bytes of a (large_)string/binary array whose values all have one of `widths`."""
    n = len(keys)
    large = pa.types.is_large_string(keys.type) or pa.types.is_large_binary(keys.type)
    dtype = np.dtype(np.int64 if large else np.int32)
    offsets = np.frombuffer(
        keys.buffers()[1], dtype=dtype, count=n + 1, offset=keys.offset * dtype.itemsize
    )
    lengths = np.diff(offsets)
    width = int(lengths[0]) if n else widths[0]
    if width not in widths or (n and not (lengths == width).all()):
        raise ValueError(f"pair_key: expected {what} ({' or '.join(map(str, widths))} long)")
    data = np.frombuffer(keys.buffers()[2] or b"", dtype=np.uint8)
    return data[offsets[0] : offsets[0] + n * width].reshape(n, width)


def _hex_rows(chars: np.ndarray) -> np.ndarray:
    """(n, 36) dashed or (n, 32) plain hex characters -> (n, 16) bytes."""
    n, width = chars.shape
    if width == 36 and n and not (chars[:, _DASHES] == ord("-")).all():
        raise ValueError("pair_key: a 36-character key must be a dashed UUID string")
    text = chars.tobytes()
    raw = _from_hex(text.replace(b"-", b"") if width == 36 else text, n)
    return np.frombuffer(raw, dtype=np.uint8).reshape(n, 16)


def _from_hex(text: bytes, n: int) -> bytes:
    """32 n hex digits -> 16 n bytes (bytes.fromhex, in C; it skips spaces, so count)."""
    try:
        raw = bytes.fromhex(text.decode("ascii")) if len(text) == 32 * n else b""
    except (UnicodeDecodeError, ValueError):
        raw = b""
    if len(raw) != 16 * n:
        raise ValueError("pair_key: a key string holds a character that is not a hex digit")
    return raw


def _numpy_key_bytes(keys: np.ndarray) -> np.ndarray:
    if keys.dtype == np.uint8 and keys.ndim == 2 and keys.shape[1] == 16:
        return keys
    if keys.dtype.kind in "SV" and keys.dtype.itemsize == 16:
        return np.ascontiguousarray(keys).view(np.uint8).reshape(-1, 16)
    if keys.dtype.kind in "SV" and keys.dtype.itemsize in (32, 36):
        chars = np.ascontiguousarray(keys).view(np.uint8).reshape(len(keys), -1)
        return _hex_rows(chars)
    return _python_key_bytes(keys.tolist())


def _python_key_bytes(keys: list) -> np.ndarray:
    if not keys:
        return np.empty((0, 16), dtype=np.uint8)
    first = keys[0]
    if isinstance(first, str):
        try:
            joined = "".join(keys).encode("ascii", "replace")
        except TypeError:  # not all strings
            return _mixed_key_bytes(keys)
        width = len(first)
        if width not in (32, 36) or len(joined) != width * len(keys):
            raise ValueError("pair_key: key strings must all be 36 (dashed) or 32 hex digits")
        return _hex_rows(np.frombuffer(joined, dtype=np.uint8).reshape(len(keys), width))
    if isinstance(first, (bytes, bytearray)) and all(len(k) == 16 for k in keys):
        try:
            joined = b"".join(keys)
        except TypeError:
            return _mixed_key_bytes(keys)
        return np.frombuffer(joined, dtype=np.uint8).reshape(len(keys), 16)
    return _mixed_key_bytes(keys)


def _mixed_key_bytes(keys: list) -> np.ndarray:
    return np.frombuffer(b"".join(key_one(k) for k in keys), dtype=np.uint8).reshape(-1, 16)


def key_one(key: Any) -> bytes:
    """One key as its 16 bytes (from bytes, uuid.UUID, a string form or 16 ints)."""
    if isinstance(key, (bytes, bytearray, memoryview)):
        key = bytes(key)
        if len(key) == 16:
            return key
    elif isinstance(key, uuid_module.UUID):
        return key.bytes
    elif isinstance(key, str) and len(key) in (32, 36):
        if len(key) == 36:
            if any(key[i] != "-" for i in _DASHES):
                raise ValueError("pair_key: a 36-character key must be a dashed UUID string")
            key = key.replace("-", "")
        return _from_hex(key.encode("ascii", "replace"), 1)
    elif isinstance(key, (list, tuple, np.ndarray)) and len(key) == 16:
        return bytes(int(b) for b in key)
    elif isinstance(key, np.void) and key.dtype.itemsize == 16:
        return key.tobytes()
    raise ValueError(f"pair_key: cannot read a 16-byte key from {key!r:.60}")


def halves_one(key: Any) -> tuple[int, int]:
    raw = key_one(key)
    return int.from_bytes(raw[:8], "big"), int.from_bytes(raw[8:], "big")


def key_string(key: Any) -> str:
    """A key's string form, as JSON samples carry it (`str(uuid.UUID)`)."""
    return str(uuid_module.UUID(bytes=key_one(key)))


def computed_key(image_uuid: str, text: str) -> bytes:
    """The key of (uuid, text), for samples that carry those but not the key."""
    return pair_key_of(image_uuid, text)


# --- entry lists -------------------------------------------------------------------------------


def entry_lists(entry_ids: Any) -> Lists:
    """Rows of entry ids as `Lists`, from a pyarrow list array, (offsets, values) or lists."""
    if isinstance(entry_ids, Lists):
        return entry_ids
    if isinstance(entry_ids, pa.ChunkedArray):
        entry_ids = entry_ids.combine_chunks() if entry_ids.num_chunks != 1 else entry_ids.chunk(0)
    if isinstance(entry_ids, pa.Array):
        return _arrow_lists(entry_ids)
    if isinstance(entry_ids, tuple) and len(entry_ids) == 2:
        offsets, values = (np.asarray(a) for a in entry_ids)
        if offsets.ndim == 1 and values.ndim == 1 and offsets.dtype.kind in "iu":
            return csr_lists(offsets, values)
    return python_lists(entry_ids)


def csr_lists(offsets: np.ndarray, values: np.ndarray) -> Lists:
    offsets = offsets.astype(np.int64, copy=False)
    if len(offsets) == 0:
        raise ValueError("entry_ids: offsets must hold n + 1 values")
    lengths = np.diff(offsets)
    if len(lengths) and (lengths.min() < 0 or offsets[-1] > len(values) or offsets[0] < 0):
        raise ValueError("entry_ids: offsets must be non-decreasing and within the values")
    return Lists(offsets[:-1], lengths, _int_values(values))


def _arrow_lists(array: pa.Array) -> Lists:
    dtype = array.type
    if not (pa.types.is_list(dtype) or pa.types.is_large_list(dtype)):
        return python_lists(array.to_pylist())  # list views, fixed-size lists: rare, slower
    offsets = np.asarray(array.offsets).astype(np.int64)
    values = array.values
    if len(offsets) and (offsets[0] != 0 or offsets[-1] != len(values)):
        values = values.slice(offsets[0], offsets[-1] - offsets[0])  # a slice of a larger array
        offsets = offsets - offsets[0]
    if values.null_count:
        raise ValueError("entry_ids: a list holds a null entry id")
    lengths = np.diff(offsets)
    if array.null_count:
        lengths = np.where(np.asarray(array.is_null()), 0, lengths)
    return Lists(offsets[:-1], lengths, _int_values(values.to_numpy(zero_copy_only=False)))


def python_lists(rows: Sequence) -> Lists:
    rows = list(rows)
    lengths = np.fromiter((0 if r is None else len(r) for r in rows), np.int64, len(rows))
    starts = np.zeros(len(rows), dtype=np.int64)
    if len(rows) > 1:
        np.cumsum(lengths[:-1], out=starts[1:])
    flat = [v for r in rows if r is not None for v in r]
    values = np.fromiter((int(v) for v in flat), np.int64, len(flat))
    return Lists(starts, lengths, values)


def _int_values(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values)
    if values.dtype.kind not in "iu":
        if values.size and not np.array_equal(values, np.floor(values)):
            raise ValueError("entry_ids: entry ids must be integers")
        values = values.astype(np.int64)
    return values
