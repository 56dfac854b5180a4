"""epochs_summary (what `balance --epochs N` / `stats --epochs N` print), read_pool (the pool as
balance sees it, without DuckDB) and img2dataset_input (the pool in a form img2dataset carries)."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from metaclip_sql.online import (
    EpochsSummary,
    OnlineCuration,
    PoolError,
    epochs_summary,
    img2dataset_input,
    key_string,
    read_pool,
)
from metaclip_sql.online.keys import key_one
from tests.helpers.online import curated_keys, run_balance
from tests.helpers.pools import zipf_pool

T, SEED = 40.0, 2


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    folder = tmp_path_factory.mktemp("online-summary")
    return zipf_pool(
        folder / "pool", images=1500, entries=100, langs=("en", "de"), dup_share=0.1, seed=4
    )


@pytest.fixture(scope="module")
def valid(pool, tmp_path_factory):
    """A --valid-uuids text file listing 80% of the images (by uuid) and 5% more by url."""
    rows = sorted({(r["uuid"], r["url"]) for r in pool.rows})
    lines = [u for i, (u, _) in enumerate(rows) if i % 5] + [
        url for i, (_, url) in enumerate(rows) if i % 20 == 0
    ]
    path = tmp_path_factory.mktemp("online-valid") / "valid.txt"
    path.write_text("\n".join(f" {line}\t" for line in lines) + "\n")
    return path


def test_read_pool_is_balance_pool(pool, valid):
    """Dedup across shards, language and valid-uuids filters: the pairs balance counts."""
    read = read_pool(pool.files, lang="en")
    expected = {(r["uuid"], r["text"]) for r in pool.pairs({"en"}).values()}
    assert len(read) == len(expected)
    assert read.rows_in == len(pool.rows)
    keys = {key_one(k) for k in read.table["pair_key"].to_pylist()}
    from metaclip_sql.schema import pair_key

    assert keys == {pair_key(u, x) for u, x in expected}
    both = read_pool(pool.files, lang="en,de")
    assert len(both) == len(pool.pairs({"en", "de"}))
    assert len(read_pool(pool.files, lang="all")) == len(both)
    limited = read_pool(pool.files, lang="en", valid_uuids=[valid])
    assert 0.7 * len(read) < len(limited) < 0.95 * len(read)


@pytest.mark.parametrize("unit", ["pair", "image"])
def test_summary_from_a_balance_output(pool, valid, tmp_path, unit):
    dry = run_balance(
        pool.files, t=T, seed=SEED, unit=unit, valid_uuids=[valid], dry_run=True, out=tmp_path
    )
    summary = epochs_summary(tmp_path, 6)
    assert isinstance(summary, EpochsSummary)
    assert summary.epochs == 6 and summary.unit == unit and summary.t == T
    assert summary.pairs == dry.counts["pairs"]
    assert summary.kept[0] == summary.offline == dry.kept
    assert summary.distinct[0] == summary.kept[0]
    assert all(a < b for a, b in zip(summary.distinct, summary.distinct[1:], strict=False))
    for kept in summary.kept:
        assert abs(kept - summary.expected) <= 5 * summary.spread
    assert summary.distinct[-1] <= summary.pairs
    assert summary.distinct_images[-1] <= summary.images
    text = summary.summary()
    assert "the same as the offline run's" in text and "epoch   5" in text
    json.dumps(summary.record())
    # the full run: epoch 0 is its curated set
    full = run_balance(pool.files, t=T, seed=SEED, unit=unit, valid_uuids=[valid], out=tmp_path)
    again = epochs_summary(tmp_path, 2, dry_run=False)
    assert again.kept[0] == full.kept == len(curated_keys(tmp_path))


def test_summary_from_a_pool(pool, tmp_path):
    """Counts computed from the pool itself equal balance's; same numbers as from its output."""
    ours = epochs_summary(pool.files, 4, t=T, seed=SEED, lang="en")
    run_balance(pool.files, t=T, seed=SEED, dry_run=True, out=tmp_path)
    theirs = epochs_summary(tmp_path, 4)
    assert (ours.kept, ours.distinct, ours.pairs) == (theirs.kept, theirs.distinct, theirs.pairs)
    assert ours.expected == pytest.approx(theirs.expected, rel=1e-12)
    with pytest.raises(ValueError, match="t is required"):
        epochs_summary(pool.files, 2)
    with pytest.raises(ValueError, match="epochs"):
        epochs_summary(pool.files, 0, t=T)
    with pytest.raises(PoolError, match="no such file"):
        epochs_summary([tmp_path / "nothing*.parquet"], 2, t=T)


def test_img2dataset_input(pool, tmp_path):
    out = img2dataset_input(pool.files, tmp_path / "in.parquet", lang="en", image_keys=True)
    table = pq.read_table(out)
    assert table.column_names == [
        "url",
        "caption",
        "uuid",
        "entry_ids",
        "pair_key",
        "lang",
        "image_keys",
    ]
    assert pa.types.is_string(table.schema.field("pair_key").type)  # img2dataset can carry it
    assert table.num_rows == len(pool.pairs({"en"}))
    rows = table.to_pylist()
    by_image: dict[str, set[str]] = {}
    for row in rows:
        by_image.setdefault(row["uuid"], set()).add(row["pair_key"])
        assert key_string(key_one(row["pair_key"])) == row["pair_key"]
    for row in rows:
        assert set(row["image_keys"]) == by_image[row["uuid"]]
        assert len(row["image_keys"]) == len(by_image[row["uuid"]])
    # the strings decide as the bytes do
    oc = OnlineCuration([e for e in range(100)], np.arange(1, 101) * 7, t=T, unit="image")
    strings = oc.keep(table["pair_key"], table["entry_ids"], 1, image_keys=table["image_keys"])
    raw = oc.keep(
        [key_one(k) for k in table["pair_key"].to_pylist()],
        table["entry_ids"],
        1,
        uuids=table["uuid"],
    )
    assert np.array_equal(strings, raw)
    # json round trip, as img2dataset writes each sample
    sample = json.loads(json.dumps(rows[0]))
    assert oc.keep_one(
        sample["pair_key"], sample["entry_ids"], 1, image_keys=sample["image_keys"]
    ) == bool(strings[0])


def test_cli_balance_epochs(tmp_path) -> None:
    """`balance --epochs N --dry-run` prints what each epoch keeps next to the offline run;
    --worldwide is refused before anything runs."""
    from typer.testing import CliRunner

    from metaclip_sql.cli import app
    from metaclip_sql.demo import run_demo

    run_demo(tmp_path / "demo", 60)
    args = ["balance", str(tmp_path / "demo" / "matched"), "--out", str(tmp_path / "b")]
    done = CliRunner().invoke(app, [*args, "--t", "5", "--epochs", "3", "--dry-run"])
    assert done.exit_code == 0, done.output
    assert "epoch 0 keeps" in done.output and "the same as the offline run's" in done.output
    refused = CliRunner().invoke(app, [*args, "--worldwide", "--epochs", "3"])
    assert refused.exit_code == 2 and "--worldwide is not supported" in refused.output
