"""Explore: look at a pool with SQL, stats and plots before choosing t (docs/explore.md).

The modules, in the order the data goes through them: `sources` sorts the `--data` paths into
extract outputs and a balance output; `pool` opens DuckDB with the views of `sql/explore/` over
them (pairs, matches, metadata, entry_counts, curated, the macro t_to_p); the commands read the
pool through those views only: `query` runs the user's SQL and writes its result (`sql`),
`stats` computes the entry distribution and what each threshold keeps, `stats_format` prints
it, `plot` draws it, `shell` starts DuckDB's CLI with the same views. `ExploreError` (in
`errors`) is every user-facing problem, one line.

Each command has one library call: `run_sql`, `pool_stats`, `plot_pool`, `run_shell` (and
`write_init_script`); `open_pool` gives the views to any other caller.
"""

from metaclip_sql.explore.errors import ExploreError
from metaclip_sql.explore.plot import PlotResult, plot_entry_counts, plot_pool
from metaclip_sql.explore.pool import Pool, open_pool
from metaclip_sql.explore.query import FORMATS, format_table, run_query, run_sql, write_result
from metaclip_sql.explore.shell import UIS, run_shell, shell_argv, write_init_script
from metaclip_sql.explore.sources import BALANCE_FILES, Sources, resolve_sources
from metaclip_sql.explore.stats import (
    DEFAULT_TS,
    P_TO_T_SQL,
    Stats,
    Threshold,
    compute_stats,
    language_thresholds,
    pool_stats,
)
from metaclip_sql.explore.stats_format import (
    format_language_thresholds,
    format_stats,
    stats_json,
    stats_report,
)

__all__ = [
    "BALANCE_FILES",
    "DEFAULT_TS",
    "FORMATS",
    "P_TO_T_SQL",
    "UIS",
    "ExploreError",
    "PlotResult",
    "Pool",
    "Sources",
    "Stats",
    "Threshold",
    "compute_stats",
    "format_language_thresholds",
    "format_stats",
    "format_table",
    "language_thresholds",
    "open_pool",
    "plot_entry_counts",
    "plot_pool",
    "pool_stats",
    "resolve_sources",
    "run_query",
    "run_shell",
    "run_sql",
    "shell_argv",
    "stats_json",
    "stats_report",
    "write_init_script",
    "write_result",
]
