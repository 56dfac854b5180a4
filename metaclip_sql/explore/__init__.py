"""Explore: look at a pool with SQL, stats and plots before choosing t (docs/explore.md).

The modules, in the order the data goes through them: `sources` sorts the `--data` paths into
extract outputs and a balance output; `pool` opens DuckDB with the views of `sql/explore/` over
them (pairs, matches, metadata, entry_counts, curated, the macro t_to_p); the commands read the
pool through those views only: `query` runs the user's SQL and writes its result (`sql`),
`stats` computes the entry distribution and what each threshold keeps, `stats_format` prints
it, `plot` draws it, `shell` starts DuckDB's CLI with the same views. `report` gathers all of
it and `report_page` draws it as one HTML page (its sections in `report_pool` and `report_run`,
built with `report_html` and `report_svg`); `explain` redoes balance's decision for one pair
(with `balance_run`, a balance output's settings) and `explain_format` prints it; `survival`
plans t before download. `ExploreError` (in `errors`) is every user-facing problem, one line.

Each command has one library call: `run_sql`, `pool_stats`, `plot_pool`, `run_shell` (and
`write_init_script`), `write_report`, `explain`, `stats_with_survival`; `open_pool` gives the
views to any other caller.
"""

from metaclip_sql.explore.balance_run import BalanceRun
from metaclip_sql.explore.errors import ExploreError
from metaclip_sql.explore.explain import explain
from metaclip_sql.explore.explain_format import (
    EXPLAIN_FORMATS,
    ExplainedEntry,
    ExplainedPair,
    Explanation,
    explanation_json,
    format_explanation,
)
from metaclip_sql.explore.plot import PlotResult, plot_entry_counts, plot_pool
from metaclip_sql.explore.pool import Pool, open_pool
from metaclip_sql.explore.query import FORMATS, format_table, run_query, run_sql, write_result
from metaclip_sql.explore.report import Report, build_report
from metaclip_sql.explore.report_page import ReportResult, render_report, write_report
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
from metaclip_sql.explore.survival import (
    SurvivalPlan,
    SurvivalRow,
    format_survival,
    recommended_t_before,
    stats_with_survival,
    survival_json,
    survival_plans,
)

__all__ = [
    "BALANCE_FILES",
    "DEFAULT_TS",
    "EXPLAIN_FORMATS",
    "FORMATS",
    "P_TO_T_SQL",
    "UIS",
    "BalanceRun",
    "ExplainedEntry",
    "ExplainedPair",
    "Explanation",
    "ExploreError",
    "PlotResult",
    "Pool",
    "Report",
    "ReportResult",
    "Sources",
    "Stats",
    "SurvivalPlan",
    "SurvivalRow",
    "Threshold",
    "build_report",
    "compute_stats",
    "explain",
    "explanation_json",
    "format_explanation",
    "format_language_thresholds",
    "format_stats",
    "format_survival",
    "format_table",
    "language_thresholds",
    "open_pool",
    "plot_entry_counts",
    "plot_pool",
    "pool_stats",
    "recommended_t_before",
    "render_report",
    "resolve_sources",
    "run_query",
    "run_shell",
    "run_sql",
    "shell_argv",
    "stats_json",
    "stats_report",
    "stats_with_survival",
    "survival_json",
    "survival_plans",
    "write_init_script",
    "write_report",
    "write_result",
]
