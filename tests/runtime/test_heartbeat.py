"""The supervisor reads a heartbeat the worker is writing: torn reads must never look busy."""

from __future__ import annotations

from metaclip_sql.runtime.heartbeat import Heartbeat


class _Racing(list):
    """Shared memory whose page finishes (start time set to 0) right after the first read."""

    def __init__(self, values: list[float]) -> None:
        super().__init__(values)
        self.reads = 0

    def __getitem__(self, index):  # type: ignore[override]
        value = super().__getitem__(index)
        if index == 1:
            self.reads += 1
            if self.reads == 1:
                super().__setitem__(1, 0.0)  # the worker finished the page meanwhile
        return value


def test_page_finishing_between_reads_is_not_taken_for_a_hang() -> None:
    """The old reader took `now - 0.0` for the page's age and killed a healthy worker."""
    hb = Heartbeat(_Racing([1234.0, 100.0, 5.0]))  # type: ignore[arg-type]
    assert hb.busy_for(now=200.0) == (-1, 0.0)


def test_busy_and_idle() -> None:
    hb = Heartbeat([0.0, 0.0, 0.0])  # type: ignore[arg-type]
    assert hb.busy_for(now=50.0) == (-1, 0.0)
    hb.shared[0], hb.shared[1] = 4096.0, 40.0  # type: ignore[index]
    assert hb.busy_for(now=50.0) == (4096, 10.0)
    hb.page_done()
    assert hb.busy_for(now=50.0) == (-1, 0.0) and hb.pages == 1


def test_records_that_are_not_pages_are_not_counted() -> None:
    hb = Heartbeat([0.0, 0.0, 0.0])  # type: ignore[arg-type]
    hb.page_started(10)
    hb.page_done(counted=False)  # a WAT request record
    assert hb.busy_for(now=50.0) == (-1, 0.0) and hb.pages == 0
