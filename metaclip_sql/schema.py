"""The extract output schema: the contract between `extract`, the SQL in `sql/` and users' queries."""

from __future__ import annotations

import hashlib

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
        pa.field("pair_key", pa.uuid()),
    ]
)

PAIRS_COLUMNS = tuple(PAIRS_SCHEMA.names)

#: Columns an input must have. `pair_key` may be missing (files from before it existed, other
#: writers): balance then computes it from uuid and text, to the same value.
REQUIRED_COLUMNS = tuple(c for c in PAIRS_COLUMNS if c != "pair_key")


def pair_key(uuid: str, text: str) -> bytes:
    """The 16-byte id of a (uuid, text) pair: md5 of `uuid + U+001F + text` as UTF-8.

    Dedup and the balancing draws read it instead of the two strings (16 fixed bytes are much
    cheaper to scan and sort). SQL computes the same value as
    `md5(concat_ws(chr(31), uuid, text))::UUID` (sql/common/pair_key.sql).
    """
    return hashlib.md5(f"{uuid}\x1f{text}".encode("utf-8", "surrogatepass")).digest()


#: The attributes of an `<img>` (and WAT link keys) whose values are candidate texts.
TEXT_KEYS = ("alt", "title", "data-image-title")
