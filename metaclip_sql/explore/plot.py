"""`metaclip-sql plot`: the reference's cumulative entry-count curve and the count histogram.

Two panels in one image, drawn headless with matplotlib (the `plot` extra): entries sorted by
count with one curve capped at each t, and the histogram of entry counts on log axes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from metaclip_sql.duck import sql as sqlrunner
from metaclip_sql.explore.errors import ExploreError
from metaclip_sql.explore.pool import Pool, fetch_rows, open_pool
from metaclip_sql.explore.stats import DEFAULT_TS, check_thresholds


@dataclass(frozen=True)
class PlotResult:
    """The image written: its path, size in pixels, and the entries and matches it shows."""

    path: Path
    width: int
    height: int
    entries: int
    matches: int


def plot_pool(
    data: Sequence[str | Path] = (),
    metadata: str | Path | None = None,
    output: Path = Path("entry_counts.png"),
    ts: Sequence[float] = (),
    *,
    lang: str | None = None,
) -> PlotResult:
    """Open the pool over `data` (one language with `lang`) and plot it to `output`; without
    `ts`, at MetaCLIP's thresholds (`DEFAULT_TS`)."""
    with open_pool(data, metadata, lang=lang) as pool:
        return plot_entry_counts(pool, output, ts or DEFAULT_TS)


def plot_entry_counts(
    pool: Pool,
    output: Path,
    ts: Sequence[float] = DEFAULT_TS,
    *,
    width: float = 12.0,
    height: float = 5.0,
    dpi: int = 100,
) -> PlotResult:
    """Cumulative entry-count curve (tail to head) capped at each t, and the count histogram.

    The left panel is the reference's plot: entries sorted by count ascending, cumulative
    matches, one capped curve per t (its end is how many matches survive the cap). The right one
    shows how many entries have each count, on log axes, with each t marked.
    """
    try:
        import numpy as np
        from matplotlib.figure import Figure
        from matplotlib.ticker import FuncFormatter
    except ImportError as exc:
        raise ExploreError("plot needs matplotlib: pip install 'metaclip-sql[plot]'") from exc
    if not pool.has("entry_counts"):
        raise ExploreError("plot needs --data: extract outputs and/or a balance output")
    check_thresholds(ts, ())
    sqlrunner.run(pool.con, "explore/stats_prepare.sql")
    counts = np.array(
        [row[0] for row in sqlrunner.run(pool.con, "explore/entry_count_values.sql").fetchall()],
        dtype=np.int64,
    )
    if counts.size == 0:
        raise ExploreError("no entry matched anything: nothing to plot")
    rows = fetch_rows(pool.con, "stats_thresholds.sql", ts=sorted({float(t) for t in ts}))
    total = int(counts.sum())

    figure = Figure(figsize=(width, height), dpi=dpi, layout="constrained")
    curve, hist = figure.subplots(1, 2, width_ratios=(3, 2))
    x = np.arange(counts.size)
    curve.plot(
        x, np.cumsum(counts), color="black", linewidth=2, label=f"t=∞: {_human(total)} matches"
    )
    colors = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown"]
    for i, row in enumerate(rows):
        t, color = row["t"], colors[i % len(colors)]
        capped = np.cumsum(np.minimum(counts, t))
        label = (
            f"t={_human(t)}: {_human(row['capped_matches'])} matches, "
            f"{_plural(row['head_entries'], 'head entry', 'head entries')}, "
            f"tail p={row['tail_proportion']:.3f}"
        )
        curve.plot(x, capped, color=color, linewidth=2, alpha=0.85, label=label)
        hist.axvline(t, color=color, linestyle="--", linewidth=1.5, label=f"t={_human(t)}")
    curve.set_title("Cumulative entry counts, entries sorted by count (tail → head)")
    curve.set_xlabel(f"entries sorted by count ({counts.size:,} matched)")
    curve.set_ylabel("cumulative matches")
    curve.yaxis.set_major_formatter(FuncFormatter(lambda v, _: _human(v)))
    curve.xaxis.set_major_formatter(FuncFormatter(lambda v, _: _human(v)))
    curve.set_xlim(0, max(counts.size - 1, 1))
    curve.set_ylim(0, total * 1.05)
    curve.grid(alpha=0.3)
    curve.legend(loc="upper left", fontsize="small")

    edges = np.unique(np.geomspace(1, counts.max() + 1, num=40).round().astype(np.int64))
    if edges.size < 2:
        edges = np.array([1, 2])
    hist.hist(counts, bins=edges, color="gray", edgecolor="white")
    hist.set_xscale("log")
    hist.set_yscale("log")
    hist.set_title("Entry-count histogram")
    hist.set_xlabel("count (texts matching the entry)")
    hist.set_ylabel("entries")
    hist.grid(alpha=0.3, which="major")
    hist.grid(alpha=0.1, which="minor")
    if rows:
        hist.legend(loc="upper right", fontsize="small")

    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(output, dpi=dpi)
    return PlotResult(output, round(width * dpi), round(height * dpi), int(counts.size), total)


def _plural(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def _human(value: float) -> str:
    value = float(value)
    for unit, size in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= size:
            return f"{value / size:.3g}{unit}"
    return f"{value:.0f}" if value.is_integer() else f"{value:.3g}"
