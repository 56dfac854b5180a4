"""Ray, set up one way for every stage, and the one fault hook tests use on it.

`session` joins a cluster (or starts a local instance) and shuts down only what it started;
`fault_point` lets a test make the first attempt of a chosen task die (its worker killed, or
an `OSError` raised) so retries can be watched. `run_shards` runs a `ShardJob` as one Ray task
per shard, each task supervising its shard with `runtime.local.run_local`, so page limits and
skips work as they do locally; Ray retries a task whose worker dies or that raises.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from metaclip_sql.errors import MetaclipError
from metaclip_sql.io.storage import Target, base_name
from metaclip_sql.runtime.local import ProgressCallback, ShardJob, WorkerFailure, run_local

_JOBS: dict[str, ShardJob] = {}  # per Ray worker process: the run's job, fetched once


class RayError(MetaclipError):
    """Ray is missing, or the cluster to join cannot be reached."""


def import_ray() -> Any:
    """The ray module, or an error that says how to install it."""
    try:
        import ray
    except ImportError:
        raise RayError("--distributor ray needs Ray: pip install 'metaclip-sql[ray]'") from None
    return ray


@contextmanager
def session(address: str | None) -> Iterator[Any]:
    """Ray, joined to the cluster at `address` (a local instance when None); a session already
    running is used as it is, and one started here is shut down at the end."""
    ray = import_ray()
    started = not ray.is_initialized()
    if started:
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise RayError(f"--ray-address {address}: {first}") from exc
    try:
        yield ray
    finally:
        if started:
            ray.shutdown()


@dataclass(frozen=True)
class Fault:
    """For tests: the first attempt of task `index` of `stage` dies at its fault point: `kill`
    ends the worker process, `raise` raises OSError (retried, like a network filesystem's
    hiccup). `marker` is written when it happens (and keeps it from happening again)."""

    stage: str
    index: int
    how: str
    marker: Path


def fault_point(faults: Sequence[Fault], stage: str, index: int, note: str = "") -> None:
    """Where a task may be made to die; `note` goes into the marker (what it had done)."""
    for fault in faults:
        if (fault.stage, fault.index) != (stage, index):
            continue
        try:  # once, even when attempts of the task run at the same time
            os.close(os.open(fault.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            continue
        fault.marker.write_text(note)
        if fault.how == "kill":
            os._exit(1)
        raise OSError(f"injected failure in {stage} task {index}")


def run_shards(
    shards: list[Target],
    job: ShardJob,
    workers: int,
    on_progress: ProgressCallback | None = None,
    address: str | None = None,
    max_retries: int = 3,
    faults: Sequence[Fault] = (),
) -> list[Any]:
    """One Ray task per shard; results in input order. `workers` caps the tasks in flight (0:
    the cluster's CPUs); the job goes to the object store once. A `Fault` of stage `shard`
    fires once its task has parsed a page."""
    with session(address) as ray:
        limit = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        remote = ray.remote(_shard_task).options(
            num_cpus=1, max_retries=max_retries, retry_exceptions=True
        )
        boxed = [ray.put(job)]  # in a list, so tasks get the ref and resolve it once
        notify = on_progress or (lambda *_: None)
        pending = deque(enumerate(shards))
        in_flight: dict = {}
        results: dict[int, Any] = {}
        while pending or in_flight:
            while pending and len(in_flight) < limit:
                i, shard = pending.popleft()
                in_flight[remote.remote(boxed, shard, i, tuple(faults))] = i
                notify("started", None, 0)
            done, _ = ray.wait(list(in_flight), num_returns=1, timeout=1.0)
            for ref in done:
                i = in_flight.pop(ref)
                results[i] = _result(ray, ref, shards[i], job)
                notify("done", results[i], 0)
        return [results[i] for i in range(len(shards))]


def _result(ray: Any, ref: Any, shard: Target, job: ShardJob) -> Any:
    try:
        return ray.get(ref)
    except Exception as exc:  # retries used up: the shard fails alone, the run goes on
        job.discard(shard, None)
        cause = getattr(exc, "cause", None)
        if isinstance(cause, WorkerFailure):
            return job.failed(shard, f"{cause.message} (on Ray, retries used up)")
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return job.failed(
            shard, f"{base_name(shard)}: failed on Ray: {type(exc).__name__}: {first}"
        )


def _shard_task(boxed: list, shard: Target, index: int, faults: tuple[Fault, ...]) -> Any:
    """The Ray task: the local supervisor on one shard, after an earlier attempt's leftovers."""
    job = _job(boxed[0])
    job.discard(shard, None)

    def on_progress(event: str, result: Any, pages: int) -> None:
        if event == "pages" and pages > 0:
            fault_point(faults, "shard", index, f"killed after {pages} pages")

    return run_local([shard], job, 1, on_progress if faults else None, raise_worker_failures=True)[
        0
    ]


def _job(ref: Any) -> ShardJob:
    """The run's job, fetched from the object store once per worker process."""
    key = ref.hex()
    if key not in _JOBS:
        import ray

        _JOBS.clear()  # one run at a time per worker process
        _JOBS[key] = ray.get(ref)
    return _JOBS[key]
