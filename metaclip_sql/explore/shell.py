"""`metaclip-sql shell`: an interactive SQL prompt with the explore views already defined.

The pool's statements (`Pool.script`) become an init script for DuckDB's CLI (the `duckdb-cli`
package, or a `duckdb` binary on PATH) or harlequin; the metadata list goes beside it as Parquet.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from metaclip_sql.explore.errors import ExploreError
from metaclip_sql.explore.pool import open_pool

UIS = ("duckdb", "harlequin")


def write_init_script(data: Sequence[str | Path], metadata: str | Path | None, path: Path) -> Path:
    """Write the SQL that defines the explore views, for DuckDB's CLI or harlequin (-init).

    The metadata list goes beside it, as `<stem>.metadata.parquet`; the script names every
    input by absolute path, so it runs from any directory.
    """
    path = Path(path).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    metadata_file = path.with_name(path.stem + ".metadata.parquet")
    with open_pool(data, metadata, metadata_file=metadata_file) as pool:
        text = "\n\n".join(pool.script)
        views = list(pool.views)
    header = (
        "-- metaclip-sql explore views, written by `metaclip-sql shell`.\n"
        f"-- Views: {', '.join(views)}; macro t_to_p(t) when entry_counts is defined.\n"
    )
    path.write_text(header + "\n" + text + "\n", encoding="utf-8")
    return path


def shell_argv(init: Path, ui: str = "duckdb") -> list[str]:
    """The command that starts an interactive SQL prompt running `init` first."""
    return [*_shell_command(ui), "--init-path" if ui == "harlequin" else "-init", str(init)]


def _shell_command(ui: str) -> list[str]:
    """The prompt's executable: DuckDB's CLI from the `duckdb-cli` package, else on PATH."""
    if ui not in UIS:
        raise ExploreError(f"--ui must be one of {', '.join(UIS)}, got {ui!r}")
    if ui == "harlequin":
        exe = shutil.which("harlequin")
        if exe is None:
            raise ExploreError("harlequin is not installed: pip install harlequin")
        return [exe]
    if importlib.util.find_spec("duckdb_cli") is not None:
        return [sys.executable, "-m", "duckdb_cli"]
    exe = shutil.which("duckdb")
    if exe is None:
        raise ExploreError(
            "the shell needs DuckDB's CLI: pip install 'metaclip-sql[shell]' "
            "(or put a duckdb binary on PATH)"
        )
    return [exe]


def run_shell(
    data: Sequence[str | Path], metadata: str | Path | None = None, ui: str = "duckdb"
) -> int:
    """Start the interactive prompt over the pool; returns its exit code."""
    import subprocess

    _shell_command(ui)  # a missing tool fails before the pool is read
    with tempfile.TemporaryDirectory(prefix="metaclip-sql-shell-") as tmp:
        init = write_init_script(data, metadata, Path(tmp) / "explore.sql")
        print(f"views: {_views_line(init)}", file=sys.stderr)
        return subprocess.call(shell_argv(init, ui))


def _views_line(init: Path) -> str:
    for line in init.read_text(encoding="utf-8").splitlines():
        if line.startswith("-- Views: "):
            return line.removeprefix("-- Views: ").split(";")[0]
    return ""
