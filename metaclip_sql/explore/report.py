"""`metaclip-sql report`: one self-contained HTML page to judge a pool and choose t by looking.

`build_report` gathers every number the page shows, over one pool (`open_pool`): `stats` (two
passes over the Parquet: the per-pair table and the entry counts), then everything else from
those two materialized tables, plus a bounded slice of the first rows for the sample texts, and
one pass over uuid and url only when a balance run used --valid-uuids. This module only
gathers: `report_page` renders a `Report` (and `write_report` builds, renders and writes it).
Sizes are capped (tables, chart points, samples, text lengths), so the page stays small whatever
the pool.
"""

from __future__ import annotations

import hashlib
import platform
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
from duckdb import ColumnExpression, ConstantExpression

from metaclip_sql import __version__
from metaclip_sql.duck import sql as sqlrunner
from metaclip_sql.explore.balance_run import BalanceRun, define_valid_ids, run_from_manifest
from metaclip_sql.explore.errors import ExploreError
from metaclip_sql.explore.pool import Pool, fetch_rows, open_pool
from metaclip_sql.explore.stats import (
    DEFAULT_TS,
    WORLDWIDE_ANCHOR,
    Stats,
    check_thresholds,
    compute_stats,
)
from metaclip_sql.explore.survival import DEFAULT_Z, SurvivalPlan, check_survival, survival_plans
from metaclip_sql.metadata.info import never_match_reason

#: Caps that keep the page small whatever the pool.
MAX_TOP = 100
MAX_LANGUAGES = 30
MAX_EXAMPLES = 20
MAX_LISTED_FILES = 20
SAMPLE_ROWS = 200_000
CHART_TOP, CHART_SPREAD = 200, 800
RANK_POINTS = 400
#: Characters of the metadata that padding rules never let match (docs/algorithm.md, section 3).
_MAYBE_NEVER = re.compile(r"[,.;:?!`\t\n\r]")


@dataclass
class Report:
    """Everything the report page shows; `report_page.render_report` draws it."""

    title: str
    generated: str
    tool: dict[str, str]
    stats: Stats
    ts: list[float]
    main_t: float
    #: Entry counts, largest first, at log-spaced ranks (rank, count); histogram (lo, hi, n).
    ranks: list[tuple[int, int]]
    histogram: list[tuple[float, float, int]]
    balance: dict[str, Any] | None
    languages: dict[str, Any]
    coverage: dict[str, Any]
    samples: list[dict[str, Any]]
    survival: list[SurvivalPlan] | None
    provenance: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def build_report(
    data: Sequence[str | Path],
    metadata: str | Path | None = None,
    ts: Sequence[float] = (),
    *,
    lang: str | None = None,
    t_en: float | None = None,
    survival: float | None = None,
    unit: str | None = None,
    top: int = 20,
    samples: int = 3,
) -> Report:
    """Every number of the report, from one pool over `data` (one language with `lang`).

    `ts`: the thresholds to show (default: the balance output's t, else MetaCLIP's); `t_en`:
    English's t for the per-language thresholds (default: the first t); `survival`: also plan
    t before download (`survival.survival_plans`) with `unit` (default: the balance run's, else
    pair); `top`: head entries listed; `samples`: head and tail entries with sample texts.
    """
    check_thresholds(ts, ())
    if survival is not None:
        check_survival(survival)
    if not 0 <= top <= MAX_TOP:
        raise ExploreError(f"--top must be between 0 and {MAX_TOP}, got {top}")
    if not 0 <= samples <= 10:
        raise ExploreError(f"--samples must be between 0 and 10, got {samples}")
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[name] = round(now - clock, 3)
        clock = now

    with open_pool(data, metadata, lang=lang) as pool:
        run = _balance_run(pool)
        wanted = [float(t) for t in ts]
        if not wanted:
            recorded = run.t_for(lang) if run is not None else None
            wanted = [recorded] if recorded else list(DEFAULT_TS)
        main_t = wanted[0]
        stats = compute_stats(pool, wanted, (), top)
        lap("stats")
        ranks, histogram = _distribution(pool)
        lap("distribution")
        balance = _balance_section(pool, run, lang, stats) if run is not None else None
        lap("balance")
        languages = _languages(pool, stats, t_en if t_en is not None else main_t)
        lap("languages")
        coverage = _coverage(pool, stats)
        lap("coverage")
        sample_rows = _samples(pool, main_t, samples)
        lap("samples")
        plans = None
        if survival is not None:
            plan_unit = unit or (run.unit if run is not None else "pair")
            plans = survival_plans(pool, survival, wanted, unit=plan_unit, z=DEFAULT_Z)
            lap("survival")
        provenance = _provenance(pool, run)
    notes = list(stats.notes)
    if run is not None and not pool.sources.pair_files:
        notes.append("give the extract outputs too (--data) to compare the balance with its pool")
    return Report(
        title=_title(pool),
        generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        tool={
            "metaclip-sql": __version__,
            "duckdb": _duckdb_version(),
            "python": platform.python_version(),
        },
        stats=stats,
        ts=sorted(set(wanted)),
        main_t=main_t,
        ranks=ranks,
        histogram=histogram,
        balance=balance,
        languages=languages,
        coverage=coverage,
        samples=sample_rows,
        survival=plans,
        provenance=provenance,
        notes=notes,
        seconds=seconds,
    )


def _balance_run(pool: Pool) -> BalanceRun | None:
    if pool.sources.balance_dir is None:
        return None
    try:
        return run_from_manifest(pool.sources.balance_dir)
    except ExploreError:
        return None


def _distribution(pool: Pool) -> tuple[list[tuple[int, int]], list[tuple[float, float, int]]]:
    """Entry counts largest first at log-spaced ranks, and their histogram over log bins."""
    import numpy as np

    counts = sqlrunner.run(pool.con, "explore/entry_count_values.sql").fetchnumpy()["count"]
    counts = np.asarray(counts, dtype=np.int64)[::-1]
    if counts.size == 0:
        return [], []
    idx = np.unique(np.geomspace(1, counts.size, num=RANK_POINTS).round().astype(np.int64)) - 1
    ranks = [(int(i) + 1, int(counts[i])) for i in idx]
    edges = np.unique(np.geomspace(1, counts.max() + 1, num=30).round())
    if edges.size < 2:
        edges = np.array([1.0, 2.0])
    hist, edges = np.histogram(counts, bins=edges)
    bins = [(float(edges[i]), float(edges[i + 1]), int(n)) for i, n in enumerate(hist) if n]
    return ranks, bins


def _balance_section(
    pool: Pool, run: BalanceRun, lang: str | None, stats: Stats
) -> dict[str, Any] | None:
    """Kept against expected: the run's size and per entry, from its own counts and t."""
    manifest = run.manifest
    counts = manifest.get("counts") or {}
    realised = (stats.balanced or {}).get("curated_pairs")
    if run.worldwide and lang is not None:
        realised_from = (manifest.get("languages") or {}).get(lang, {}).get("kept")
        realised = realised if realised is not None else realised_from
    elif realised is None:
        realised = counts.get("kept")
    t = run.t_for(lang)
    section: dict[str, Any] = {
        "settings": run.describe(),
        "t": t,
        "seed": run.seed,
        "unit": run.unit,
        "lang": "all" if run.langs is None else ",".join(run.langs),
        "pairs": counts.get("pairs"),
        "realised": realised,
        "expected": None,
        "sd": None,
        "candidates": None,
        "points": [],
        "dry_run": bool(manifest.get("dry_run")),
        "note": None,
    }
    if t is None:
        return section
    has_kept = "kept" in pool.con.table("entry_counts").columns
    # --unit image picks among an image's texts of every language: one language's rows
    # (--lang) cannot say how often its texts were picked.
    whole_images = lang is None or run.unit == "pair"
    if not whole_images:
        section["note"] = (
            "--unit image picks one text per image among every language's: the expected size "
            "cannot be computed from one language's rows (--lang)"
        )
    if pool.has("pairs") and whole_images:
        if run.valid_files:
            define_valid_ids(pool.con, run.valid_files)
            sqlrunner.run(pool.con, "explore/report_valid_images.sql")
        else:
            empty = pa.table({"uuid": pa.array([], pa.string())})
            pool.con.from_arrow(empty).create_view("report_valid_images")
        params = {
            "t": t,
            "langs": None if run.langs is None else list(run.langs),
            "valid": bool(run.valid_files),
            "image": run.unit == "image",
        }
        row = fetch_rows(pool.con, "report_balance_expected.sql", **params)[0]
        section["candidates"] = row["candidates"]
        section["expected"] = row["expected"]
        section["sd"] = row["variance"] ** 0.5
    else:
        empty = pa.table(
            {"entry_id": pa.array([], pa.int32()), "expected_kept": pa.array([], pa.float64())}
        )
        pool.con.from_arrow(empty).create_view("report_expected_entries")
    if has_kept:
        section["points"] = fetch_rows(
            pool.con, "report_entry_points.sql", top=CHART_TOP, spread=CHART_SPREAD
        )
    return section


def _languages(pool: Pool, stats: Stats, t_en: float) -> dict[str, Any]:
    """Share of texts and matched share per language; each language's worldwide threshold."""
    rows = stats.languages[:MAX_LANGUAGES]
    section: dict[str, Any] = {"rows": rows, "t_en": t_en, "thresholds": [], "note": None}
    if not pool.has("pairs") or stats.pool is None:
        return section
    section["total"] = stats.pool["pairs"]
    section["languages"] = stats.pool["languages"]
    if stats.pool["languages"] < 2:
        section["note"] = "one language: per-language thresholds need several"
        return section
    sqlrunner.run(pool.con, "explore/report_lang_entry_counts.sql")
    anchor = pool.con.table("lang_entry_counts").filter(
        ColumnExpression("lang") == ConstantExpression(WORLDWIDE_ANCHOR)
    )
    if not anchor.limit(1).fetchall():
        section["note"] = f"no {WORLDWIDE_ANCHOR} matches: no tail proportion to carry over"
        return section
    params = {"t_en": float(t_en), "anchor": WORLDWIDE_ANCHOR}
    sqlrunner.run(pool.con, "metaclip_v2/025_thresholds.sql", params)
    section["thresholds"] = fetch_rows(pool.con, "stats_lang_thresholds.sql")[:MAX_LANGUAGES]
    return section


def _coverage(pool: Pool, stats: Stats) -> dict[str, Any]:
    """Metadata coverage: entries never matched, entries that can never match, top entries."""
    e = stats.entries
    never = fetch_rows(pool.con, "report_never_matched.sql", limit=MAX_EXAMPLES)
    entries = [
        r[0] for r in pool.con.table("metadata").order("entry_id").select("entry").fetchall()
    ]
    impossible = []
    for i, entry in enumerate(entries):
        if not entry.strip():
            impossible.append((i, entry, "empty or blank"))
        elif _MAYBE_NEVER.search(entry):
            reason = never_match_reason(entry)
            if reason:
                impossible.append((i, entry, reason))
    return {
        "metadata": str(pool.metadata) if pool.metadata else None,
        "metadata_entries": pool.metadata_entries,
        "entries_matched": e["entries_matched"],
        "entries_beyond_metadata": e["entries_beyond_metadata"],
        "never_matched": never[0]["never_matched"] if never else 0,
        "never_examples": [(r["entry_id"], r["entry"]) for r in never],
        "impossible": len(impossible),
        "impossible_examples": impossible[:MAX_EXAMPLES],
        "top": stats.top_entries,
        "entries_for_half": e["entries_for_half"],
        "entries_for_90": e["entries_for_90"],
        "matches": e["matches"],
    }


def _samples(pool: Pool, t: float, per_kind: int) -> list[dict[str, Any]]:
    """A few head and tail entries with texts and image URLs, from the pool's first rows."""
    if not pool.has("pairs") or per_kind == 0:
        return []
    sqlrunner.run(pool.con, "explore/report_slice.sql", {"rows": SAMPLE_ROWS})
    params = {"t": float(t), "entries": per_kind, "texts": 5}
    return fetch_rows(pool.con, "report_samples.sql", **params)


def _provenance(pool: Pool, run: BalanceRun | None) -> dict[str, Any]:
    """The inputs, versions and hashes: the pool's files, the metadata, the balance manifest."""
    files = pool.sources.pair_files
    record: dict[str, Any] = {
        "extract_files": len(files),
        "extract_bytes": sum(f.stat().st_size for f in files),
        "listed_files": [(str(f), f.stat().st_size) for f in files[:MAX_LISTED_FILES]],
        "metadata": str(pool.metadata) if pool.metadata else None,
        "metadata_sha256": _sha256(pool.metadata) if pool.metadata else None,
        "balance_output": str(pool.sources.balance_dir) if pool.sources.balance_dir else None,
        "manifest": None,
    }
    if run is not None:
        m = run.manifest
        inputs = [i for i in m.get("inputs") or [] if isinstance(i, dict)]
        recorded = {str(Path(i.get("path", "")).resolve()) for i in inputs}
        given = {str(f) for f in files}
        record["manifest"] = {
            "fields": {
                k: m.get(k)
                for k in (
                    "tool",
                    "tool_version",
                    "command",
                    "sql_version",
                    "duckdb_version",
                    "distributor",
                    "plan",
                    "t",
                    "t_en",
                    "p",
                    "tail_proportion",
                    "seed",
                    "lang",
                    "unit",
                    "dry_run",
                )
                if k in m
            },
            "draw": m.get("draw"),
            "counts": m.get("counts") or {},
            "sql_files": dict(list((m.get("sql_files") or {}).items())[:60]),
            "inputs": len(inputs),
            "input_bytes": sum(int(i.get("bytes") or 0) for i in inputs),
            "listed_inputs": [(i.get("path"), i.get("bytes")) for i in inputs[:MAX_LISTED_FILES]],
            "valid_uuids": m.get("valid_uuids") or [],
            "metadata": m.get("metadata"),
            "seconds_total": (m.get("seconds") or {}).get("total"),
            "same_inputs": None if not files or not recorded else recorded == given,
        }
    return record


def _title(pool: Pool) -> str:
    s = pool.sources
    if s.pair_files:
        parents = sorted({str(f.parent) for f in s.pair_files})
        name = parents[0] if len(parents) == 1 else f"{len(parents)} folders"
    else:
        name = str(s.balance_dir)
    return name


def _sha256(path: Path) -> str | None:
    try:
        digest = hashlib.sha256()
        with Path(path).open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()
    except OSError:
        return None


def _duckdb_version() -> str:
    import duckdb

    return duckdb.__version__
