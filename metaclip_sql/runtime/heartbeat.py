"""A shard worker's pulse, shared with whoever supervises it (progress bars, page time limits).

Three doubles in shared memory: the offset of the record being parsed, when its parse started
(`time.monotonic()`, 0 when idle) and pages done. A supervisor in another process reads them
without locks; a torn read only delays a decision by one poll.
"""

from __future__ import annotations

import multiprocessing
import time
from multiprocessing.sharedctypes import SynchronizedArray


class Heartbeat:
    """Written by the worker, read by the supervisor; without shared memory it is a no-op."""

    def __init__(self, shared: SynchronizedArray | None = None) -> None:
        self.shared = shared

    @classmethod
    def create(cls) -> Heartbeat:
        return cls(multiprocessing.RawArray("d", 3))

    def page_started(self, offset: int) -> None:
        if self.shared is not None:
            self.shared[0] = offset
            self.shared[1] = time.monotonic()

    def page_done(self, counted: bool = True) -> None:
        """The record in progress is done; `counted`: it was a page (shown in progress)."""
        if self.shared is not None:
            self.shared[1] = 0.0
            if counted:
                self.shared[2] += 1

    def busy_for(self, now: float) -> tuple[int, float]:
        """(offset, seconds) of the page being parsed; seconds is 0 when idle.

        The worker writes while we read: the start time is read once, and the offset counts
        only if the start time is unchanged after it (else the worker moved on: not busy).
        """
        if self.shared is None:
            return -1, 0.0
        started = self.shared[1]
        if started == 0.0:
            return -1, 0.0
        offset = int(self.shared[0])
        if self.shared[1] != started:
            return -1, 0.0
        return offset, now - started

    @property
    def pages(self) -> int:
        return 0 if self.shared is None else int(self.shared[2])
