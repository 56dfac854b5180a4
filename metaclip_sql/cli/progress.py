"""Progress for long runs: a live bar on a terminal, plain log lines otherwise (CI, logs)."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING

from metaclip_sql.extract.shard import ShardStats

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress


class ShardProgress:
    """Callback for the distributors: counts shards done, failed and running, and pages parsed."""

    def __init__(self, total: int, console: Console | None = None) -> None:
        if console is None and sys.stderr.isatty():  # else plain lines, rich not imported
            from rich.console import Console

            console = Console(stderr=True)
        self.console = console
        self.total = total
        self.done = 0
        self.failed = 0
        self.running = 0
        self.pages_done = 0  # pages of finished shards
        self.started = time.monotonic()
        self.live = console is not None and console.is_terminal
        self._bar: Progress | None = None
        if self.live:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self._bar = Progress(
                TextColumn("[bold]extract"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn(
                    "shards · {task.fields[failed]} failed · {task.fields[running]} running · "
                    "{task.fields[pages]} pages · {task.fields[rate]}"
                ),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self._task = self._bar.add_task(
                "extract", total=total, pages=0, rate="", failed=0, running=0
            )

    def __enter__(self) -> ShardProgress:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def __call__(self, event: str, stats: ShardStats | None, pages_running: int) -> None:
        if event == "started":
            self.running += 1
        if event == "done" and stats is not None:
            self.done += 1
            self.failed += stats.status == "failed"
            self.running = max(0, self.running - 1)
            self.pages_done += stats.html_pages + stats.wat_pages
            self._log_shard(stats)
        if self._bar is not None:
            pages = self.pages_done + pages_running
            rate = pages / max(time.monotonic() - self.started, 1e-9)
            self._bar.update(
                self._task,
                completed=self.done,
                pages=pages,
                rate=f"{rate:,.0f}/s",
                failed=self.failed,
                running=self.running,
            )

    def _log_shard(self, stats: ShardStats) -> None:
        line = (
            f"[{self.done}/{self.total}] {stats.shard}: {stats.status}, "
            f"{stats.html_pages + stats.wat_pages} pages, {stats.rows} rows, "
            f"{stats.errors} errors, {stats.seconds:.1f}s; {self.failed} failed, "
            f"{self.running} running"
        )
        for message in stats.messages:
            print(f"warning: {message}", file=sys.stderr)
        if self.live:
            self.console.print(line, highlight=False)
        else:
            print(line, file=sys.stderr, flush=True)
