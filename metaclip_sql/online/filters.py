"""Filters for data loaders: webdataset's `.select(...)` and Hugging Face `dataset.filter(...)`.

What each sample must carry (img2dataset writes these into each sample's json when run with
`--save_additional_columns '["uuid","entry_ids"]'`, and the loaders read its Parquet the same):

- `entry_ids`: a list of ints;
- the pair's key: `pair_key` in its string form (`online.img2dataset_input` writes it so), or,
  without it, `uuid` and the text (img2dataset's `caption`), from which the key is computed
  (md5 of uuid U+001F text, `metaclip_sql.schema.pair_key`);
- optional `lang` (pairs outside the run's `--lang` are dropped; missing: selected) and, for
  unit image, `image_keys` (the keys of all the image's texts: the pick is then exact per
  sample; missing: the sample is its image's only text).

The filters are classes, so they pickle into DataLoader worker processes.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import numpy as np
import pyarrow as pa

from metaclip_sql.online.draws import check_epoch
from metaclip_sql.online.keys import computed_key

_DEFAULT_FIELDS = {
    "pair_key": "pair_key",
    "entry_ids": "entry_ids",
    "uuid": "uuid",
    "text": "caption",
    "lang": "lang",
    "image_keys": "image_keys",
}


class _Fields:
    """The curation, the epoch and the field names a filter reads.

    `epoch` is an int, or what a training loop shares with its loader workers: a callable
    returning the epoch, or an object with `get_value()` (open_clip's `SharedEpoch`), read at
    every call, so one pipeline built once filters each epoch with that epoch's draws."""

    def __init__(self, curation: Any, epoch: Any, fields: dict[str, str]) -> None:
        unknown = set(fields) - set(_DEFAULT_FIELDS)
        if unknown:
            raise TypeError(
                f"unknown field name(s) {sorted(unknown)}; known: {list(_DEFAULT_FIELDS)}"
            )
        if not (callable(epoch) or hasattr(epoch, "get_value")):
            epoch = check_epoch(epoch)
        self.curation = curation
        self._epoch = epoch
        self.names = {**_DEFAULT_FIELDS, **fields}

    @property
    def epoch(self) -> int:
        source = self._epoch
        if isinstance(source, int):
            return source
        return check_epoch(source.get_value() if hasattr(source, "get_value") else source())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.curation!r}, epoch={self._epoch!r})"


class WebDatasetFilter(_Fields):
    """`sample -> bool` for `wds.WebDataset(urls).select(f)`, before or after `.decode()`."""

    def __init__(self, curation: Any, epoch: Any, json_key: str = "json", **fields: str) -> None:
        super().__init__(curation, epoch, fields)
        self.json_key = json_key

    def __call__(self, sample: dict[str, Any]) -> bool:
        meta = sample.get(self.json_key)
        if meta is None:
            raise KeyError(
                f"sample {sample.get('__key__')!r} has no {self.json_key!r}: the filter reads the "
                "pair's entry_ids and key from the sample's json"
            )
        if isinstance(meta, (bytes, bytearray, memoryview)):
            meta = json.loads(bytes(meta))
        elif isinstance(meta, str):
            meta = json.loads(meta)
        n = self.names
        entries = meta.get(n["entry_ids"])
        if entries is None:
            raise KeyError(
                f"sample {sample.get('__key__')!r}: its json has no {n['entry_ids']!r} (download "
                'with img2dataset --save_additional_columns \'["uuid","entry_ids"]\')'
            )
        key = meta.get(n["pair_key"])
        if key is None:
            key = _key_from(meta, sample, n)
        return self.curation.keep_one(
            key,
            entries,
            self.epoch,
            lang=meta.get(n["lang"]),
            image_keys=meta.get(n["image_keys"]),
        )


def _key_from(meta: dict[str, Any], sample: dict[str, Any], names: dict[str, str]) -> bytes:
    """A sample's key from its uuid and text (the json's caption, else the sample's txt)."""
    image, text = meta.get(names["uuid"]), meta.get(names["text"])
    if text is None and "txt" in sample:
        text = sample["txt"]
        text = text.decode("utf-8", "surrogatepass") if isinstance(text, bytes) else text
    if image is None or text is None:
        raise KeyError(
            f"sample {sample.get('__key__')!r}: its json has neither {names['pair_key']!r} nor "
            f"{names['uuid']!r} and {names['text']!r} to compute the pair's key from"
        )
    return computed_key(image, text)


class HFFilter(_Fields):
    """For Hugging Face `dataset.filter(f, batched=True)` (a batch: dict of columns, or a
    pyarrow table with `with_format('arrow')`), and unbatched (one example dict)."""

    def __init__(self, curation: Any, epoch: Any, **fields: str) -> None:
        super().__init__(curation, epoch, fields)

    def __call__(self, batch: Any) -> Any:
        columns = _columns(batch)
        n = self.names
        if n["entry_ids"] not in columns:
            raise KeyError(f"no {n['entry_ids']!r} column (columns: {sorted(columns)})")
        entries = columns[n["entry_ids"]]
        if not _is_batch(columns, n):
            return self._one(columns)
        keys = columns.get(n["pair_key"])
        if keys is None:
            keys = _computed_keys(columns, n)
        kept = self.curation.keep(
            keys,
            entries,
            self.epoch,
            langs=columns.get(n["lang"]),
            image_keys=columns.get(n["image_keys"]),
        )
        return kept.tolist()

    def _one(self, example: dict[str, Any]) -> bool:
        n = self.names
        key = example.get(n["pair_key"])
        if key is None:
            key = _key_from(example, {}, {**n, "text": _text_column(example, n)})
        return self.curation.keep_one(
            key,
            example[n["entry_ids"]],
            self.epoch,
            lang=example.get(n["lang"]),
            image_keys=example.get(n["image_keys"]),
        )


def _columns(batch: Any) -> dict[str, Any]:
    if isinstance(batch, (pa.Table, pa.RecordBatch)):
        return {name: batch.column(name) for name in batch.schema.names}
    if hasattr(batch, "columns") and hasattr(batch, "to_dict") and not isinstance(batch, dict):
        return {name: batch[name].tolist() for name in batch.columns}  # a pandas DataFrame
    return dict(batch)


def _is_batch(columns: dict[str, Any], names: dict[str, str]) -> bool:
    """A batch (columns of values) rather than one example: told by the key or uuid column (a
    string or bytes in an example), else by entry_ids (a list of ints in an example)."""
    for name in (names["pair_key"], names["uuid"]):
        value = columns.get(name)
        if value is not None:
            return not isinstance(value, (str, bytes, bytearray, memoryview, uuid.UUID))
    entries = columns[names["entry_ids"]]
    if isinstance(entries, (pa.Array, pa.ChunkedArray, tuple)):
        return True
    if isinstance(entries, np.ndarray):
        return entries.dtype == object or entries.ndim == 2
    return any(item is not None and not isinstance(item, (int, np.integer)) for item in entries)


def _text_column(columns: dict[str, Any], names: dict[str, str]) -> str:
    for name in (names["text"], "text", "caption"):
        if name in columns:
            return name
    return names["text"]


def _computed_keys(columns: dict[str, Any], names: dict[str, str]) -> list[bytes]:
    text_name = _text_column(columns, names)
    if names["uuid"] not in columns or text_name not in columns:
        raise KeyError(
            f"no {names['pair_key']!r} column, nor {names['uuid']!r} and {names['text']!r} to "
            "compute the pair keys from"
        )
    images, texts = (_as_list(columns[c]) for c in (names["uuid"], text_name))
    return [computed_key(u, x) for u, x in zip(images, texts, strict=True)]


def _as_list(column: Any) -> list:
    if isinstance(column, (pa.Array, pa.ChunkedArray)):
        return column.to_pylist()
    return list(column)
