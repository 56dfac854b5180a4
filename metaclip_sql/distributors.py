"""How shards get run. `local`: one supervised process per shard, `--workers` at a time.

The per-shard function (`extract.extract_shard`) knows nothing about who runs it. The local
distributor forks a child per shard (the matcher and language model, loaded once in the parent,
are shared copy-on-write), watches each child's heartbeat, and when a page keeps the parser busy
past `page_timeout` (or the child dies inside a page) kills the child and runs the shard again
skipping just that page. A shard whose child dies outside any page is reported as failed.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path

from metaclip_sql.extract import ExtractOptions, ShardStats, extract_shard
from metaclip_sql.heartbeat import Heartbeat
from metaclip_sql.lang_metadata import LanguageMatchers
from metaclip_sql.lid import LanguageId
from metaclip_sql.matching import Matcher

#: A shard is given up after this many skipped pages (each skip reruns the shard).
MAX_PAGE_SKIPS = 10
_POLL_SECONDS = 0.2


@dataclass
class WorkerContext:
    """What every shard worker needs; loaded once in the parent, inherited by forked children."""

    matcher: Matcher | LanguageMatchers
    lid: LanguageId | None
    options: ExtractOptions

    def __getstate__(self) -> dict:
        # Where children are spawned, not forked, the model is reloaded there (it is small).
        return {**self.__dict__, "lid": None}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.lid = self.lid or LanguageId()


@dataclass
class _Running:
    shard: Path
    process: multiprocessing.Process
    conn: Connection
    heartbeat: Heartbeat
    skips: dict[int, str] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)


ProgressCallback = Callable[[str, ShardStats | None, int], None]


def _child(context: WorkerContext, shard: Path, skips: dict[int, str], hb: Heartbeat, conn) -> None:
    try:
        stats = extract_shard(shard, context.options, context.matcher, context.lid, hb, skips)
    except Exception as exc:  # report, don't die silently: the parent names the shard
        stats = ShardStats(shard=shard.name, status="failed", errors=1)
        stats.messages.append(f"{shard.name}: failed: {type(exc).__name__}: {exc}")
    conn.send(stats)
    conn.close()


def run_local(
    shards: list[Path],
    context: WorkerContext,
    workers: int,
    on_progress: ProgressCallback | None = None,
) -> list[ShardStats]:
    """Run every shard in its own supervised process; results in input order."""
    mp = multiprocessing.get_context(
        "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    )
    pending: deque[tuple[Path, dict[int, str]]] = deque((s, {}) for s in shards)
    running: list[_Running] = []
    results: dict[Path, ShardStats] = {}
    notify = on_progress or (lambda *_: None)
    try:
        while pending or running:
            while pending and len(running) < max(1, workers):
                shard, skips = pending.popleft()
                running.append(_start(mp, context, shard, skips))
                notify("started", None, 0)
            wait([r.conn for r in running] + [r.process.sentinel for r in running], _POLL_SECONDS)
            for run in list(running):
                outcome = _check(run, context.options)
                if outcome is None:
                    continue
                running.remove(run)
                if isinstance(outcome, ShardStats):
                    results[run.shard] = outcome
                    notify("done", outcome, 0)
                else:
                    pending.appendleft((run.shard, outcome))
            notify("pages", None, sum(r.heartbeat.pages for r in running))
    finally:
        for run in running:
            _stop(run, context.options)
    return [results[s] for s in shards]


def _start(mp, context: WorkerContext, shard: Path, skips: dict[int, str]) -> _Running:
    hb = Heartbeat(mp.RawArray("d", 3))
    parent_conn, child_conn = mp.Pipe(duplex=False)
    process = mp.Process(target=_child, args=(context, shard, skips, hb, child_conn), daemon=True)
    process.start()
    child_conn.close()
    return _Running(shard, process, parent_conn, hb, dict(skips))


def _check(run: _Running, options: ExtractOptions) -> ShardStats | dict[int, str] | None:
    """The shard's stats when done, a new skip set when it must rerun, None while it runs."""
    if run.conn.poll():
        try:
            stats = run.conn.recv()
        except EOFError:
            stats = None
        run.process.join()
        if stats is not None:
            return stats
    offset, busy = run.heartbeat.busy_for(time.monotonic())
    if run.process.is_alive() and busy <= options.page_timeout:
        return None
    died = not run.process.is_alive()
    _stop(run, options)
    if offset < 0:
        stats = ShardStats(shard=run.shard.name, status="failed", errors=1)
        code = run.process.exitcode
        stats.messages.append(f"{run.shard.name}: worker died outside any page (exit code {code})")
        return stats
    if len(run.skips) >= MAX_PAGE_SKIPS:
        stats = ShardStats(shard=run.shard.name, status="failed", errors=1)
        stats.messages.append(
            f"{run.shard.name}: given up after {MAX_PAGE_SKIPS} pages that hung or crashed the parser"
        )
        return stats
    reason = (
        "the worker died parsing it" if died else f"parser busy over {options.page_timeout:g} s"
    )
    return {**run.skips, offset: reason}


def _stop(run: _Running, options: ExtractOptions) -> None:
    """Kill a child and remove the temporary file it was writing."""
    if run.process.is_alive():
        run.process.kill()
    run.process.join()
    pid = run.process.pid
    for tmp in options.out_dir.glob(f".{run.shard.name}.parquet.{pid}.tmp"):
        with contextlib.suppress(OSError):
            tmp.unlink()


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1
