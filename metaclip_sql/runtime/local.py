"""The local supervisor: one forked process per shard, `--workers` at a time, each watched.

It runs any `ShardJob` (extract's is `extract.job.ExtractJob`) and knows nothing of what the
job does. What the job loaded in the parent (an automaton, a language model) is shared with
the children copy-on-write. Each child reports through a heartbeat which page (record offset)
it is in; when a page keeps it busy past the job's `page_timeout`, or the child dies inside a
page, the child is killed and the shard runs again skipping just that page. A child that dies
outside any page, or raises, is the worker's trouble (memory, a network error), not the
input's: its shard is reported failed, or raised as `WorkerFailure` for a caller that retries
(`runtime.ray`).
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any, Protocol

from metaclip_sql.io.storage import Target, base_name
from metaclip_sql.runtime.heartbeat import Heartbeat

#: A shard is given up after this many skipped pages (each skip reruns the shard).
MAX_PAGE_SKIPS = 10
_POLL_SECONDS = 0.2
_PR_SET_PDEATHSIG = 1


class ShardJob(Protocol):
    """What the supervisor runs: one call per shard in a child, plus how to report a failure
    and clean up after a killed attempt. Results are the job's own (extract: `ShardStats`)."""

    page_timeout: float

    def run(self, shard: Target, skips: dict[int, str], heartbeat: Heartbeat) -> Any:
        """Process `shard` in this (child) process, skipping the pages at offsets `skips`."""

    def failed(self, shard: Target, message: str) -> Any:
        """The result of a shard that could not be processed (`message` names the shard)."""

    def discard(self, shard: Target, pid: int | None) -> None:
        """Remove what an attempt on `shard` by process `pid` (None: any dead one) left."""


@dataclass
class _Running:
    shard: Target
    process: multiprocessing.Process
    conn: Connection
    heartbeat: Heartbeat
    skips: dict[int, str] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)


ProgressCallback = Callable[[str, Any, int], None]


class WorkerFailure(Exception):
    """A shard's worker raised or died outside any page: the worker's trouble (a network error,
    memory), not the input's, so worth another attempt where a distributor can retry.
    `result` is the job's failed result for the shard."""

    def __init__(self, result: Any, message: str) -> None:
        super().__init__(message)
        self.result = result
        self.message = message

    def __reduce__(self):
        return (WorkerFailure, (self.result, self.message))


def _child(job: ShardJob, shard: Target, skips: dict[int, str], hb: Heartbeat, conn, parent: int):
    _die_with_parent(parent)
    try:
        result = job.run(shard, skips, hb)
    except Exception as exc:  # report, don't die silently: the parent names the shard
        message = f"{base_name(shard)}: failed: {type(exc).__name__}: {exc}"
        conn.send(WorkerFailure(job.failed(shard, message), message))
        conn.close()
        return
    conn.send(result)
    conn.close()


def _die_with_parent(parent: int) -> None:
    """Linux: the child is killed when its supervisor dies (a Ray worker killed mid-shard, say),
    so a retried shard never has a stale writer racing it."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the supervisor died before prctl took effect
        os._exit(1)


def run_local(
    shards: list[Target],
    job: ShardJob,
    workers: int,
    on_progress: ProgressCallback | None = None,
    raise_worker_failures: bool = False,
) -> list[Any]:
    """Run every shard in its own supervised process; results in input order.

    A shard whose worker raised or died outside a page is reported failed, or with
    `raise_worker_failures` raised as `WorkerFailure` (the Ray task's cue to retry it)."""
    mp = multiprocessing.get_context(
        "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    )
    pending: deque[tuple[Target, dict[int, str]]] = deque((s, {}) for s in shards)
    running: list[_Running] = []
    results: dict[Target, Any] = {}
    notify = on_progress or (lambda *_: None)
    try:
        while pending or running:
            while pending and len(running) < max(1, workers):
                shard, skips = pending.popleft()
                running.append(_start(mp, job, shard, skips))
                if not skips:  # a rerun without a bad page is the same shard still running
                    notify("started", None, 0)
            wait([r.conn for r in running] + [r.process.sentinel for r in running], _POLL_SECONDS)
            for run in list(running):
                outcome = _check(run, job)
                if outcome is None:
                    continue
                running.remove(run)
                if isinstance(outcome, _Rerun):
                    pending.appendleft((run.shard, outcome.skips))
                    continue
                if isinstance(outcome, WorkerFailure):
                    if raise_worker_failures:
                        raise outcome
                    outcome = outcome.result
                results[run.shard] = outcome
                notify("done", outcome, 0)
            notify("pages", None, sum(r.heartbeat.pages for r in running))
    finally:
        for run in running:
            _stop(run, job)
    return [results[s] for s in shards]


@dataclass(frozen=True)
class _Rerun:
    """A shard to run again, skipping these pages."""

    skips: dict[int, str]


def _start(mp, job: ShardJob, shard: Target, skips: dict[int, str]) -> _Running:
    hb = Heartbeat(mp.RawArray("d", 3))
    parent_conn, child_conn = mp.Pipe(duplex=False)
    args = (job, shard, skips, hb, child_conn, os.getpid())
    process = mp.Process(target=_child, args=args, daemon=True)
    process.start()
    child_conn.close()
    return _Running(shard, process, parent_conn, hb, dict(skips))


def _check(run: _Running, job: ShardJob) -> Any:
    """The shard's result when done (a `WorkerFailure` when its worker failed), a `_Rerun`
    when it must run again without a page, None while it runs."""
    if run.conn.poll():
        try:
            result = run.conn.recv()
        except EOFError:
            result = None
        run.process.join()
        if result is not None:
            return result
    offset, busy = run.heartbeat.busy_for(time.monotonic())
    if run.process.is_alive() and busy <= job.page_timeout:
        return None
    died = not run.process.is_alive()
    _stop(run, job)
    name = base_name(run.shard)
    if offset < 0:
        message = f"{name}: worker died outside any page (exit code {run.process.exitcode})"
        return WorkerFailure(job.failed(run.shard, message), message)
    if len(run.skips) >= MAX_PAGE_SKIPS:
        message = f"{name}: given up after {MAX_PAGE_SKIPS} pages that hung or crashed the parser"
        return job.failed(run.shard, message)
    reason = "the worker died parsing it" if died else f"parser busy over {job.page_timeout:g} s"
    return _Rerun({**run.skips, offset: reason})


def _stop(run: _Running, job: ShardJob) -> None:
    """Kill a child and remove what it was writing."""
    if run.process.is_alive():
        run.process.kill()
    run.process.join()
    with contextlib.suppress(OSError):
        job.discard(run.shard, run.process.pid)


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1
