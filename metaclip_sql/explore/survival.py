"""Planning t before download: which t to curate with now so that balancing the images that
survive download and filtering at the target t still finds every head entry full.

MetaCLIP balances after download (docs/algorithm.md, section 6): curate at a larger
`t_before`, download, then `balance --valid-uuids <survivors> --t t`. With a share `S` of the
downloaded images surviving, an entry that keeps about `t_before` pairs before download has
about `S * t_before` after it, so `t_before = t / S` keeps every head entry at `t` in
expectation; `recommended_t_before` adds a margin of `z` standard deviations, so that an entry
kept only through its own draws still reaches `t` with high probability:
`t_before = (z / 2 + sqrt(z^2 / 4 + t))^2 / S` (docs/explore.md, "Planning t before download",
has the derivation). `survival_plans` computes, for each target t, the expected sizes before and
after download at `t`, `t / S` and the recommended `t_before` (`sql/explore/survival_*.sql`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from metaclip_sql.duck import sql as sqlrunner
from metaclip_sql.explore.balance_run import check_unit
from metaclip_sql.explore.errors import ExploreError
from metaclip_sql.explore.pool import Pool, fetch_rows, open_pool
from metaclip_sql.explore.stats import (
    DEFAULT_TS,
    Stats,
    check_thresholds,
    compute_stats,
    language_thresholds,
)

#: A head entry is full when the final run is expected to keep at least this share of what it
#: would keep had every image been downloaded.
TOLERANCE = 0.01
#: The margin, in standard deviations of an entry's count after download, the recommended
#: t_before keeps above t (about 98% of entries kept only by their own draws reach t).
DEFAULT_Z = 2.0


@dataclass
class SurvivalRow:
    """Curating at `t_before`, then balancing the survivors at the target t: expected sizes."""

    label: str
    t_before: float
    expected_pairs_before: float
    expected_images_before: float
    expected_images_after: float
    expected_pairs_available: float
    expected_pairs_after: float
    #: Head entries the final run is expected to keep fewer texts of than the ideal (1%).
    head_short: int
    #: The smallest ratio, over head entries, of kept after download to kept ideally.
    min_head_ratio: float | None


@dataclass
class SurvivalPlan:
    """For one target t and survival share: the t to curate with now and what it gives."""

    survival: float
    t: float
    unit: str
    z: float
    #: The recommendation: curate with this t now.
    t_before: float
    #: Entries the final run should sample down to t (survival * count > t).
    head_entries: int
    #: Kept if every image were downloaded (survival of them surviving) and balanced at t.
    expected_pairs_ideal: float
    #: At t (curating at the target now), t / S, and the recommended t_before.
    rows: list[SurvivalRow]


def recommended_t_before(t: float, survival: float, z: float = DEFAULT_Z) -> float:
    """`(z / 2 + sqrt(z^2 / 4 + t))^2 / survival`, rounded up: the t to curate with before
    download so that an entry's expected count after it, mu = survival * t_before, satisfies
    mu - z * sqrt(mu) >= t (z = 0 gives t / survival)."""
    check_survival(survival)
    mu = (z / 2 + math.sqrt(z * z / 4 + t)) ** 2
    return float(math.ceil(mu / survival - 1e-9))


def check_survival(survival: float) -> float:
    if not (0 < survival <= 1):
        raise ExploreError(f"--survival must be in (0, 1], got {survival}")
    return survival


def survival_plans(
    pool: Pool,
    survival: float,
    ts: Sequence[float] = (),
    *,
    unit: str = "pair",
    z: float = DEFAULT_Z,
) -> list[SurvivalPlan]:
    """One plan per target t (default: MetaCLIP's), from the pool's pairs and entry counts.

    Reads the per-pair table `stats` builds (`stats_pairs.sql`; built here when `stats` has not
    run on this pool) and the materialized entry counts: no extra pass over the Parquet.
    """
    check_survival(survival)
    check_unit(unit)
    ts = sorted({float(t) for t in ts}) or list(DEFAULT_TS)
    check_thresholds(ts, ())
    if not (z >= 0 and math.isfinite(z)):
        raise ExploreError(f"the margin z must be >= 0, got {z}")
    if not pool.has("pairs"):
        raise ExploreError("--survival needs extract outputs in --data (the pool's pairs)")
    _prepare(pool.con)
    top = _max_count(pool.con)
    plans = []
    for t in ts:
        closed = recommended_t_before(t, survival, z)
        results: dict[float, dict[str, Any]] = {}

        def expected(
            t_before: float, t: float = t, results: dict[float, dict[str, Any]] = results
        ) -> dict[str, Any]:
            if t_before not in results:
                results[t_before] = _expected(pool.con, [t_before], t, survival, unit)[0]
            return results[t_before]

        best = _smallest_full(expected, closed, top)
        candidates = [("curate at t now", t), ("t / S", t / survival)]
        if best == closed:
            candidates.append((f"recommended: t / S with a z={z:g} margin", closed))
        else:
            candidates += [
                (f"t / S with a z={z:g} margin", closed),
                ("recommended: the smallest that fills every head", best),
            ]
        seen: dict[float, str] = {}
        for label, t_before in candidates:  # S = 1: t / S is t itself
            seen[t_before] = seen.get(t_before, label) if "recommended" not in label else label
        rows = [_row(label, t_before, expected(t_before)) for t_before, label in seen.items()]
        ideal = expected(best)
        plans.append(
            SurvivalPlan(
                survival=survival,
                t=t,
                unit=unit,
                z=z,
                t_before=best,
                head_entries=ideal["head_entries"],
                expected_pairs_ideal=ideal["expected_pairs_ideal"],
                rows=rows,
            )
        )
    return plans


def _smallest_full(expected: Any, start: float, top: float) -> float:
    """The closed form when the pool confirms it; else the smallest t_before (within 5%) at
    which no head entry is expected short or at risk: up by doubling, then bisection. At the
    largest count nothing is dropped before download, so the search ends there at the latest."""

    def full(t_before: float) -> bool:
        return expected(t_before)["head_short"] == 0

    if full(start) or start >= top:
        return start
    lo, hi = start, min(start * 2, top)
    while not full(hi):
        if hi >= top:
            return hi
        lo, hi = hi, min(hi * 2, top)
    while hi > lo * 1.05:
        mid = float(math.ceil(math.sqrt(lo * hi)))
        if mid >= hi:
            break
        lo, hi = (lo, mid) if full(mid) else (mid, hi)
    return hi


def _row(label: str, t_before: float, r: dict[str, Any]) -> SurvivalRow:
    return SurvivalRow(
        label=label,
        t_before=t_before,
        expected_pairs_before=r["expected_pairs_before"],
        expected_images_before=r["expected_images_before"],
        expected_images_after=r["expected_images_after"],
        expected_pairs_available=r["expected_pairs_available"],
        expected_pairs_after=r["expected_pairs_after"],
        head_short=r["head_short"],
        min_head_ratio=r["min_head_ratio"],
    )


def _max_count(con: duckdb.DuckDBPyConnection) -> float:
    rows = sqlrunner.run(con, "explore/survival_max_count.sql").fetchall()
    return float(rows[0][0] or 1)


def stats_with_survival(
    data: Sequence[str | Path] = (),
    metadata: str | Path | None = None,
    ts: Sequence[float] = (),
    ps: Sequence[float] = (),
    top: int = 20,
    *,
    survival: float,
    unit: str = "pair",
    lang: str | None = None,
    t_en: float | None = None,
    z: float = DEFAULT_Z,
) -> tuple[Stats, list[SurvivalPlan]]:
    """`stats --survival S`: the pool's stats and a survival plan per target t, from one pass
    over the pool (the plan reuses the per-pair table stats builds)."""
    check_survival(survival)
    with open_pool(data, metadata, lang=lang) as pool:
        stats = compute_stats(pool, ts, ps, top)
        if t_en is not None:
            stats.language_thresholds = language_thresholds(pool, t_en)
        targets = ts or [th.t for th in stats.thresholds]
        plans = survival_plans(pool, survival, targets, unit=unit, z=z)
    return stats, plans


def _prepare(con: duckdb.DuckDBPyConnection) -> None:
    """Materialize what the plan reads, once per pool: entry counts, the per-pair table, then
    each matched pair with its entries' counts."""
    if not _exists(con, "stats_pairs"):
        sqlrunner.run(con, "explore/stats_prepare.sql")
        sqlrunner.run(con, "explore/stats_pairs.sql")
    if not _exists(con, "survival_pairs"):
        sqlrunner.run(con, "explore/survival_prepare.sql")


def _exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    try:
        con.table(table)
    except duckdb.CatalogException:
        return False
    return True


def _expected(
    con: duckdb.DuckDBPyConnection, t_befores: list[float], t: float, s: float, unit: str
) -> list[dict[str, Any]]:
    """The expected sizes at each t_before (in one pass), in the order given."""
    params = {"t_befores": t_befores, "t": t, "s": s, "image": unit == "image"}
    rows = fetch_rows(con, "survival_expected.sql", tolerance=TOLERANCE, **params)
    by_t = {r["t_before"]: r for r in rows}
    return [by_t[float(tb)] for tb in t_befores]


# --- output ------------------------------------------------------------------------------------


def survival_json(plans: list[SurvivalPlan]) -> list[dict[str, Any]]:
    """The plans as JSON-ready dicts."""
    import dataclasses

    return [dataclasses.asdict(plan) for plan in plans]


def format_survival(plans: list[SurvivalPlan]) -> str:
    """The plans as aligned text: per target t, the t to curate with and the sizes."""
    if not plans:
        return ""
    first = plans[0]
    lines = [
        "",
        f"before download (survival S={first.survival:g}, unit {first.unit}): curate at "
        "t_before, download, then balance the survivors at t (--valid-uuids)",
    ]
    for plan in plans:
        lines += [
            "",
            f"target t={_num(plan.t)}: curate with t={_num(plan.t_before)} now; "
            f"{plan.head_entries:,} head entries to fill (S x count > t); "
            f"all images downloaded would give {plan.expected_pairs_ideal:,.0f} pairs",
        ]
        header = [
            "t_before",
            "",
            "pairs kept",
            "images to get",
            "images left",
            "pairs after",
            "heads short",
            "worst head",
        ]
        table = [
            [
                _num(r.t_before),
                r.label,
                f"{r.expected_pairs_before:,.0f}",
                f"{r.expected_images_before:,.0f}",
                f"{r.expected_images_after:,.0f}",
                f"{r.expected_pairs_after:,.0f}",
                f"{r.head_short:,}",
                "-" if r.min_head_ratio is None else f"{r.min_head_ratio:.1%}",
            ]
            for r in plan.rows
        ]
        widths = [max(len(row[i]) for row in [header, *table]) for i in range(len(header))]
        for row in [header, *table]:
            lines.append(
                "  ".join(
                    c.ljust(w) if i == 1 else c.rjust(w)
                    for i, (c, w) in enumerate(zip(row, widths, strict=True))
                ).rstrip()
            )
    lines.append(
        "(expected values; 'pairs after': what balance --t t --valid-uuids <survivors> keeps, "
        "same seed; a head entry (S x count > t) is short when it is expected to keep under "
        f"{1 - TOLERANCE:.0%} of what it would with every image downloaded; worst head: the "
        "lowest such share)"
    )
    return "\n".join(lines) + "\n"


def _num(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
