"""The `metaclip-sql` program as a process: its entry point, and an exit without teardown.

When `extract` is done its outputs are published and its workers joined; what is left is the
interpreter's teardown, which frees the metadata automaton node by node and unloads pyarrow:
0.07 s of a run (measured, 500k entries), paid for nothing. `exit_now` skips it, but only in
the real program (`main`, the console script and `python -m metaclip_sql`) on Linux: a test
that calls the app in-process keeps its interpreter, and on other systems multiprocessing's
exit hook has a temp folder to remove.
"""

from __future__ import annotations

import os
import sys

#: Set by `main`: this process is the program, not a caller of the app.
IS_PROGRAM = False


def main() -> None:
    """The console script's entry point."""
    global IS_PROGRAM
    IS_PROGRAM = True
    from metaclip_sql.cli import app

    app(prog_name="metaclip-sql")


def exit_now(code: int) -> None:
    """End the program with `code` once its output is flushed, skipping the teardown (no
    `atexit` hook runs: call it only when nothing is left to clean up). In-process: returns."""
    if not IS_PROGRAM or not sys.platform.startswith("linux"):
        return  # elsewhere multiprocessing leaves a temp folder that only its exit hook removes
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a reader that went away (a closed pipe): nothing to keep
        pass
    os._exit(code)
