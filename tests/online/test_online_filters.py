"""The loader filters on samples as img2dataset writes them (no download here; the real path is
test_online_loaders.py): the webdataset predicate and the Hugging Face batch function decide as
`keep` does, read the epoch from what a training loop shares, and pickle into workers."""

from __future__ import annotations

import json
import pickle

import pyarrow as pa
import pytest

from metaclip_sql.online import OnlineCuration, key_string
from tests.helpers.online import pool_pairs, run_balance
from tests.helpers.pools import zipf_pool


@pytest.fixture(scope="module")
def pairs_and_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("online-filters")
    pool = zipf_pool(folder / "pool", images=1200, entries=80, max_entries=4, seed=6)
    out = run_balance(pool.files, t=30.0, seed=9, out=folder / "balanced").out
    return pool_pairs(pool, {"en"}), out


class SharedEpoch:
    """What open_clip shares with its loader workers (a multiprocessing.Value behind it)."""

    def __init__(self, epoch: int = 0) -> None:
        self.value = epoch

    def get_value(self) -> int:
        return self.value


def samples_of(pairs, with_key: bool = True) -> list[dict]:
    out = []
    for i in range(len(pairs)):
        meta = {
            "uuid": pairs.uuids[i],
            "caption": pairs.texts[i],
            "entry_ids": pairs.entry_ids[i],
            "lang": pairs.langs[i],
            "key": f"{i:09d}",
            "status": "success",
        }
        if with_key:
            meta["pair_key"] = key_string(pairs.keys[i])
        out.append({"__key__": f"{i:09d}", "jpg": b"", "json": json.dumps(meta).encode()})
    return out


def test_webdataset_filter_on_samples(pairs_and_run):
    pairs, out = pairs_and_run
    oc = OnlineCuration.from_balance(out)
    samples = samples_of(pairs)
    for epoch in (0, 4):
        want = oc.keep(pairs.keys, pairs.entry_ids, epoch).tolist()
        assert [oc.webdataset_filter(epoch)(s) for s in samples] == want
        bare = samples_of(pairs, with_key=False)  # key computed from uuid and caption
        assert [oc.webdataset_filter(epoch)(s) for s in bare] == want
    shared = SharedEpoch(0)
    chosen = oc.webdataset_filter(epoch=shared)
    restored = pickle.loads(pickle.dumps(chosen))  # as DataLoader workers receive it
    assert [restored(s) for s in samples] == oc.keep(pairs.keys, pairs.entry_ids, 0).tolist()
    shared.value = 6
    assert [chosen(s) for s in samples] == oc.keep(pairs.keys, pairs.entry_ids, 6).tolist()
    assert [oc.webdataset_filter(lambda: 6)(s) for s in samples[:50]] == [
        chosen(s) for s in samples[:50]
    ]
    with pytest.raises(KeyError, match="has no 'json'"):
        chosen({"__key__": "x"})
    with pytest.raises(KeyError, match="save_additional_columns"):
        chosen({"__key__": "x", "json": b'{"uuid": "a", "caption": "b"}'})
    with pytest.raises(TypeError, match="unknown field"):
        oc.webdataset_filter(0, entries="entry_ids")


def test_hf_filter_on_batches(pairs_and_run):
    pairs, out = pairs_and_run
    oc = OnlineCuration.from_balance(out)
    want = oc.keep(pairs.keys, pairs.entry_ids, 3).tolist()
    batch = {
        "key_str": [key_string(k) for k in pairs.keys],
        "ids": pairs.entry_ids,
        "uuid": pairs.uuids,
        "text": pairs.texts,
    }
    renamed = oc.hf_filter(3, pair_key="key_str", entry_ids="ids")
    assert renamed(batch) == want
    assert renamed(pa.table(batch)) == want
    computed = oc.hf_filter(3, entry_ids="ids")  # no pair_key column: from uuid and text
    assert computed({k: v for k, v in batch.items() if k != "key_str"}) == want
    one = {k: v[5] for k, v in batch.items()}
    assert renamed(one) is want[5]
    assert computed({k: v for k, v in one.items() if k != "key_str"}) is want[5]
    assert renamed({k: [] for k in batch}) == []  # an empty batch
