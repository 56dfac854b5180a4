"""Benchmark: `balance` with the local and the Ray distributor on one generated pool, in one run.

The pool is bench/balance.py's (Zipf-like over 500k entries, 1-10 entries a text, 2% of pairs
repeated in a second shard, 500k texts a shard). Ray runs on this machine (`ray.init(num_cpus=N)`,
started once, its start-up timed apart); each balance is timed end to end, runs interleaved,
medians reported, with the peak bytes under --out while it runs (map output, spill, parts) and
a check that both distributors kept the same number of pairs with the same entry counts.

    python bench/scale_balance.py [--texts 4M] [--runs 3] [--t 20000] [--partitions 2,8]
        [--cpus 2] [--workdir /tmp/metaclip-bench-scale-balance] [--keep]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from balance import generate_pool, parse_size, write_metadata  # noqa: E402 (bench/balance.py)


class PeakBytes:
    """Polls a directory's size in a thread; `peak` is the largest total seen."""

    def __init__(self, folder: Path, every: float = 0.2) -> None:
        self.folder, self.every, self.peak = folder, every, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> PeakBytes:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _poll(self) -> None:
        while not self._stop.wait(self.every):
            self.peak = max(self.peak, _size(self.folder))


def _size(folder: Path) -> int:
    if folder.is_file():
        return folder.stat().st_size
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(FileNotFoundError):  # a temp file renamed meanwhile
                total += os.stat(os.path.join(root, name)).st_size
    return total


def run_once(name: str, shards: Path, out: Path, metadata: Path, t: float) -> dict:
    from metaclip_sql.balance.v1 import balance

    distributor, _, partitions = name.partition(":")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    options = {"distributor": distributor, "partitions": int(partitions) if partitions else None}
    started = time.perf_counter()
    with PeakBytes(out) as disk:
        result = balance([shards], t=t, out=out, metadata=metadata, **options)
    seconds = time.perf_counter() - started
    import pyarrow.parquet as pq

    entry_counts = pq.read_table(result.files["entry_counts"]).sort_by("entry_id")
    return {
        "seconds": seconds,
        "peak_bytes": disk.peak,
        "kept": result.kept,
        "pairs": result.counts["pairs"],
        "steps": result.seconds,
        "entry_counts": entry_counts,
        "curated_bytes": _size(Path(result.files["curated"])),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", default="4M")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--t", type=float, default=20000)
    parser.add_argument("--partitions", default="2,8", help="Ray runs, one per value.")
    parser.add_argument("--cpus", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/metaclip-bench-scale-balance"))
    parser.add_argument("--keep", action="store_true", help="Keep the generated pool.")
    args = parser.parse_args()

    import pyarrow.parquet as pq
    import ray

    texts = parse_size(args.texts)
    work = args.workdir
    shards = work / "shards"
    if not shards.is_dir():
        started = time.perf_counter()
        generate_pool(shards, texts)
        print(f"generated in {time.perf_counter() - started:.0f} s", flush=True)
    metadata = write_metadata(work / "metadata.json")
    files = sorted(shards.glob("*.parquet"))
    pool_bytes = sum(f.stat().st_size for f in files)
    rows = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    print(f"{rows:,} rows in {len(files)} shards, {pool_bytes / 1e9:.2f} GB", flush=True)

    started = time.perf_counter()
    ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False)
    print(f"ray.init (local, {args.cpus} CPUs): {time.perf_counter() - started:.1f} s", flush=True)

    names = ["local"] + [f"ray:{n}" for n in args.partitions.split(",")]
    results: dict[str, list[dict]] = {name: [] for name in names}
    for run in range(args.runs):
        for name in names:
            result = run_once(name, shards, work / "out", metadata, args.t)
            results[name].append(result)
            steps = {k: round(v, 1) for k, v in result["steps"].items() if k.isalpha()}
            print(
                f"  run {run + 1} {name:8s} {result['seconds']:7.2f} s  peak under --out "
                f"{result['peak_bytes'] / 1e9:.2f} GB  kept {result['kept']:,}  {steps}",
                flush=True,
            )
    ray.shutdown()
    base = results["local"][0]
    local_median = statistics.median(r["seconds"] for r in results["local"])
    for name in names:
        med = statistics.median(r["seconds"] for r in results[name])
        same = all(
            r["kept"] == base["kept"] and r["entry_counts"].equals(base["entry_counts"])
            for r in results[name]
        )
        peak = max(r["peak_bytes"] for r in results[name])
        print(
            f"{name:8s} median {med:6.2f} s ({med / local_median:.2f}x local), "
            f"peak under --out {peak / 1e9:.2f} GB, curated {base['curated_bytes'] / 1e9:.2f} GB, "
            f"same kept and entry_counts as local: {same}"
        )
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
