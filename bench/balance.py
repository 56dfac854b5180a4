"""Benchmark: `balance` against the reference numpy code and the I/O floor, in one run.

For each pool size (texts; 1-10 entries a text, mean about 2.4, Zipf-like over 500k entries,
2% of pairs repeated in a second shard, Parquet shards in the extract schema) it times, each in
its own process so peak memory (VmHWM) is the step's own:

- numpy: the reference (MetaCLIP's entry_count.py + balance_sampling.py): `np.unique` counts over
  the (entry_id, text_id) uint32 array, then one draw per row; kept text ids only. Timed from the
  array in memory; run by `--numpy-python` (numpy 2.2: numpy 2.4's np.unique is much slower).
- dry-run: `balance --dry-run` (counts, dedup, probabilities and every decision; no rows
  written), with the plan it picks by itself (in-memory when the pool fits, see docs/balance.md).
- dry-run-streaming: the same with `dry_run_plan="streaming"` (the plan for pools larger than
  memory), so both plans are measured on the same pool.
- balance: `balance` end to end (curated.parquet, entry_counts.parquet, manifest.json).
- copy: the I/O floor, DuckDB copying the whole pool, all columns, to one zstd Parquet file.

Runs are interleaved and medians reported, with the ratios dry-run / numpy and balance / copy.

    python bench/balance.py [--sizes 1M,10M] [--runs 3] [--t scaled|20000] [--memory 2GB]
        [--steps numpy,dry-run,...] [--numpy-python /tmp/venv-np22/bin/python]
        [--workdir /tmp/metaclip-bench-balance] [--keep] [--reuse]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ENTRIES = 500_000
ROWS_PER_SHARD = 500_000
STEPS = ("numpy", "dry-run", "dry-run-streaming", "balance", "copy")
#: The ratios reported, step over baseline, when both ran.
RATIOS = (("dry-run", "numpy"), ("dry-run-streaming", "numpy"), ("balance", "copy"))
METACLIP_T, METACLIP_POOL = 20_000, 1_600_000_000


def parse_size(text: str) -> int:
    """'1M' -> 1_000_000, '500k' -> 500_000, '2000' -> 2000."""
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1].lower(), 1)
    return int(float(text[:-1] if scale > 1 else text) * scale)


# --- pool --------------------------------------------------------------------------------------


def generate_pool(folder: Path, texts: int) -> list[Path]:
    """Write the pool's shards with bench/sql/balance_pool.sql; return their paths."""
    import duckdb

    from metaclip_sql.duck.sql import SqlFile, run

    sql = _bench_sql("balance_pool.sql")
    folder.mkdir(parents=True, exist_ok=True)
    shards = max(4, -(-texts // ROWS_PER_SHARD))
    bounds = [texts * s // shards for s in range(shards + 1)]
    files = []
    con = duckdb.connect()
    run(con, "common/pair_key.sql")
    for s in range(shards):
        prev = (s - 1) % shards
        path = folder / f"shard-{s:05d}.parquet"
        params = {
            "lo": bounds[s],
            "hi": bounds[s + 1],
            "dup_lo": bounds[prev],
            "dup_hi": bounds[prev + 1],
            "dup_permille": 20,
            "entries": ENTRIES,
            "shard": f"CC-MAIN-2024-10-{s:05d}.warc.gz",
            "path": str(path),
        }
        run(con, SqlFile(sql.name, sql.text), params)
        files.append(path)
    con.close()
    return files


def write_metadata(path: Path) -> Path:
    """A 500k-entry list, so entry_counts.parquet gets names as in real use."""
    path.write_text(json.dumps([f"entry {i}" for i in range(ENTRIES)]))
    return path


def write_inverted_index(files: list[Path], path: Path) -> int:
    """The reference's (entry_id, text_id) uint32 array, saved as .npy; returns its rows."""
    import duckdb
    import numpy as np

    from metaclip_sql.duck.sql import run

    con = duckdb.connect()
    con.read_parquet([str(f) for f in files]).create_view("pool")
    columns = run(con, _bench_sql("balance_inverted_index.sql")).fetchnumpy()
    index = np.empty((len(columns["entry_id"]), 2), dtype=np.uint32)
    index[:, 0], index[:, 1] = columns["entry_id"], columns["text_id"]
    np.save(path, index)
    return len(index)


def _index_rows(path: Path) -> int:
    """Rows of a saved index, read from its header (mmap, nothing loaded)."""
    import numpy as np

    return len(np.load(path, mmap_mode="r"))


def _bench_sql(name: str):
    from metaclip_sql.duck.sql import SqlFile

    path = HERE / "sql" / name
    return SqlFile(name=f"bench/sql/{name}", text=path.read_text(encoding="utf-8"))


# --- children: one measured step per process -------------------------------------------------


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child_numpy(index_path: str, t: float) -> dict:
    """The reference code on the in-memory array (np.load is not timed)."""
    import numpy as np

    index = np.load(index_path)
    started, cpu = time.perf_counter(), _cpu()
    entry_ids, counts = np.unique(index[:, 0], return_counts=True)
    entry_count = np.zeros(ENTRIES, dtype=np.uint64)
    entry_count[entry_ids] += counts.astype(np.uint64)
    per_row = entry_count[index[:, 0]]
    per_row[per_row < t] = t
    probs = t / per_row
    selected = np.random.random_sample((index.shape[0],)) < probs
    kept = np.sort(np.unique(index[:, 1][selected]))
    seconds, cpu = time.perf_counter() - started, _cpu() - cpu
    return {"seconds": seconds, "cpu": cpu, "kept": int(kept.shape[0]), "numpy": np.__version__}


def child_balance(
    pool: str, out: str, metadata: str, t: float, memory_limit: str, step: str
) -> dict:
    from metaclip_sql.balance.v1 import balance

    started, cpu = time.perf_counter(), _cpu()
    result = balance(
        [pool],
        t=t,
        out=out,
        metadata=metadata,
        memory_limit=memory_limit or None,
        dry_run=step != "balance",
        dry_run_plan="streaming" if step == "dry-run-streaming" else "auto",
    )
    seconds, cpu = time.perf_counter() - started, _cpu() - cpu
    return {
        "seconds": seconds,
        "cpu": cpu,
        "kept": result.kept,
        "pairs": result.counts["pairs"],
        "plan": result.plan,
        "steps": result.seconds,
    }


def child_copy(pool: str, out: str) -> dict:
    import duckdb

    from metaclip_sql.duck.sql import run

    started, cpu = time.perf_counter(), _cpu()
    con = duckdb.connect(config={"preserve_insertion_order": False})
    con.read_parquet(str(Path(pool) / "*.parquet")).create_view("pool")
    run(con, _bench_sql("balance_copy_floor.sql"), {"path": out})
    con.close()
    return {"seconds": time.perf_counter() - started, "cpu": _cpu() - cpu}


def _peak_rss_gb() -> float:
    """This process's peak resident memory. Linux's VmHWM belongs to the address space exec
    created; ru_maxrss also counts the parent's resident memory at fork (the driver's, which
    holds the generated index), so it overstated every step below the driver's size."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / 1e9
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def run_child(python: str, args: list[str]) -> dict:
    """Run one step in a fresh process; its JSON line plus its own peak memory."""
    cmd = [python, str(Path(__file__).resolve()), "--child", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=HERE.parent)
    if done.returncode != 0:
        raise SystemExit(f"step {args[0]} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def child_main(argv: list[str]) -> None:
    step, *rest = argv
    if step == "numpy":
        result = child_numpy(rest[0], float(rest[1]))
    elif step in ("dry-run", "dry-run-streaming", "balance"):
        result = child_balance(*rest[:3], float(rest[3]), rest[4], step)
    else:
        result = child_copy(rest[0], rest[1])
    result["max_rss_gb"] = _peak_rss_gb()
    print(json.dumps(result))


# --- driver ------------------------------------------------------------------------------------


def bench_size(texts: int, args: argparse.Namespace) -> dict:
    work = args.workdir / f"pool-{texts}"
    started = time.perf_counter()
    if args.reuse and (work / "inverted.npy").exists():
        files = sorted((work / "shards").glob("*.parquet"))
        metadata = work / "metadata.json"
        rows = _index_rows(work / "inverted.npy")
    else:
        shutil.rmtree(work, ignore_errors=True)
        files = generate_pool(work / "shards", texts)
        metadata = write_metadata(work / "metadata.json")
        rows = write_inverted_index(files, work / "inverted.npy")
    pool_bytes = sum(f.stat().st_size for f in files)
    print(
        f"\n{texts:,} texts: {len(files)} shards, {pool_bytes / 1e9:.2f} GB, {rows:,} "
        f"(text, entry) rows; generated in {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    t = threshold(args.t, texts)
    pool, out = str(work / "shards"), str(work / "out")
    steps = {
        "numpy": (args.numpy_python, ["numpy", str(work / "inverted.npy"), str(t)]),
        **{
            step: (sys.executable, [step, pool, out, str(metadata), str(t), args.memory])
            for step in ("dry-run", "dry-run-streaming", "balance")
        },
        "copy": (sys.executable, ["copy", pool, str(work / "copy.parquet")]),
    }
    print(f"  t = {t:g}", flush=True)
    results: dict[str, list[dict]] = {name: [] for name in args.steps}
    for run in range(args.runs):
        for name in args.steps:
            result = run_child(*steps[name])
            results[name].append(result)
            print(
                f"  run {run + 1} {name:17s} {result['seconds']:7.2f} s  "
                f"cpu {result['cpu']:7.2f} s  {result['max_rss_gb']:.2f} GB  "
                f"load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
    if not (args.keep or args.reuse):
        shutil.rmtree(work, ignore_errors=True)
    return {"texts": texts, "t": t, "rows": rows, "pool_bytes": pool_bytes, "results": results}


def threshold(option: str, texts: int) -> float:
    """`--t`: a number, or `scaled`: MetaCLIP 400M's t = 20,000 on a 1.6B-pair pool, pro rata."""
    if option == "scaled":
        return float(max(1, round(METACLIP_T * texts / METACLIP_POOL)))
    return float(option)


def report(size: dict) -> dict:
    results = size["results"]
    med = {name: statistics.median(r["seconds"] for r in runs) for name, runs in results.items()}
    cpu = {name: statistics.median(r["cpu"] for r in runs) for name, runs in results.items()}
    peak = {name: max(r["max_rss_gb"] for r in runs) for name, runs in results.items()}
    summary = {
        "texts": size["texts"],
        "t": size["t"],
        "rows": size["rows"],
        "median_seconds": med,
        "median_cpu_seconds": cpu,
        "peak_rss_gb": peak,
    }
    for step, base in RATIOS:
        if step in med and base in med:
            summary[f"{step}_over_{base}"] = med[step] / med[base]
            summary[f"cpu_{step}_over_{base}"] = cpu[step] / cpu[base]
    for name, runs in results.items():
        if "kept" in runs[0]:
            summary[f"kept_{name}"] = runs[0]["kept"]
        if "steps" in runs[0]:
            summary["pairs"] = runs[0]["pairs"]
            summary[f"steps_first_run_{name}"] = runs[0]["steps"]
        if "plan" in runs[0]:
            summary[f"plan_{name}"] = runs[0]["plan"]
        if "numpy" in runs[0]:
            summary["numpy_version"] = runs[0]["numpy"]
    runs = len(next(iter(results.values())))
    print(
        f"\n== {size['texts']:,} texts ({size['rows']:,} rows), t={size['t']:g}, median of {runs}"
    )
    for name in results:
        plan = f"  ({summary[f'plan_{name}']})" if f"plan_{name}" in summary else ""
        print(
            f"  {name:17s} {med[name]:7.2f} s  cpu {cpu[name]:7.2f} s  peak {peak[name]:.2f} GB"
            + plan
        )
    for step, base in RATIOS:
        if f"{step}_over_{base}" in summary:
            print(
                f"  {step} / {base} {summary[f'{step}_over_{base}']:.2f}x "
                f"(cpu {summary[f'cpu_{step}_over_{base}']:.2f}x)"
            )
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1M,10M", help="Pool sizes in texts, e.g. 1M,10M,50M.")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--t",
        default="scaled",
        help="Threshold: a number, or 'scaled' (20000 x texts / 1.6B, MetaCLIP 400M's ratio).",
    )
    parser.add_argument(
        "--memory", default="", help="balance --memory-limit for both balance steps, e.g. 2GB."
    )
    parser.add_argument(
        "--numpy-python",
        default="/tmp/venv-np22/bin/python"
        if Path("/tmp/venv-np22/bin/python").exists()
        else sys.executable,
        help="Python that runs the numpy reference (a venv with numpy 2.2).",
    )
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/metaclip-bench-balance"))
    parser.add_argument(
        "--steps",
        type=lambda text: [step for step in text.split(",") if step],
        default=list(STEPS),
        help=f"Which of {','.join(STEPS)} to run (default all).",
    )
    parser.add_argument("--keep", action="store_true", help="Keep the generated pools.")
    parser.add_argument(
        "--reuse", action="store_true", help="Reuse (and keep) a pool --keep left in --workdir."
    )
    parser.add_argument("--json", type=Path, help="Also write the summary here.")
    args = parser.parse_args()
    unknown = sorted(set(args.steps) - set(STEPS))
    if unknown:
        parser.error(f"unknown --steps {','.join(unknown)}; choose from {','.join(STEPS)}")
    print(
        f"cores {os.cpu_count()}, t={args.t}, memory limit {args.memory or 'default'}, "
        f"numpy reference run by {args.numpy_python}"
    )
    summaries = [report(bench_size(parse_size(s), args)) for s in args.sizes.split(",")]
    if args.json:
        args.json.write_text(json.dumps(summaries, indent=2) + "\n")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_main(sys.argv[2:])
    else:
        main()
