"""The shard's Arrow columns built from buffers equal `pa.table(columns, schema=PAIRS_SCHEMA)`."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metaclip_sql.extract import rows as rows_module
from metaclip_sql.extract.rows import RowColumns, RowWriter, string_array
from metaclip_sql.schema import PAIRS_SCHEMA, pair_key

_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
_row = st.tuples(
    _text,
    _text,
    _text,
    st.sampled_from(["alt", "title"]),
    st.one_of(st.none(), st.sampled_from(["en", "de", "ja"])),
    st.one_of(st.none(), st.floats(0, 1, width=32)),
    st.lists(st.integers(0, 2**31 - 1), max_size=4),
    _text,
    _text,
)


def _fill(values: list[tuple]) -> RowColumns:
    cols = RowColumns()
    for uuid, url, text, key, lang, score, ids, page, shard in values:
        for name, value in zip(
            cols.__slots__,
            (uuid, url, text, key, lang, score, ids, page, shard, pair_key(uuid, text)),
            strict=True,
        ):
            getattr(cols, name).append(value)
    return cols


def _slow(cols: RowColumns) -> pa.Table:
    return pa.table({name: getattr(cols, name) for name in cols.__slots__}, schema=PAIRS_SCHEMA)


@settings(max_examples=200, deadline=None)
@given(st.lists(_row, max_size=40))
def test_batch_equals_pa_table(values: list[tuple]) -> None:
    cols = _fill(values)
    batch = cols.batch()  # a Table when it fell back to pa.table (a null score)
    fast = batch if isinstance(batch, pa.Table) else pa.Table.from_batches([batch])
    assert fast.equals(_slow(cols))


def test_nulls_after_the_first_byte_of_the_bitmap() -> None:
    values = [None if i % 7 == 3 else f"v{i}" for i in range(29)]
    assert string_array(values).equals(pa.array(values, pa.string()))


def test_lone_surrogate_falls_back_to_the_same_error() -> None:
    cols = _fill([("u", "https://x/", "ok", "alt", "en", 0.5, [1], "p", "s")])
    cols.text[0] = "bad \udc80"
    with pytest.raises((UnicodeEncodeError, pa.ArrowInvalid)):
        cols.batch()


def test_writer_flushes_batches_and_keeps_metadata(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(rows_module, "BATCH_ROWS", 3)
    writer = RowWriter(tmp_path / "out.parquet")
    values = [
        (f"u{i}", f"https://x/{i}", f"t{i}", "alt", "en", 0.25, [i], "p", "s") for i in range(8)
    ]
    for row in values:  # a page of one row each: full batches go out after a page
        filled = _fill([row])
        for name in filled.__slots__:
            getattr(writer.columns, name).extend(getattr(filled, name))
        writer.page_done()
    assert writer.written == 6 and writer.count == 8
    writer.close({b"k": "v"})
    table = pq.read_table(tmp_path / "out.parquet")
    assert table.equals(_slow(_fill(values)))
    assert pq.read_metadata(tmp_path / "out.parquet").metadata[b"k"] == b"v"
    assert pq.ParquetFile(tmp_path / "out.parquet").num_row_groups == 3
