"""The real path: the pool served over loopback, downloaded by img2dataset into webdataset
shards, read back with the webdataset library and Hugging Face datasets through the online
filters. Epoch 0 keeps exactly the pairs `balance --valid-uuids <img2dataset's parquet>` keeps.

Flow (docs/online.md): extract -> balance with a larger t -> online.img2dataset_input ->
img2dataset -> balance --valid-uuids --dry-run (the counts) -> training with OnlineCuration."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from metaclip_sql.online import OnlineCuration, img2dataset_input
from metaclip_sql.online.keys import key_one
from tests.helpers.online import curated_keys, image_server, local_pool, run_balance

wds = pytest.importorskip("webdataset")
if importlib.util.find_spec("img2dataset") is None:  # not imported here: it is slow to import
    pytest.skip("img2dataset is not installed", allow_module_level=True)

T_BIG, T, SEED = 40.0, 12.0, 4
COLUMNS = ["uuid", "entry_ids", "pair_key", "lang", "image_keys"]


def missing(n: int) -> bool:
    """Images the server does not have: their downloads fail, as dead links do."""
    return n % 6 == 0


@pytest.fixture(scope="module")
def flow(tmp_path_factory):
    root = tmp_path_factory.mktemp("online-img2dataset")
    with image_server(missing) as base:
        pool = local_pool(root / "matched", base, images=150, entries=12, seed=2)
        big = run_balance(pool.files, t=T_BIG, seed=SEED, out=root / "big").out
        source = img2dataset_input(
            big / "curated.parquet", root / "download.parquet", image_keys=True
        )
        args = [
            f"--url_list={source}",
            "--input_format=parquet",
            "--url_col=url",
            "--caption_col=caption",
            f"--save_additional_columns={json.dumps(COLUMNS)}",
            "--output_format=webdataset",
            f"--output_folder={root / 'shards'}",
            "--number_sample_per_shard=100",
            "--processes_count=1",
            "--thread_count=8",
            "--image_size=16",
            "--timeout=5",
            "--retries=0",
            "--enable_wandb=False",
            "--distributor=multiprocessing",
        ]
        env = {**os.environ, "NO_ALBUMENTATIONS_UPDATE": "1", "NO_PROXY": "127.0.0.1,localhost"}
        code = "import sys; from img2dataset import main; sys.exit(main())"
        subprocess.run(
            [sys.executable, "-c", code, *args],
            env=env,
            cwd=root,
            check=True,
            timeout=300,
            capture_output=True,
        )
    shards = root / "shards"
    downloaded = sorted(str(p) for p in shards.glob("*.parquet"))
    runs = {}
    for unit in ("pair", "image"):
        options = dict(t=T, seed=SEED, unit=unit, valid_uuids=downloaded)
        counts = run_balance(
            [big / "curated.parquet"], dry_run=True, out=root / f"counts-{unit}", **options
        )
        final = run_balance([big / "curated.parquet"], out=root / f"final-{unit}", **options)
        runs[unit] = (counts.out, final.out)
    return {
        "root": root,
        "big": big,
        "tars": sorted(str(p) for p in shards.glob("*.tar")),
        "parquets": downloaded,
        "runs": runs,
    }


def read_keys(dataset) -> list[bytes]:
    return [key_one(json.loads(sample["json"])["pair_key"]) for sample in dataset]


def test_download_happened_as_expected(flow):
    status = pq.read_table(flow["parquets"], columns=["status"]).column("status").to_pylist()
    assert status.count("success") > 50
    assert 0 < status.count("failed_to_download") < len(status) / 3
    assert len(flow["tars"]) > 1


@pytest.mark.parametrize("unit", ["pair", "image"])
def test_webdataset_epoch0_keeps_what_balance_keeps(flow, unit):
    counts, final = flow["runs"][unit]
    oc = OnlineCuration.from_balance(counts)
    assert oc.unit == unit and oc.t == T
    expected = curated_keys(final)
    every = read_keys(wds.WebDataset(flow["tars"], shardshuffle=False))
    kept = read_keys(
        wds.WebDataset(flow["tars"], shardshuffle=False).select(oc.webdataset_filter(0))
    )
    assert set(kept) == expected
    assert len(kept) == len(expected) < len(every)
    # the same after .decode() (json as a dict), and without pair_key in the json (computed
    # from uuid and caption, as when img2dataset was given curated.parquet itself)
    decoded = (
        wds.WebDataset(flow["tars"], shardshuffle=False).decode().select(oc.webdataset_filter(0))
    )
    assert {key_one(s["json"]["pair_key"]) for s in decoded} == expected

    def without_key(sample):
        meta = json.loads(sample["json"])
        sample["json"] = json.dumps({k: v for k, v in meta.items() if k != "pair_key"}).encode()
        sample["__pair_key__"] = key_one(meta["pair_key"])
        return sample

    fallback = (
        wds.WebDataset(flow["tars"], shardshuffle=False)
        .map(without_key)
        .select(oc.webdataset_filter(0))
    )
    assert {s["__pair_key__"] for s in fallback} == expected


def test_later_epochs_agree_across_loaders(flow):
    """Epoch 3 through webdataset, through keep() on img2dataset's parquet, and through a
    Hugging Face dataset: the same pairs, and not epoch 0's."""
    datasets = pytest.importorskip("datasets")
    counts, final = flow["runs"]["pair"]
    oc = OnlineCuration.from_balance(counts)
    via_wds = set(
        read_keys(wds.WebDataset(flow["tars"], shardshuffle=False).select(oc.webdataset_filter(3)))
    )
    table = pq.read_table(flow["parquets"])
    table = table.filter(np.array(table.column("status").to_pylist()) == "success")
    kept = oc.keep(table["pair_key"], table["entry_ids"], 3, langs=table["lang"])
    via_keep = {key_one(k) for k in np.array(table["pair_key"].to_pylist())[kept]}
    assert via_wds == via_keep
    assert via_keep != curated_keys(final)

    hf = datasets.Dataset.from_parquet(flow["parquets"], cache_dir=str(flow["root"] / "hf"))
    hf = hf.filter(lambda s: [x == "success" for x in s], input_columns="status", batched=True)
    for dataset in (hf, hf.with_format("arrow")):
        chosen = dataset.filter(oc.hf_filter(3), batched=True, batch_size=37)
        assert {key_one(k) for k in chosen.with_format(None)["pair_key"]} == via_keep
    one_by_one = hf.filter(oc.hf_filter(3))
    assert {key_one(k) for k in one_by_one["pair_key"]} == via_keep
    # without pair_key: computed from uuid and caption
    bare = hf.remove_columns(["pair_key"]).filter(oc.hf_filter(3), batched=True)
    assert len(bare) == len(via_keep)


def test_counts_describe_what_the_loader_sees(flow):
    """The dry run with --valid-uuids counted exactly the pairs the shards hold."""
    counts, _ = flow["runs"]["pair"]
    manifest = json.loads((Path(counts) / "manifest.dry-run.json").read_text())
    samples = sum(1 for _ in wds.WebDataset(flow["tars"], shardshuffle=False))
    assert manifest["counts"]["pairs"] == samples


def test_cli_img2dataset_input_writes_string_keys(tmp_path) -> None:
    """`metaclip-sql img2dataset-input` writes the pair keys as strings img2dataset can carry."""
    import pyarrow.parquet as pq
    from typer.testing import CliRunner

    from metaclip_sql.cli import app
    from metaclip_sql.demo import run_demo

    run_demo(tmp_path / "demo", 40)
    out = tmp_path / "download.parquet"
    args = ["img2dataset-input", str(tmp_path / "demo" / "matched"), "--out", str(out)]
    done = CliRunner().invoke(app, [*args, "--image-keys", "--lang", "all"])
    assert done.exit_code == 0, done.output
    table = pq.read_table(out)
    assert {"url", "caption", "uuid", "entry_ids", "pair_key", "image_keys"} <= set(
        table.column_names
    )
    keys = table.column("pair_key").to_pylist()
    assert keys and all(isinstance(k, str) and len(k) == 36 for k in keys)
