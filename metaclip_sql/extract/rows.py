"""A shard's output rows: column lists filled per page, written to Parquet in batches.

Arrow arrays are built straight from buffers (UTF-8 bytes and offsets, `array` of ints and
floats): `pyarrow.array()` on a Python list would import pandas on first use (a third of a
second, paid in every forked shard worker), and is slower for these column types. The result
equals `pa.table(columns, schema=PAIRS_SCHEMA)`, which remains the path for what the fast one
cannot do (a string that is not UTF-8-encodable, a batch past 2 GiB of text, a null
score): the same table,
or the same error.
"""

from __future__ import annotations

from array import array
from itertools import accumulate, chain
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from metaclip_sql.schema import PAIRS_SCHEMA

#: Rows buffered before they are written (bounded memory per shard); checked after each page.
BATCH_ROWS = 50_000


def string_array(values: list) -> pa.Array:
    """A `string` array of `values` (str or None); raises like `pa.array` on a lone surrogate
    (UnicodeEncodeError) and OverflowError past 2 GiB (the caller falls back)."""
    encoded = [b"" if v is None else v.encode() for v in values]
    offsets = array("i", accumulate(map(len, encoded), initial=0))
    buffers = [_validity(values), pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))]
    return pa.Array.from_buffers(pa.string(), len(values), buffers)


def _validity(values: list) -> pa.Buffer | None:
    """Arrow's validity bitmap (LSB first), or None when no value is null."""
    if None not in values:
        return None
    bits = 0
    for i, value in enumerate(values):
        if value is not None:
            bits |= 1 << i
    return pa.py_buffer(bits.to_bytes((len(values) + 7) // 8, "little"))


def float32_array(values: list[float]) -> pa.Array:
    return pa.Array.from_buffers(
        pa.float32(), len(values), [None, pa.py_buffer(array("f", values))]
    )


def int32_lists_array(values: list[list[int]]) -> pa.Array:
    flat = array("i", chain.from_iterable(values))
    items = pa.Array.from_buffers(pa.int32(), len(flat), [None, pa.py_buffer(flat)])
    offsets = array("i", accumulate(map(len, values), initial=0))
    list_type = PAIRS_SCHEMA.field("entry_ids").type
    return pa.Array.from_buffers(
        list_type, len(values), [None, pa.py_buffer(offsets)], children=[items]
    )


def uuid_array(values: list[bytes]) -> pa.Array:
    """16-byte keys as the schema's `uuid` extension type."""
    storage = pa.Array.from_buffers(
        pa.binary(16), len(values), [None, pa.py_buffer(b"".join(values))]
    )
    return pa.ExtensionArray.from_storage(PAIRS_SCHEMA.field("pair_key").type, storage)


class RowColumns:
    """One list per output column, in `PAIRS_SCHEMA` order; `batch()` turns them into Arrow."""

    __slots__ = tuple(PAIRS_SCHEMA.names)

    def __init__(self) -> None:
        for name in self.__slots__:
            setattr(self, name, [])

    def __len__(self) -> int:
        return len(self.uuid)

    def batch(self) -> pa.RecordBatch | pa.Table:
        try:
            arrays = [
                string_array(self.uuid),
                string_array(self.url),
                string_array(self.text),
                string_array(self.text_key),
                string_array(self.lang),
                float32_array(self.lang_score),
                int32_lists_array(self.entry_ids),
                string_array(self.page_url),
                string_array(self.shard),
                uuid_array(self.pair_key),
            ]
        except (UnicodeEncodeError, OverflowError, TypeError):  # TypeError: a null score
            columns = {name: getattr(self, name) for name in self.__slots__}
            return pa.table(columns, schema=PAIRS_SCHEMA)
        return pa.RecordBatch.from_arrays(arrays, schema=PAIRS_SCHEMA)


class RowWriter:
    """Rows buffered in `columns` and written to a Parquet file at `path` in batches."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.writer = pq.ParquetWriter(path, PAIRS_SCHEMA, compression="zstd")
        self.columns = RowColumns()
        self.written = 0

    @property
    def count(self) -> int:
        """Rows written or buffered."""
        return self.written + len(self.columns)

    def page_done(self) -> None:
        """Called after each page's rows are appended: writes a full batch."""
        if len(self.columns) >= BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        buffered = len(self.columns)
        if buffered:
            batch = self.columns.batch()
            if isinstance(batch, pa.Table):
                self.writer.write_table(batch)
            else:
                self.writer.write_batch(batch)
            self.written += buffered
            self.columns = RowColumns()

    def close(self, metadata: dict[bytes, str]) -> None:
        self.flush()
        self.writer.add_key_value_metadata(metadata)
        self.writer.close()
