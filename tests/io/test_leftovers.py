"""Leftovers of killed runs, and runs at once on the same --out (issue 14, item 6), with real
processes: the CLI in a subprocess of its own process group, killed with SIGKILL mid-run.

A killed run leaves its temporary names in --out; the next run removes them and says so, and
its outputs are those of a run never interrupted. A temporary file that a live process holds is
never removed, and two runs at once leave complete outputs of one run each.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from metaclip_sql.balance.v1 import balance
from metaclip_sql.balance.v2 import balance_worldwide
from metaclip_sql.extract.shard import read_stats
from metaclip_sql.io import staging
from metaclip_sql.sample import sample_pages, write_warc
from tests.helpers.pools import zipf_pool

CLI = [
    sys.executable,
    "-c",
    "import sys; from metaclip_sql.cli import app; sys.argv[0] = 'metaclip-sql'; app()",
]
ENTRIES = ["photo", "picture", "dog", "cat", "bird", "horse", "car", "snow", "beach", "Paris"]
SHARDS = 4
PAGES = 2_000  # per shard: about half a second of work each
POOL_ROWS = 1_200_000  # balance: about 2 s with one thread
POOL_ENTRIES = 2_000
T = 1_000


def dot_files(folder: Path) -> list[str]:
    """What a run leaves that is not an output: temporary files, spill folders, locks."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def run_cli(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=120)


def start_cli(*args: str | Path) -> subprocess.Popen:
    """The CLI in a process group of its own (its workers too), output discarded."""
    return subprocess.Popen(
        [*CLI, *map(str, args)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def kill_when(
    process: subprocess.Popen, ready: Callable[[], bool], settle: float = 0.0, timeout: float = 60
) -> None:
    """SIGKILL the process group once `ready()` (and `settle` seconds more); fails if the run
    ended first (then the input is too small to be caught mid-run)."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert process.poll() is None, "the run ended before it could be killed mid-run"
        assert time.monotonic() < deadline, "the run never got to the point of being killed"
        time.sleep(0.005)
    time.sleep(settle)
    assert process.poll() is None, "the run ended before it could be killed mid-run"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def same_rows(got: Path, want: Path) -> bool:
    """Whether two Parquet files hold the same rows (as multisets: order is not compared)."""
    con = duckdb.connect()
    try:
        con.read_parquet(str(got)).create_view("got")
        con.read_parquet(str(want)).create_view("want")
        counts = con.execute("SELECT (SELECT count(*) FROM got), (SELECT count(*) FROM want)")
        n_got, n_want = counts.fetchone()
        missing = con.execute("SELECT count(*) FROM (FROM want EXCEPT ALL FROM got)").fetchone()[0]
        return n_got == n_want > 0 and missing == 0
    finally:
        con.close()


# --- extract -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], Path]:
    """SHARDS copies of one synthetic shard (plain WARC: quick to write), and a metadata list."""
    folder = tmp_path_factory.mktemp("shards")
    first = write_warc(folder / "shard-0.warc", sample_pages(PAGES), layout="plain")
    paths = [first] + [shutil.copy(first, folder / f"shard-{i}.warc") for i in range(1, SHARDS)]
    metadata = folder.parent / "metadata.json"
    metadata.write_text(json.dumps(ENTRIES))
    return [Path(p) for p in paths], metadata


def extract_args(shards: tuple[list[Path], Path], out: Path, *more: str) -> list:
    files, metadata = shards
    return ["extract", *files, "--out", out, "--metadata", metadata, "--workers", "2", *more]


@pytest.fixture(scope="module")
def clean_extract(shards, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run never interrupted: what every other run must reproduce."""
    out = tmp_path_factory.mktemp("clean-extract")
    done = run_cli(*extract_args(shards, out))
    assert done.returncode == 0, done.stderr
    return out


def assert_same_extract(out: Path, clean: Path) -> None:
    """Same files, same rows, same counts in the footers (but the seconds they took)."""
    names = sorted(p.name for p in clean.glob("*.parquet"))
    assert sorted(p.name for p in out.glob("*.parquet")) == names
    for name in names:
        assert same_rows(out / name, clean / name), name
        got, want = read_stats(out / name), read_stats(clean / name)
        assert got is not None and want is not None
        assert {**got, "seconds": 0} == {**want, "seconds": 0}, name


def test_extract_rerun_removes_what_a_killed_run_left_and_says_so(
    shards, clean_extract: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    killed = start_cli(*extract_args(shards, out))
    kill_when(killed, lambda: out.is_dir() and any(out.glob(".*.tmp")))
    left = dot_files(out)
    assert left and all(name.endswith(".tmp") for name in left), left

    rerun = run_cli(*extract_args(shards, out))
    assert rerun.returncode == 0, rerun.stderr
    assert dot_files(out) == []
    assert f"removed {len(left)} leftover" in rerun.stdout, rerun.stdout
    assert all(name in rerun.stdout for name in left[:4]), rerun.stdout
    assert_same_extract(out, clean_extract)


def test_two_extract_runs_at_once_on_the_same_out(
    shards, clean_extract: Path, tmp_path: Path
) -> None:
    """Both rewrite every shard (--overwrite): each output is one run's complete file."""
    out = tmp_path / "out"
    args = extract_args(shards, out, "--overwrite")
    args[args.index("--workers") + 1] = "1"
    first, second = start_cli(*args), start_cli(*args)
    assert first.wait(timeout=120) == 0 and second.wait(timeout=120) == 0
    assert dot_files(out) == []
    assert_same_extract(out, clean_extract)


def test_extract_never_removes_a_temporary_file_a_live_process_holds(
    shards, tmp_path: Path
) -> None:
    """A live writer's file (locked here) stays; a dead writer's (unlocked) goes."""
    files, metadata = shards
    out = tmp_path / "out"
    out.mkdir()
    live = out / ".other.warc.parquet.4242.tmp"
    dead = out / ".gone.warc.parquet.4343.tmp"
    dead.write_bytes(b"half a file")
    with live.open("wb", buffering=0) as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        held.write(b"being written")
        done = run_cli("extract", files[0], "--out", out, "--metadata", metadata, "--workers", "1")
        assert done.returncode == 0, done.stderr
        assert live.read_bytes() == b"being written"
    assert not dead.exists()
    assert "removed 1 leftover of an earlier run that was killed" in done.stdout, done.stdout
    assert dot_files(out) == [live.name]
    assert (out / f"{files[0].name}.parquet").exists()


# --- balance -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_pool(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """POOL_ROWS rows in the extract schema over POOL_ENTRIES entries, written by DuckDB (fast:
    distinct texts, a random pair_key), and the metadata naming the entries."""
    folder = tmp_path_factory.mktemp("big-pool")
    con = duckdb.connect()
    for s in range(4):
        lo, hi = POOL_ROWS * s // 4, POOL_ROWS * (s + 1) // 4
        con.execute(
            f"""
            COPY (
                SELECT printf('%024x', i // 2) AS uuid,
                    'https://img.example.org/' || (i // 2) || '.jpg' AS url,
                    'caption ' || i AS text, 'alt' AS text_key, 'en' AS lang,
                    0.9::FLOAT AS lang_score,
                    CASE WHEN i % 3 = 0 THEN [(hash(i) % {POOL_ENTRIES})::INTEGER]
                        ELSE [(i % 1000)::INTEGER, (1000 + hash(i) % 1000)::INTEGER]
                    END AS entry_ids,
                    'https://site.example.com/' || (i // 7) AS page_url,
                    'shard-{s}' AS shard, gen_random_uuid() AS pair_key
                FROM range({lo}, {hi}) t(i)
            ) TO '{folder / f"shard-{s}.parquet"}' (FORMAT parquet, COMPRESSION zstd)
            """
        )
    con.close()
    metadata = folder.parent / "big-pool-metadata.json"
    metadata.write_text(json.dumps([f"entry {i}" for i in range(POOL_ENTRIES)]))
    return folder, metadata


def balance_args(pool: tuple[Path, Path], out: Path, t: float = T, *more: str) -> list:
    folder, metadata = pool
    return ["balance", folder, "--t", str(t), "--out", out, "--metadata", metadata, *more]


@pytest.fixture(scope="module")
def clean_balance(big_pool, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("clean-balance")
    done = run_cli(*balance_args(big_pool, out))
    assert done.returncode == 0, done.stderr
    return out


def test_balance_rerun_removes_what_a_killed_run_left_and_says_so(
    big_pool, clean_balance: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    killed = start_cli(*balance_args(big_pool, out, T, "--threads", "1"))
    kill_when(killed, lambda: out.is_dir() and any(out.glob(".balance-spill-*")), settle=0.5)
    left = dot_files(out)
    assert any(name.startswith(".balance-spill-") for name in left), left
    assert not (out / "manifest.json").exists()

    rerun = run_cli(*balance_args(big_pool, out))
    assert rerun.returncode == 0, rerun.stderr
    assert dot_files(out) == []
    assert sorted(p.name for p in out.iterdir()) == [
        "curated.parquet",
        "entry_counts.parquet",
        "manifest.json",
    ]
    assert f"removed {len(left)} leftover" in rerun.stdout, rerun.stdout
    for name in ("curated.parquet", "entry_counts.parquet"):
        assert same_rows(out / name, clean_balance / name), name
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"] == json.loads((clean_balance / "manifest.json").read_text())["counts"]


def assert_one_runs_outputs(out: Path) -> dict:
    """manifest.json, curated.parquet and entry_counts.parquet were written by the same run:
    the manifest's t gave entry_counts' probabilities, its kept count is curated's rows, and
    entry_counts' kept column counts curated's rows per entry."""
    manifest = json.loads((out / "manifest.json").read_text())
    con = duckdb.connect()
    try:
        con.read_parquet(str(out / "curated.parquet")).create_view("curated")
        kept_rows = con.execute("SELECT count(*) FROM curated").fetchone()[0]
        per_entry = dict(
            con.execute(
                "SELECT e, count(*) FROM (SELECT unnest(entry_ids) AS e FROM curated) GROUP BY e"
            ).fetchall()
        )
        counts = con.read_parquet(str(out / "entry_counts.parquet"))
        rows = counts.select("entry_id, count, prob, kept").fetchall()
    finally:
        con.close()
    assert manifest["counts"]["kept"] == kept_rows
    for entry_id, count, prob, kept in rows:
        assert prob == pytest.approx(min(1.0, manifest["t"] / count)), entry_id
        assert kept == per_entry.get(entry_id, 0), entry_id
    return manifest


def test_two_balance_runs_at_once_on_the_same_out(big_pool, tmp_path: Path) -> None:
    """Different --t at once: both succeed, and the outputs are all one run's."""
    out = tmp_path / "out"
    runs = [start_cli(*balance_args(big_pool, out, t, "--threads", "1")) for t in (300, 3000)]
    assert [r.wait(timeout=120) for r in runs] == [0, 0]
    assert dot_files(out) == []
    assert assert_one_runs_outputs(out)["t"] in (300, 3000)


def test_a_balance_commit_waits_for_another_runs_commit(tmp_path: Path) -> None:
    """While another process commits into --out (its lock held here), balance waits with its
    outputs complete under temporary names, then commits when the lock is released."""
    pool = zipf_pool(tmp_path / "pool", images=3000, entries=50)
    out = tmp_path / "out"
    out.mkdir()
    held = staging.hold(out / staging.COMMIT_LOCK)
    try:
        run = start_cli("balance", *pool.files, "--t", "20", "--out", out)
        deadline = time.monotonic() + 60
        while not any(out.glob(".entry_counts.parquet.*.tmp")):
            assert run.poll() is None and time.monotonic() < deadline
            time.sleep(0.01)
        time.sleep(0.5)
        assert run.poll() is None, "balance committed while another commit held the lock"
        assert not (out / "manifest.json").exists()
    finally:
        held.release(remove=True)
    assert run.wait(timeout=60) == 0
    assert dot_files(out) == []
    assert_one_runs_outputs(out)


@pytest.mark.parametrize("worldwide", [False, True])
def test_balance_never_removes_what_a_live_run_holds(worldwide: bool, tmp_path: Path) -> None:
    """A live run's spill folder and temporaries (its lock held here) stay; a killed run's go,
    and the result says which. (balance on Ray stages in --out through the same code.)"""
    pool = zipf_pool(tmp_path / "pool", images=500, entries=20)
    out = tmp_path / "out"
    out.mkdir()
    live, dead = "123-1700000000000000000", "456-1700000000000000001"
    for tag in (live, dead):
        (out / f".balance-spill-{tag}").mkdir()
        (out / f".balance-spill-{tag}" / "duckdb_temp_block").write_bytes(b"spilled")
        (out / f".curated.parquet.{tag}.tmp").write_bytes(b"half written")
        (out / f".balance-{tag}.lock").touch()
    held = staging.hold(out / f".balance-{live}.lock")
    try:
        if worldwide:
            result = balance_worldwide(pool.files, t_en=20, out=out, unit="pair")
        else:
            result = balance(pool.files, t=20, out=out)
    finally:
        held.release()
    assert dot_files(out) == [
        f".balance-{live}.lock",
        f".balance-spill-{live}",
        f".curated.parquet.{live}.tmp",
    ]
    assert sorted(result.leftovers) == sorted(
        [f".balance-spill-{dead}/", f".curated.parquet.{dead}.tmp", f".balance-{dead}.lock"]
    )
    assert "removed 3 leftovers of an earlier run that was killed" in result.summary()
    assert pq.read_table(result.files["curated"]).num_rows == result.counts["kept"]


def test_a_lock_removed_by_its_holder_passes_to_the_next_waiter(tmp_path: Path) -> None:
    """The commit lock's file is unlinked when released: a process that was waiting on the old
    file notices and locks the new one, so two holders never overlap."""
    path = tmp_path / staging.COMMIT_LOCK
    first = staging.hold(path)
    got: list[staging.Held] = []
    waiter = threading.Thread(target=lambda: got.append(staging.hold(path)))
    waiter.start()
    time.sleep(0.2)
    assert not got  # waiting
    first.release(remove=True)
    waiter.join(timeout=10)
    assert got and path.exists()
    assert not staging.remove_if_free(path)  # held by the waiter now
    got[0].release(remove=True)
    assert not path.exists()
