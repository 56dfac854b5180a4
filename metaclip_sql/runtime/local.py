"""How shards get run. `local`: one supervised process per shard, `--workers` at a time;
`ray`: one Ray task per shard on a cluster, each running `local` on its one shard.

The per-shard function (`extract.extract_shard`) knows nothing about who runs it. The local
distributor forks a child per shard (the matcher and language model, loaded once in the parent,
are shared copy-on-write), watches each child's heartbeat, and when a page keeps the parser busy
past `page_timeout` (or the child dies inside a page) kills the child and runs the shard again
skipping just that page. A shard whose child dies outside any page is reported as failed.
The Ray distributor ships the context through the object store once, and Ray retries a task
whose worker dies or that raises (`max_retries`); a shard that `local` reports failed (an
unreadable input) is final, as it is locally.
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
from pathlib import Path

from metaclip_sql.errors import MetaclipError
from metaclip_sql.extract.lid import LanguageId
from metaclip_sql.extract.shard import ExtractOptions, ShardStats, extract_shard, temp_path
from metaclip_sql.io.staging import remove_if_free
from metaclip_sql.io.storage import Target, base_name
from metaclip_sql.metadata.lang import LanguageMatchers
from metaclip_sql.metadata.matching import Matcher
from metaclip_sql.runtime.heartbeat import Heartbeat

#: A shard is given up after this many skipped pages (each skip reruns the shard).
MAX_PAGE_SKIPS = 10
_POLL_SECONDS = 0.2
_PR_SET_PDEATHSIG = 1


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
    shard: Target
    process: multiprocessing.Process
    conn: Connection
    heartbeat: Heartbeat
    skips: dict[int, str] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)


ProgressCallback = Callable[[str, ShardStats | None, int], None]


class WorkerFailure(Exception):
    """A shard's worker raised or died outside any page: the worker's trouble (a network error,
    memory), not the input's, so worth another attempt where a distributor can retry."""

    def __init__(self, stats: ShardStats) -> None:
        super().__init__(stats.messages[-1] if stats.messages else stats.shard)
        self.stats = stats

    def __reduce__(self):
        return (WorkerFailure, (self.stats,))


def _child(
    context: WorkerContext,
    shard: Target,
    skips: dict[int, str],
    hb: Heartbeat,
    conn,
    parent: int,
) -> None:
    _die_with_parent(parent)
    try:
        stats = extract_shard(shard, context.options, context.matcher, context.lid, hb, skips)
    except Exception as exc:  # report, don't die silently: the parent names the shard
        failed = ShardStats(shard=base_name(shard), status="failed", errors=1)
        failed.messages.append(f"{failed.shard}: failed: {type(exc).__name__}: {exc}")
        conn.send(WorkerFailure(failed))
        conn.close()
        return
    conn.send(stats)
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
    context: WorkerContext,
    workers: int,
    on_progress: ProgressCallback | None = None,
    raise_worker_failures: bool = False,
) -> list[ShardStats]:
    """Run every shard in its own supervised process; results in input order.

    A shard whose worker raised or died outside a page is reported failed, or with
    `raise_worker_failures` raised as `WorkerFailure` (the Ray task's cue to retry it)."""
    mp = multiprocessing.get_context(
        "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    )
    pending: deque[tuple[Target, dict[int, str]]] = deque((s, {}) for s in shards)
    running: list[_Running] = []
    results: dict[Target, ShardStats] = {}
    notify = on_progress or (lambda *_: None)
    try:
        while pending or running:
            while pending and len(running) < max(1, workers):
                shard, skips = pending.popleft()
                running.append(_start(mp, context, shard, skips))
                if not skips:  # a rerun without a bad page is the same shard still running
                    notify("started", None, 0)
            wait([r.conn for r in running] + [r.process.sentinel for r in running], _POLL_SECONDS)
            for run in list(running):
                outcome = _check(run, context.options)
                if outcome is None:
                    continue
                running.remove(run)
                if isinstance(outcome, WorkerFailure):
                    if raise_worker_failures:
                        raise outcome
                    outcome = outcome.stats
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


def _start(mp, context: WorkerContext, shard: Target, skips: dict[int, str]) -> _Running:
    hb = Heartbeat(mp.RawArray("d", 3))
    parent_conn, child_conn = mp.Pipe(duplex=False)
    args = (context, shard, skips, hb, child_conn, os.getpid())
    process = mp.Process(target=_child, args=args, daemon=True)
    process.start()
    child_conn.close()
    return _Running(shard, process, parent_conn, hb, dict(skips))


def _check(
    run: _Running, options: ExtractOptions
) -> ShardStats | WorkerFailure | dict[int, str] | None:
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
    name = base_name(run.shard)
    if offset < 0:
        stats = ShardStats(shard=name, status="failed", errors=1)
        code = run.process.exitcode
        stats.messages.append(f"{name}: worker died outside any page (exit code {code})")
        return WorkerFailure(stats)
    if len(run.skips) >= MAX_PAGE_SKIPS:
        stats = ShardStats(shard=name, status="failed", errors=1)
        stats.messages.append(
            f"{name}: given up after {MAX_PAGE_SKIPS} pages that hung or crashed the parser"
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
    with contextlib.suppress(OSError):
        remove_if_free(temp_path(run.shard, options.out_dir, run.process.pid))


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


# --- ray -----------------------------------------------------------------------------------------

#: Test hook: a file path; while the file holds "armed", the next Ray task exits its worker
#: process once mid-shard (and writes where), so tests can watch a killed task being retried.
KILL_ONCE_ENV = "METACLIP_SQL_TEST_KILL_ONCE"

_CONTEXTS: dict[str, WorkerContext] = {}  # per Ray worker process: the run's context, loaded once


def run_ray(
    shards: list[Target],
    context: WorkerContext,
    workers: int,
    on_progress: ProgressCallback | None = None,
    address: str | None = None,
    max_retries: int = 3,
) -> list[ShardStats]:
    """One Ray task per shard, each supervised by `run_local` inside it; results in input order.

    `workers` caps the tasks in flight (0: the cluster's CPUs). The context goes to the object
    store once; a task that dies with its worker or raises is retried up to `max_retries` times.
    """
    ray = import_ray()
    started_here = not ray.is_initialized()
    if started_here and address:
        ray.init(address=address)
    elif started_here:
        ray.init(include_dashboard=False)  # a local instance on this machine
    try:
        limit = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        remote = ray.remote(_ray_shard).options(
            num_cpus=1, max_retries=max_retries, retry_exceptions=True
        )
        boxed = [ray.put(context)]  # in a list, so tasks get the ref and resolve it once
        notify = on_progress or (lambda *_: None)
        return _drive(ray, remote, boxed, shards, limit, context.options, notify)
    finally:
        if started_here:
            ray.shutdown()


def _drive(
    ray, remote, boxed, shards, limit: int, options: ExtractOptions, notify: ProgressCallback
) -> list[ShardStats]:
    """Keep `limit` tasks in flight; collect each result as it lands."""
    pending = deque(enumerate(shards))
    in_flight: dict = {}
    results: dict[int, ShardStats] = {}
    while pending or in_flight:
        while pending and len(in_flight) < limit:
            i, shard = pending.popleft()
            in_flight[remote.remote(boxed, shard)] = i
            notify("started", None, 0)
        done, _ = ray.wait(list(in_flight), num_returns=1, timeout=1.0)
        for ref in done:
            i = in_flight.pop(ref)
            results[i] = _result(ray, ref, shards[i], options)
            notify("done", results[i], 0)
    return [results[i] for i in range(len(shards))]


def _result(ray, ref, shard: Target, options: ExtractOptions) -> ShardStats:
    try:
        return ray.get(ref)
    except Exception as exc:  # retries used up: the shard fails alone, the run goes on
        _remove_stale_temp(shard, options)
        cause = getattr(exc, "cause", None)
        if isinstance(cause, WorkerFailure):
            stats = cause.stats
            stats.messages[-1] += " (on Ray, retries used up)"
            return stats
        stats = ShardStats(shard=base_name(shard), status="failed", errors=1)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        stats.messages.append(f"{stats.shard}: failed on Ray: {type(exc).__name__}: {first}")
        return stats


def _ray_shard(boxed: list, shard: Target) -> ShardStats:
    """The Ray task: the local supervisor on one shard, so page limits and skips work the same."""
    context = _worker_context(boxed[0])
    _remove_stale_temp(shard, context.options)
    hook = _kill_once_hook()
    return run_local([shard], context, 1, hook, raise_worker_failures=True)[0]


def _worker_context(ref) -> WorkerContext:
    """The run's context, fetched from the object store once per worker process."""
    key = ref.hex()
    if key not in _CONTEXTS:
        import ray

        _CONTEXTS.clear()  # one run at a time per worker process
        _CONTEXTS[key] = ray.get(ref)
    return _CONTEXTS[key]


def _remove_stale_temp(shard: Target, options: ExtractOptions) -> None:
    """A retried shard's earlier attempt died with its worker; drop what it was writing (not
    what a live process writes: another run's, or a stale attempt still running elsewhere)."""
    folder = temp_path(shard, options.out_dir, 0).parent
    for tmp in folder.glob(f".{base_name(shard)}.parquet.*.tmp"):
        with contextlib.suppress(OSError):
            remove_if_free(tmp)


def _kill_once_hook() -> ProgressCallback | None:
    marker = os.environ.get(KILL_ONCE_ENV)
    if not marker:
        return None
    try:
        armed = Path(marker).read_text() == "armed"
    except OSError:
        return None
    if not armed:
        return None

    def kill_mid_shard(event: str, stats: ShardStats | None, pages: int) -> None:
        if event != "pages" or pages <= 0:
            return
        try:  # one task only, even when several are running
            os.close(os.open(f"{marker}.claimed", os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            return
        Path(marker).write_text(f"killed after {pages} pages")
        os._exit(1)

    return kill_mid_shard


def import_ray():
    """The ray module, or a ValueError that says how to install it."""
    try:
        import ray
    except ImportError:
        raise MetaclipError(
            "--distributor ray needs Ray: pip install 'metaclip-sql[ray]'"
        ) from None
    return ray
