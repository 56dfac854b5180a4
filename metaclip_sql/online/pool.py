"""The pool as balance sees it, read with pyarrow (no DuckDB): for summaries and for img2dataset.

`read_pool` applies balance's candidate rules (`docs/algorithm.md`, section 4): rows with at least
one entry, of a selected language, of an image listed in `--valid-uuids` (by uuid or url; in a
Parquet with a `status` column, `success` rows only), deduplicated by pair_key over all files.
Copies of a pair carry the same entry ids (balance stops otherwise), so which copy is kept does
not change a count or a decision. Everything is held in memory: about 40 bytes a pair plus 4 an
entry id, fine for summaries of pools up to a few hundred million pairs.

`img2dataset_input` writes that pool (or a balance's curated.parquet) in a form img2dataset can
carry into each sample's json: `pair_key` as its string form (img2dataset cannot serialize the
UUID type: every sample of the image fails), and for `--unit image` the keys of all the image's
texts, so a loader can pick the image's text itself, epoch by epoch.
"""

from __future__ import annotations

import glob
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from metaclip_sql.errors import MetaclipError
from metaclip_sql.online.counts import langs_of
from metaclip_sql.online.keys import key_bytes
from metaclip_sql.schema import pair_key as pair_key_of


class PoolError(MetaclipError):
    """Inputs that are not a pool of extract rows, told in one line."""


@dataclass
class Pool:
    """Deduplicated candidate pairs: a pyarrow table with uuid, entry_ids, pair_key (16-byte
    fixed_size_binary), lang and the columns asked for, in input order."""

    table: pa.Table
    files: list[Path]
    rows_in: int

    def __len__(self) -> int:
        return self.table.num_rows


def resolve_inputs(inputs: str | Path | Iterable[str | Path]) -> list[Path]:
    """Files, folders (every *.parquet below, hidden names skipped) and globs, sorted."""
    items = [inputs] if isinstance(inputs, (str, Path)) else list(inputs)
    found: set[Path] = set()
    for item in items:
        path = Path(item)
        if path.is_dir():
            found.update(
                p for p in path.rglob("*.parquet") if not any(x.startswith(".") for x in p.parts)
            )
        elif path.is_file():
            found.add(path)
        else:
            matches = [Path(m) for m in glob.glob(str(item), recursive=True)]
            if not matches:
                raise PoolError(f"{item}: no such file, folder or glob match")
            found.update(m for m in matches if m.is_file())
    if not found:
        raise PoolError("no input files")
    return sorted(p.resolve() for p in found)


def read_pool(
    inputs: str | Path | Iterable[str | Path],
    *,
    lang: str | None = "en",
    valid_uuids: Sequence[str | Path] = (),
    columns: Sequence[str] = (),
) -> Pool:
    """The deduplicated candidate pairs of extract outputs (or a balance's curated.parquet)."""
    files = resolve_inputs(inputs)
    langs = langs_of(lang)
    valid = read_valid_ids(valid_uuids) if valid_uuids else None
    parts, rows_in = [], 0
    for path in files:
        table = _read_candidates(path, langs, valid, tuple(columns))
        rows_in += pq.ParquetFile(path).metadata.num_rows
        parts.append(table)
    table = pa.concat_tables(parts).combine_chunks() if parts else pa.table({})
    return Pool(_dedup(table), files, rows_in)


def _read_candidates(
    path: Path, langs: frozenset[str] | None, valid: pa.Array | None, extra: tuple[str, ...]
) -> pa.Table:
    try:
        names = pq.ParquetFile(path).schema_arrow.names
    except (OSError, pa.ArrowException) as exc:
        raise PoolError(f"{path}: not a readable Parquet file ({exc})") from exc
    missing = [c for c in ("uuid", "entry_ids", *extra) if c not in names]
    if "pair_key" not in names and "text" not in names:
        missing.append("pair_key (or text)")
    if missing:
        raise PoolError(f"{path}: not an extract output: no column {', '.join(missing)}")
    wanted = ["uuid", "entry_ids", "pair_key" if "pair_key" in names else "text"]
    wanted += [c for c in ("lang", "url") if c in names and c not in wanted]
    wanted += [c for c in extra if c not in wanted]
    table = pq.read_table(path, columns=wanted)
    keep = pc.fill_null(pc.greater(pc.list_value_length(table["entry_ids"]), 0), False)
    if langs is not None and "lang" in names:
        keep = pc.and_(keep, pc.is_in(table["lang"], value_set=pa.array(sorted(langs))))
    if valid is not None:
        listed = pc.is_in(table["uuid"], value_set=valid)
        if "url" in names:
            listed = pc.or_(listed, pc.is_in(table["url"], value_set=valid))
        keep = pc.and_(keep, listed)
    table = table.filter(keep)
    keys = _keys_of(table)
    table = table.drop_columns([c for c in ("pair_key",) if c in table.column_names])
    table = table.append_column("pair_key", keys)
    if "url" in table.column_names and "url" not in extra:
        table = table.drop_columns(["url"])
    if "text" in table.column_names and "text" not in extra:
        table = table.drop_columns(["text"])
    if "lang" not in table.column_names:
        table = table.append_column("lang", pa.nulls(table.num_rows, pa.string()))
    return table.select(["uuid", "entry_ids", "pair_key", "lang", *extra])


def _keys_of(table: pa.Table) -> pa.Array:
    """The 16-byte keys, as stored, or computed from uuid and text (files from before pair_key)."""
    if "pair_key" in table.column_names:
        raw = key_bytes(table["pair_key"])
    else:
        keys = [
            pair_key_of(u, x)
            for u, x in zip(table["uuid"].to_pylist(), table["text"].to_pylist(), strict=True)
        ]
        raw = key_bytes(keys)
    buffer = pa.py_buffer(np.ascontiguousarray(raw).tobytes())
    return pa.FixedSizeBinaryArray.from_buffers(pa.binary(16), len(raw), [None, buffer])


def _dedup(table: pa.Table) -> pa.Table:
    """One row per pair_key, the first in input order."""
    if table.num_rows < 2:
        return table
    words = np.ascontiguousarray(key_bytes(table["pair_key"])).view(">u8").reshape(-1, 2)
    high, low = words[:, 0].astype(np.uint64), words[:, 1].astype(np.uint64)
    order = np.lexsort((np.arange(len(high)), low, high))
    h, lo = high[order], low[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = (h[1:] != h[:-1]) | (lo[1:] != lo[:-1])
    if first.all():
        return table
    return table.take(np.sort(order[first]))


def read_valid_ids(paths: Sequence[str | Path]) -> pa.Array:
    """The uuids or urls of `--valid-uuids`, as balance reads them: Parquet with a uuid (else
    url) column, only `status = success` rows when there is a status; or text, one a line."""
    values: list[pa.Array] = []
    for path in resolve_valid(paths):
        with open(path, "rb") as f:
            is_parquet = f.read(4) == b"PAR1"
        if is_parquet:
            names = pq.ParquetFile(path).schema_arrow.names
            column = next((c for c in ("uuid", "url") if c in names), None)
            if column is None:
                raise PoolError(f"--valid-uuids {path}: needs a uuid or url column")
            table = pq.read_table(
                path, columns=[column, *(["status"] if "status" in names else [])]
            )
            if "status" in names:
                table = table.filter(pc.equal(table["status"], "success"))
            values.append(pc.cast(table[column], pa.string()).combine_chunks())
        else:
            lines = Path(path).read_text(encoding="utf-8", errors="surrogateescape").split("\n")
            values.append(pa.array(lines, pa.string()))
    merged = (
        pa.chunked_array(values, pa.string()).combine_chunks()
        if values
        else pa.array([], pa.string())
    )
    trimmed = pc.utf8_trim(merged, " \t\r")
    return pc.unique(trimmed.filter(pc.not_equal(trimmed, "")))


def resolve_valid(paths: Sequence[str | Path]) -> list[Path]:
    out: list[Path] = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            out.extend(p for p in sorted(path.rglob("*.parquet")) if not p.name.startswith("."))
        elif path.is_file():
            out.append(path)
        else:
            matches = sorted(Path(m) for m in glob.glob(str(item), recursive=True))
            if not matches:
                raise PoolError(f"--valid-uuids {item}: no such file, folder or glob match")
            out.extend(m for m in matches if m.is_file())
    return out


def img2dataset_input(
    inputs: str | Path | Iterable[str | Path],
    out: str | Path,
    *,
    lang: str | None = "en",
    valid_uuids: Sequence[str | Path] = (),
    image_keys: bool = False,
) -> Path:
    """Write one Parquet for `img2dataset --input_format parquet --url_col url --caption_col
    caption --save_additional_columns '["uuid","entry_ids","pair_key","lang"]'` (add
    `"image_keys"` with `image_keys=True`): the deduplicated candidates of `inputs`, pair_key
    as its string form, and per pair the keys of all its image's texts when asked."""
    pool = read_pool(inputs, lang=lang, valid_uuids=valid_uuids, columns=("url", "text"))
    table = pool.table
    keys = _key_strings(table["pair_key"])
    columns = {
        "url": table["url"],
        "caption": table["text"],
        "uuid": table["uuid"],
        "entry_ids": table["entry_ids"],
        "pair_key": keys,
        "lang": table["lang"],
    }
    if image_keys:
        columns["image_keys"] = _image_keys(table["uuid"], keys)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns), out, compression="zstd")
    return out


def _key_strings(keys: pa.ChunkedArray | pa.Array) -> pa.Array:
    """16-byte keys -> their dashed string form, vectorised (hex, then the dashes)."""
    raw = key_bytes(keys)
    hexed = np.frombuffer(raw.tobytes().hex().encode("ascii"), dtype=np.uint8).reshape(-1, 32)
    chars = np.full((len(raw), 36), ord("-"), dtype=np.uint8)
    chars[:, [i for i in range(36) if i not in (8, 13, 18, 23)]] = hexed
    data = pa.py_buffer(chars.tobytes())
    offsets = pa.py_buffer((np.arange(len(raw) + 1, dtype=np.int32) * 36).tobytes())
    return pa.StringArray.from_buffers(len(raw), offsets, data)


def _image_keys(uuids: pa.ChunkedArray, keys: pa.Array) -> pa.Array:
    """Per row, the keys of every row with its uuid (itself included), in row order."""
    codes = pc.dictionary_encode(uuids.combine_chunks()).indices.to_numpy(zero_copy_only=False)
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    bounds = np.flatnonzero(np.diff(sorted_codes)) + 1
    group_start = np.concatenate([[0], bounds]).astype(np.int64)
    group_len = np.diff(np.concatenate([group_start, [len(codes)]]))
    per_code_start = np.empty(len(group_start), dtype=np.int64)
    per_code_len = np.empty(len(group_start), dtype=np.int64)
    per_code_start[sorted_codes[group_start]] = group_start
    per_code_len[sorted_codes[group_start]] = group_len
    lengths = per_code_len[codes]
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    within = np.arange(offsets[-1]) - np.repeat(offsets[:-1], lengths)
    index = np.repeat(per_code_start[codes], lengths) + within
    flat = keys.take(pa.array(order[index]))
    if offsets[-1] < 2**31:
        return pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), flat)
    return pa.LargeListArray.from_arrays(pa.array(offsets), flat)
