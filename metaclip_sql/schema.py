"""The extract output schema: the contract between `extract`, the SQL in `sql/` and users' queries."""

from __future__ import annotations

import pyarrow as pa

#: Column order and types of every Parquet file `extract` writes (one row per (uuid, text)).
PAIRS_SCHEMA = pa.schema(
    [
        pa.field("uuid", pa.string()),
        pa.field("url", pa.string()),
        pa.field("text", pa.string()),
        pa.field("text_key", pa.string()),
        pa.field("lang", pa.string()),
        pa.field("lang_score", pa.float32()),
        pa.field("entry_ids", pa.list_(pa.int32())),
        pa.field("page_url", pa.string()),
        pa.field("shard", pa.string()),
    ]
)

PAIRS_COLUMNS = tuple(PAIRS_SCHEMA.names)

#: The attributes of an `<img>` (and WAT link keys) whose values are candidate texts.
TEXT_KEYS = ("alt", "title", "data-image-title")
