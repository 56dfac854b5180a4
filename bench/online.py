"""Benchmark: online curation's decisions per second, its load time and its memory.

A 500k-entry count table as `balance` writes it (entry_counts.parquet; Zipf-like counts of a
1.6B-pair pool, t = 20,000: about 14.6k head entries, MetaCLIP 400M's proportions) and batches of
pairs as a loader reads them from Parquet (pair_key as pyarrow's uuid type, entry_ids as
list<int32>; 1-10 entries a pair, mean about 2.5, Zipf-like over the 500k entries with ids in no
popularity order, as bench/balance.py's pool). Measured, each the median of --runs interleaved
runs on one core (numpy's element-wise loops are single-threaded; --cpu pins the process):

- load: `OnlineCuration.from_counts(entry_counts.parquet, t=20000)`;
- keep: `oc.keep(pair_keys, entry_ids, epoch)` over a batch, in pairs a second (wall and CPU);
  also with the keys as strings (a JSON sample's form), unit image with each pair's image keys,
  and `keep_one` per sample (what the webdataset filter calls);
- memory: the curation's own bytes (per entry) and the peak bytes one keep() call allocates
  (per pair of the batch; tracemalloc), for two batch sizes and two table sizes.

    python bench/online.py [--pairs 1000000] [--runs 7] [--entries 500000] [--cpu 0] [--json out]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from metaclip_sql.online import OnlineCuration, key_string  # noqa: E402

T, POOL_PAIRS, MEAN_ENTRIES = 20_000.0, 1_600_000_000, 2.5


def count_table(entries: int) -> tuple[np.ndarray, np.ndarray]:
    """Zipf-like counts: the r-th most popular entry is matched by ~M / (H (r + 1)) pairs of a
    1.6B-pair pool; ids r * 7919 mod entries (popularity not in id order)."""
    ranks = np.arange(entries)
    harmonic = np.log(entries) + 0.5772
    counts = np.maximum(1, POOL_PAIRS * MEAN_ENTRIES / (harmonic * (ranks + 1))).astype(np.int64)
    return (ranks * 7919 % entries).astype(np.int32), counts


def write_counts(path: Path, entries: int) -> Path:
    """entry_counts.parquet in balance's columns (entry_id, entry, count, prob, kept)."""
    ids, counts = count_table(entries)
    order = np.argsort(ids)
    ids, counts = ids[order], counts[order]
    table = pa.table(
        {
            "entry_id": pa.array(ids, pa.int32()),
            "entry": pa.array([f"entry {i}" for i in ids.tolist()], pa.string()),
            "count": pa.array(counts, pa.int64()),
            "prob": pa.array(np.minimum(1.0, T / counts), pa.float64()),
            "kept": pa.array(np.minimum(counts, int(T)), pa.int64()),
        }
    )
    pq.write_table(table, path, compression="zstd")
    return path


def batch(n: int, entries: int, seed: int) -> tuple[pa.Array, pa.Array, pa.Array]:
    """n pairs: uuid-typed keys, list<int32> entry ids (1-10, mean ~2.5), uuids (~1.5 a text)."""
    rng = np.random.default_rng(seed)
    lengths = 1 + np.minimum(9, np.floor(rng.exponential(2.0, n)).astype(np.int64))
    total = int(lengths.sum())
    rank = np.floor(np.exp(rng.random(total) * np.log(entries + 1.0))).astype(np.int64) - 1
    values = (rank * 7919 % entries).astype(np.int32)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    entry_ids = pa.ListArray.from_arrays(pa.array(offsets), pa.array(values))
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    storage = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(16), n, [None, pa.py_buffer(raw.tobytes())]
    )
    keys = pa.ExtensionArray.from_storage(pa.uuid(), storage)
    images = pa.array((np.arange(n) * 2 // 3).astype(np.int64))
    return keys, entry_ids, images


def timed(fn) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def peak_bytes(fn) -> int:
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def image_keys_of(keys: pa.Array, images: pa.Array) -> pa.Array:
    """Per pair, the keys of its image's pairs (pairs 3k, 3k+1 -> image 2k; 3k+2 -> 2k+1)."""
    codes = images.to_numpy()
    order = np.argsort(codes, kind="stable")
    starts = np.searchsorted(codes[order], codes)
    ends = np.searchsorted(codes[order], codes, side="right")
    lengths = ends - starts
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    index = np.concatenate([order[s:e] for s, e in zip(starts, ends, strict=True)])
    return pa.ListArray.from_arrays(pa.array(offsets), keys.storage.take(pa.array(index)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=1_000_000, help="pairs a batch")
    parser.add_argument("--entries", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--cpu", type=int, default=None, help="pin to this CPU")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args()
    if args.cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})
    results: dict = {"pairs": args.pairs, "entries": args.entries, "runs": args.runs, "t": T}
    with tempfile.TemporaryDirectory() as tmp:
        counts_path = write_counts(Path(tmp) / "entry_counts.parquet", args.entries)
        loads = [
            timed(lambda: OnlineCuration.from_counts(counts_path, t=T))[0] for _ in range(args.runs)
        ]
    oc = OnlineCuration(*count_table(args.entries), t=T, seed=0)
    image_oc = OnlineCuration(*count_table(args.entries), t=T, seed=0, unit="image")
    keys, entry_ids, images = batch(args.pairs, args.entries, seed=1)
    strings = [key_string(k) for k in keys.storage.to_pylist()]
    siblings = image_keys_of(keys, images)
    small = 20_000
    one_keys, one_ids = strings[:small], entry_ids[:small].to_pylist()
    results["mean_entries"] = len(entry_ids.values) / args.pairs
    results["head_entries"] = oc.heads
    results["kept_share"] = float(oc.keep(keys, entry_ids, 0).mean())
    cases = {
        "keep (uuid keys, list<int32>)": lambda e: oc.keep(keys, entry_ids, e),
        "keep (string keys)": lambda e: oc.keep(strings, entry_ids, e),
        "keep, unit image (image keys)": lambda e: image_oc.keep(
            keys, entry_ids, e, image_keys=siblings
        ),
        "probability": lambda e: oc.probability(entry_ids),
        "keep_one per sample": lambda e: [
            oc.keep_one(k, i, e) for k, i in zip(one_keys, one_ids, strict=True)
        ],
    }
    sizes = {name: (small if "keep_one" in name else args.pairs) for name in cases}
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
    for run in range(args.runs):  # interleaved
        for name, fn in cases.items():
            times[name].append(timed(lambda fn=fn, epoch=run + 1: fn(epoch)))
    results["load_seconds_median"] = statistics.median(loads)
    results["load_seconds"] = loads
    results["cases"] = {}
    for name, runs in times.items():
        walls = [w for w, _ in runs]
        cpus = [c for _, c in runs]
        results["cases"][name] = {
            "pairs_per_second_median": sizes[name] / statistics.median(walls),
            "pairs_per_second_cpu_median": sizes[name] / statistics.median(cpus),
            "pairs_per_second_runs": [sizes[name] / w for w in walls],
        }
    # memory: the curation's own bytes per entry; one call's peak bytes per pair of the batch
    memory = {"state_bytes": {}, "call_peak_bytes_per_pair": {}}
    for entries in (50_000, args.entries):
        memory["state_bytes"][entries] = OnlineCuration(*count_table(entries), t=T)._factor.nbytes
    for n in (args.pairs // 10, args.pairs):
        k, e, _ = batch(n, args.entries, seed=2)
        oc.keep(k, e, 1)
        memory["call_peak_bytes_per_pair"][n] = peak_bytes(lambda k=k, e=e: oc.keep(k, e, 1)) / n
    results["memory"] = memory
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


def report(r: dict) -> None:
    print(
        f"{r['pairs']:,} pairs a batch, {r['mean_entries']:.2f} entries a pair, "
        f"{r['entries']:,} entries ({r['head_entries']:,} heads at t={r['t']:g}), "
        f"{r['kept_share']:.1%} kept; medians of {r['runs']} runs"
    )
    print(f"load entry_counts.parquet: {r['load_seconds_median']:.3f} s")
    for name, c in r["cases"].items():
        runs = ", ".join(f"{x / 1e6:.1f}" for x in c["pairs_per_second_runs"])
        print(
            f"{name:32s} {c['pairs_per_second_median'] / 1e6:7.2f} M/s wall, "
            f"{c['pairs_per_second_cpu_median'] / 1e6:7.2f} M/s cpu   (runs: {runs})"
        )
    m = r["memory"]
    for entries, size in m["state_bytes"].items():
        print(
            f"curation state, {entries:,} entries: {size / 1e6:.1f} MB ({size / entries:.0f} B an entry)"
        )
    for n, per_pair in m["call_peak_bytes_per_pair"].items():
        print(f"one keep() call over {n:,} pairs: peak {per_pair:.0f} B a pair allocated")


if __name__ == "__main__":
    main()
