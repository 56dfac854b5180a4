"""Counting per entry into an array instead of a hash table.

DuckDB counts `GROUP BY entry_id` with its perfect hash aggregate, an array indexed by the key,
when the key's statistics bound it to at most 2^perfect_ht_threshold values. Ids unnested from
a list carry no statistics, so the SQL groups by `entry_id % modulus` (the macro
metaclip_entry_slot in sql/metaclip_v1/001_entry_slot.sql), which is the id itself when the modulus
is a power of two above every |id|, and which DuckDB can bound. This module finds that modulus
in the Parquet footers and raises the threshold when the array is affordable (what it saves:
docs/balance.md, "Why the SQL is written this way").
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb
import pyarrow.parquet as pq

from metaclip_sql.duck.settings import memory_limit_bytes, setting

#: Used when a file's footer has no statistics for the ids: above every INTEGER, -2^31 included,
#: so the modulo is the identity and the count falls back to a hash table.
NO_BOUND_MODULUS = 1 << 32
#: The largest array DuckDB is allowed: 2^22 slots.
MAX_SLOT_BITS = 22
#: Bytes a slot takes: 020's two 8-byte counts and the group's flag, rounded up.
SLOT_BYTES = 24
#: Per-entry aggregates one statement may hold at once (015 and 020: `seen` and `dropped`).
ARRAYS_AT_ONCE = 2


def entry_id_bound(meta: pq.FileMetaData) -> int | None:
    """The largest |entry id| in a file, from the statistics of its entry_ids element column;
    None when a row group that holds ids has none (the writer did not record them)."""
    leaves = [
        i for i in range(meta.num_columns) if meta.schema.column(i).path.startswith("entry_ids.")
    ]
    bound = 0
    for g in range(meta.num_row_groups):
        for i in leaves:
            column = meta.row_group(g).column(i)
            stats = column.statistics
            if stats is not None and stats.has_min_max:
                bound = max(bound, abs(int(stats.min)), abs(int(stats.max)))
            elif not _only_nulls(column):
                return None
    return bound


def _only_nulls(column: pq.ColumnChunkMetaData) -> bool:
    """A column chunk whose footer proves it holds no id (no rows, or every list empty or NULL)."""
    stats = column.statistics
    if column.num_values == 0:
        return True
    return stats is not None and stats.has_null_count and stats.null_count == column.num_values


def entry_modulus(bounds: Iterable[int | None]) -> int:
    """The smallest power of two above every file's bound (NO_BOUND_MODULUS if one is None)."""
    top = 0
    for bound in bounds:
        if bound is None:
            return NO_BOUND_MODULUS
        top = max(top, bound)
    return 1 << top.bit_length()


def slot_bits(modulus: int) -> int:
    """The threshold an array of `entry_id % modulus` needs: ids span -(modulus - 1) to
    modulus - 1, and DuckDB keeps one more slot for NULL."""
    return modulus.bit_length() + 1


def use_entry_slots(con: duckdb.DuckDBPyConnection, modulus: int) -> bool:
    """Let DuckDB count per entry into an array when every thread's arrays fit in an eighth of
    the memory limit; returns whether it may."""
    bits = slot_bits(modulus)
    threads = int(setting(con, "threads"))
    arrays = threads * ARRAYS_AT_ONCE * (SLOT_BYTES << bits)
    if bits > MAX_SLOT_BITS or arrays > memory_limit_bytes(con) // 8:
        return False
    if bits > int(setting(con, "perfect_ht_threshold")):
        con.execute(f"SET perfect_ht_threshold = {bits}")
    return True
