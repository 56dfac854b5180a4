"""Online curation (metaclip_sql.online): epoch 0 is the offline balance run, bit for bit; every
input form a loader has gives the same decisions; any split of the pool gives the same decisions."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid as uuid_module

import numpy as np
import pyarrow as pa
import pytest

from metaclip_sql.balance import sampling
from metaclip_sql.online import CurationSourceError, OnlineCuration, draws, key_string
from tests.helpers.online import curated_keys, pool_pairs, run_balance, split_rows
from tests.helpers.pools import zipf_pool

T = 60.0


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    folder = tmp_path_factory.mktemp("online-pool")
    return zipf_pool(folder / "pool", images=2500, entries=150, max_entries=4, seed=3)


@pytest.fixture(scope="module")
def pairs(pool):
    return pool_pairs(pool, {"en"})


@pytest.fixture(scope="module")
def runs(pool, tmp_path_factory):
    """balance --t 60 --seed 11, --unit pair and --unit image."""
    out = tmp_path_factory.mktemp("online-runs")
    return {
        unit: run_balance(pool.files, t=T, seed=11, unit=unit, out=out / unit).out
        for unit in ("pair", "image")
    }


def kept_keys(pairs, kept) -> set[bytes]:
    return {pairs.keys[i] for i in np.flatnonzero(kept)}


def image_keys_of(pairs) -> list[list[bytes]]:
    by_image: dict[str, list[bytes]] = {}
    for key, image in zip(pairs.keys, pairs.uuids, strict=True):
        by_image.setdefault(image, []).append(key)
    return [by_image[image] for image in pairs.uuids]


# --- epoch 0 is the offline run ----------------------------------------------------------------


def test_epoch0_is_balance_unit_pair(runs, pairs):
    oc = OnlineCuration.from_balance(runs["pair"])
    assert (oc.t, oc.seed, oc.unit, oc.lang) == (T, 11, "pair", "en")
    assert 0 < oc.heads < oc.entries  # the pool has head and tail entries
    kept = oc.keep(pairs.arrow_keys(), pairs.arrow_entries(), epoch=0)
    expected = curated_keys(runs["pair"])
    assert kept_keys(pairs, kept) == expected
    assert 0.2 < len(expected) / len(pairs) < 0.9
    one = [oc.keep_one(k, e, 0) for k, e in zip(pairs.keys, pairs.entry_ids, strict=True)]
    assert kept_keys(pairs, one) == expected


def test_epoch0_is_balance_unit_image(runs, pairs):
    oc = OnlineCuration.from_balance(runs["image"])
    assert oc.unit == "image"
    expected = curated_keys(runs["image"])
    siblings = image_keys_of(pairs)
    by_uuid = oc.keep(pairs.keys, pairs.entry_ids, 0, uuids=pairs.uuids)
    by_keys = oc.keep(pairs.keys, pairs.entry_ids, 0, image_keys=siblings)
    strings = [[key_string(k) for k in row] for row in siblings]
    by_strings = oc.keep(pairs.keys, pairs.entry_ids, 0, image_keys=pa.array(strings))
    one = [
        oc.keep_one(k, e, 0, image_keys=s)
        for k, e, s in zip(pairs.keys, pairs.entry_ids, strings, strict=True)
    ]
    for kept in (by_uuid, by_keys, by_strings, one):
        assert kept_keys(pairs, kept) == expected
    # at most one text per image, and without the image's other texts each is its only one
    images = [pairs.uuids[i] for i in np.flatnonzero(by_uuid)]
    assert len(images) == len(set(images))
    alone = oc.keep(pairs.keys, pairs.entry_ids, 0)
    assert kept_keys(pairs, alone) >= expected
    assert len(kept_keys(pairs, alone)) > len(expected)


def test_from_counts_is_from_balance(runs, pairs):
    a = OnlineCuration.from_balance(runs["pair"])
    b = OnlineCuration.from_counts(runs["pair"] / "entry_counts.parquet", t=T, seed=11)
    for epoch in (0, 1, 5):
        assert np.array_equal(
            a.keep(pairs.keys, pairs.entry_ids, epoch), b.keep(pairs.keys, pairs.entry_ids, epoch)
        )
    assert np.array_equal(a.probability(pairs.entry_ids), b.probability(pairs.entry_ids))


def test_dry_run_outputs(pool, runs, pairs, tmp_path):
    """A dry run's outputs give the same curation; a folder with both asks which."""
    both = tmp_path / "both"
    shutil.copytree(runs["pair"], both)
    run_balance(pool.files, t=T, seed=11, dry_run=True, out=both)
    with pytest.raises(CurationSourceError, match="dry_run=True or False"):
        OnlineCuration.from_balance(both)
    dry = OnlineCuration.from_balance(both, dry_run=True)
    full = OnlineCuration.from_balance(both, dry_run=False)
    assert dry.source["dry_run"] and not full.source["dry_run"]
    assert np.array_equal(dry._factor, full._factor, equal_nan=True)
    assert np.array_equal(
        dry.keep(pairs.keys, pairs.entry_ids, 0), full.keep(pairs.keys, pairs.entry_ids, 0)
    )


# --- the arithmetic is balance's, to the bit -----------------------------------------------------


def test_draws_restate_sampling():
    rng = np.random.default_rng(0)
    values = [int(v) for v in rng.integers(0, 2**63, 2000, dtype=np.uint64)] + [0, 2**64 - 1]
    for z in values:
        assert draws.mix64(z) == sampling.mix64(z)
    for seed in (0, 1, -1, 11, 2**63 - 1, -(2**63), 123456789):
        assert draws.keep_state(seed, 0) == sampling.seed_state(seed, sampling.KEEP_SALT)
        assert draws.pick_state(seed, 0) == sampling.seed_state(seed, sampling.PICK_SALT)
        assert len({draws.keep_state(seed, e) for e in range(50)}) == 50
    keys = [rng.bytes(16) for _ in range(3000)]
    low = np.array([int.from_bytes(k[8:], "big") for k in keys], dtype=np.uint64)
    high = np.array([int.from_bytes(k[:8], "big") for k in keys], dtype=np.uint64)
    for seed in (0, -7, 2**40):
        u = draws.uniforms(low, draws.keep_state(seed, 0))
        assert u.tolist() == [sampling.draw(seed, k) for k in keys]
        picks = draws.pick_keys(high, draws.pick_state(seed, 0))
        assert picks.tolist() == [sampling.pick_key(seed, k) for k in keys]


@pytest.mark.parametrize("seed", [0, -3, 2**62 + 5])
def test_keep_and_probability_match_sampling(seed):
    """Random counts and lists of 1-12 entries: probabilities equal bit for bit, decisions too."""
    rng = np.random.default_rng(abs(seed) % 1000)
    counts = rng.integers(1, 5000, size=400)
    t = 333.0
    oc = OnlineCuration(np.arange(400), counts, t=t, seed=seed)
    probs = [sampling.entry_prob(int(c), t) for c in counts]
    entry_ids = [
        rng.choice(400, size=int(rng.integers(1, 13)), replace=False).tolist() for _ in range(8000)
    ]
    keys = [rng.bytes(16) for _ in entry_ids]
    p = oc.probability(entry_ids)
    assert p.tolist() == [sampling.keep_probability(probs[e] for e in ids) for ids in entry_ids]
    kept = oc.keep(keys, entry_ids, 0)
    assert kept.tolist() == [
        sampling.kept(seed, k, ids, probs) for k, ids in zip(keys, entry_ids, strict=True)
    ]
    # entry order matters to the last bit of the product, so it is kept as given
    reordered = [ids[::-1] for ids in entry_ids]
    assert oc.probability(reordered).tolist() == [
        sampling.keep_probability(probs[e] for e in ids) for ids in reordered
    ]


def test_reduce_without_reduceat_is_the_same(monkeypatch):
    """The position-by-position loop (taken when rows are not laid end to end, or when numpy's
    reduceat would not multiply in order) gives the same bits."""
    from metaclip_sql.online import curation

    rng = np.random.default_rng(5)
    oc = OnlineCuration(np.arange(50), rng.integers(1, 900, 50), t=40.0)
    rows = [
        rng.choice(50, size=int(rng.integers(0, 11)), replace=False).tolist() for _ in range(5000)
    ]
    assert curation._reduceat_in_order()  # this numpy's reduceat multiplies in order
    fast = oc.probability(rows)
    monkeypatch.setattr(curation, "_reduceat_in_order", lambda: False)
    assert np.array_equal(oc.probability(rows), fast)


# --- inputs as loaders hold them ------------------------------------------------------------------


def test_input_forms_agree(runs, pairs):
    oc = OnlineCuration.from_balance(runs["pair"])
    ref = oc.keep(pairs.keys, pairs.entry_ids, 2)
    n = len(pairs)
    fixed = pa.array(pairs.keys, pa.binary(16))
    strings = [key_string(k) for k in pairs.keys]
    key_forms = {
        "uuid extension": pairs.arrow_keys(),
        "fixed_size_binary": fixed,
        "chunked": pa.chunked_array([fixed[:100], fixed[100:2000], fixed[2000:]]),
        "binary": pa.array(pairs.keys, pa.binary()),
        "uuid.UUID": [uuid_module.UUID(bytes=k) for k in pairs.keys],
        "strings": strings,
        "arrow strings": pa.array(strings),
        "hex": [k.hex() for k in pairs.keys],
        "upper": [s.upper() for s in strings],
        "numpy S16": np.array(pairs.keys, dtype="S16"),
        "numpy uint8": np.frombuffer(b"".join(pairs.keys), np.uint8).reshape(n, 16),
        "bytearray": [bytearray(k) for k in pairs.keys],
    }
    for name, keys in key_forms.items():
        assert np.array_equal(oc.keep(keys, pairs.entry_ids, 2), ref), name
    lists = pairs.arrow_entries()
    offsets = np.concatenate([[0], np.cumsum([len(e) for e in pairs.entry_ids])])
    values = np.concatenate([np.asarray(e) for e in pairs.entry_ids])
    entry_forms = {
        "list<int32>": lists,
        "large_list<int64>": pa.array(pairs.entry_ids, pa.large_list(pa.int64())),
        "chunked": pa.chunked_array([lists[:7], lists[7:]]),
        "csr": (offsets, values),
        "csr int32": (offsets.astype(np.int32), values.astype(np.int32)),
        "numpy rows": [np.asarray(e, dtype=np.int64) for e in pairs.entry_ids],
        "tuples": [tuple(e) for e in pairs.entry_ids],
    }
    for name, entries in entry_forms.items():
        assert np.array_equal(oc.keep(pairs.arrow_keys(), entries, 2), ref), name
    # slices of a larger array (a batch of a table) read only their own rows
    sliced = oc.keep(pairs.arrow_keys()[300:900], lists[300:900], 2)
    assert np.array_equal(sliced, ref[300:900])


def test_empty_and_null_lists_are_never_kept():
    oc = OnlineCuration([0, 1], [1, 10], t=5.0)
    keys = [bytes([i]) * 16 for i in range(4)]
    entries = pa.array([[0], [], None, [1, 0]], pa.list_(pa.int32()))
    assert oc.keep(keys, entries, 0).tolist() == [True, False, False, True]
    assert oc.probability(entries).tolist() == [1.0, 0.0, 0.0, 1.0]
    assert oc.keep_one(keys[1], [], 0) is False


def test_unknown_entries():
    oc = OnlineCuration([0, 2], [100, 3], t=10.0)
    keys = [bytes(16), bytes([1]) * 16]
    with pytest.raises(ValueError, match=r"entry id\(s\) \[1\] have no count"):
        oc.keep(keys, [[0], [1]], 0)
    with pytest.raises(ValueError, match=r"\[7\] have no count"):
        oc.keep(keys, [[0], [2, 7]], 0)
    with pytest.raises(ValueError, match="no count"):
        oc.keep_one(keys[0], [1], 0)
    with pytest.raises(ValueError, match="negative"):
        oc.keep(keys, [[0], [-1]], 0)
    tail = OnlineCuration([0, 2], [100, 3], t=10.0, unknown="tail")
    assert tail.keep(keys, [[1], [7, 0]], 0).tolist() == [True, True]
    assert tail.probability([[1], [0]]).tolist() == [1.0, pytest.approx(0.1)]


def test_languages(runs, pairs):
    oc = OnlineCuration.from_balance(runs["pair"])  # --lang en
    ref = oc.keep(pairs.keys, pairs.entry_ids, 0)
    langs = ["en" if i % 3 else "de" for i in range(len(pairs))]
    kept = oc.keep(pairs.keys, pairs.entry_ids, 0, langs=langs)
    assert np.array_equal(kept, ref & (np.array(langs) == "en"))
    assert np.array_equal(oc.keep(pairs.keys, pairs.entry_ids, 0, langs=pa.array(langs)), kept)
    assert oc.keep_one(pairs.keys[0], pairs.entry_ids[0], 0, lang="de") is False
    unknown = [None if i % 2 else lang for i, lang in enumerate(langs)]  # null: selected
    expected = ref & np.array([x is None or x == "en" for x in unknown])
    assert np.array_equal(oc.keep(pairs.keys, pairs.entry_ids, 0, langs=unknown), expected)
    assert np.array_equal(
        oc.keep(pairs.keys, pairs.entry_ids, 0, langs=pa.array(unknown, pa.string())), expected
    )
    every = OnlineCuration([0], [5], t=1.0, lang="all")
    assert every.keep([bytes(16)], [[0]], 0, langs=["xx"]).dtype == bool


def test_bad_inputs(runs, tmp_path):
    oc = OnlineCuration([0], [5], t=1.0)
    with pytest.raises(ValueError, match="epoch"):
        oc.keep([bytes(16)], [[0]], -1)
    with pytest.raises(ValueError, match="2 pair keys but 1 entry lists"):
        oc.keep([bytes(16), bytes(16)], [[0]], 0)
    with pytest.raises(ValueError, match="hex digit"):
        oc.keep(["zz" * 16], [[0]], 0)
    with pytest.raises(ValueError, match="null key"):
        oc.keep(pa.array([None], pa.binary(16)), [[0]], 0)
    with pytest.raises(ValueError, match="16-byte"):
        oc.keep([b"short"], [[0]], 0)
    with pytest.raises(ValueError, match="t must be > 0"):
        OnlineCuration([0], [5], t=0)
    with pytest.raises(ValueError, match="unit"):
        OnlineCuration([0], [5], t=1.0, unit="text")
    with pytest.raises(CurationSourceError, match="no balance manifest"):
        OnlineCuration.from_balance(tmp_path)
    manifest = json.loads((runs["pair"] / "manifest.json").read_text())
    (tmp_path / "manifest.json").write_text(
        json.dumps({**manifest, "sql_version": "metaclip_v2", "t": {"en": 5}})
    )
    with pytest.raises(CurationSourceError, match="worldwide"):
        OnlineCuration.from_balance(tmp_path)


# --- any worker, shard split or order -------------------------------------------------------------


@pytest.mark.parametrize("unit", ["pair", "image"])
def test_same_decisions_across_workers(runs, pairs, unit):
    """The pool dealt to 1, 2 and 8 workers, each in its own order: the same decisions."""
    oc = OnlineCuration.from_balance(runs[unit])
    siblings = image_keys_of(pairs)
    for epoch in (0, 1, 7):
        whole = oc.keep(pairs.keys, pairs.entry_ids, epoch, image_keys=siblings)
        for workers in (1, 2, 8):
            got = np.zeros(len(pairs), dtype=bool)
            for part in split_rows(len(pairs), workers, seed=epoch + workers):
                sub = pairs.take(part)
                got[part] = oc.keep(
                    sub.keys, sub.entry_ids, epoch, image_keys=[siblings[i] for i in part]
                )
            assert np.array_equal(got, whole), (epoch, workers)
        one = [
            oc.keep_one(pairs.keys[i], pairs.entry_ids[i], epoch, image_keys=siblings[i])
            for i in range(0, len(pairs), 7)
        ]
        assert one == whole[::7].tolist()


def test_import_needs_no_duckdb_nor_torch():
    code = (
        "import sys, metaclip_sql.online\n"
        "heavy = [m for m in ('duckdb', 'torch', 'ray', 'pandas') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
