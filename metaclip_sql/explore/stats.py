"""`metaclip-sql stats`: the pool's entry distribution and what each threshold t would keep.

Every number comes from a `sql/explore/stats_*.sql` file run over the pool's views (and, for
`--p` and `--t-en`, from balance's own `p_to_t` and per-language threshold SQL), so any of them
can be checked with a query. `stats_format` turns a `Stats` into text or JSON.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from duckdb import ColumnExpression, ConstantExpression

from metaclip_sql.duck import sql as sqlrunner
from metaclip_sql.explore.errors import ExploreError
from metaclip_sql.explore.pool import Pool, fetch_rows, open_pool

#: MetaCLIP's thresholds: 20k for the 400M set, 170k for the 2.5B set.
DEFAULT_TS = (20_000.0, 170_000.0)
#: The p_to_t that balance runs (reused here so `stats --p` and `balance --p` agree).
P_TO_T_SQL = "metaclip_v1/025_p_to_t.sql"
#: The language whose t (`--t-en`) sets the tail proportion every language gets (MetaCLIP 2).
WORLDWIDE_ANCHOR = "en"


@dataclass
class Threshold:
    """What one threshold t does: the numbers to look at before running balance."""

    t: float
    from_p: float | None
    head_entries: int
    head_matches: int
    tail_proportion: float
    capped_matches: float
    expected_pairs: float | None


@dataclass
class Stats:
    """The pool's entry distribution, as `stats` prints it (None where the input lacks it)."""

    sources: dict[str, Any]
    pool: dict[str, Any] | None
    languages: list[dict[str, Any]]
    matches_per_pair: list[dict[str, Any]]
    entries: dict[str, Any]
    top_entries: list[dict[str, Any]]
    thresholds: list[Threshold]
    #: The balance output's result when one is given: curated_pairs, curated_images, t, p.
    balanced: dict[str, Any] | None
    notes: list[str]
    #: With `--t-en` (worldwide): per language, the t `balance --worldwide` would use.
    language_thresholds: list[dict[str, Any]] = field(default_factory=list)


def pool_stats(
    data: Sequence[str | Path] = (),
    metadata: str | Path | None = None,
    ts: Sequence[float] = (),
    ps: Sequence[float] = (),
    top: int = 20,
    *,
    lang: str | None = None,
    t_en: float | None = None,
) -> Stats:
    """Open the pool over `data` (one language with `lang`) and compute its stats; with `t_en`
    also each language's threshold at English's tail proportion (`language_thresholds`)."""
    with open_pool(data, metadata, lang=lang) as pool:
        stats = compute_stats(pool, ts, ps, top)
        if t_en is not None:
            stats.language_thresholds = language_thresholds(pool, t_en)
    return stats


def compute_stats(
    pool: Pool, ts: Sequence[float] = (), ps: Sequence[float] = (), top: int = 20
) -> Stats:
    """Pool counts, entry concentration and, for each t (and each p via p_to_t), its effect.

    Reads the pool twice: once for the per-pair table, once to count entries (materialized so
    that t_to_p, p_to_t and the expected sizes do not recount).
    """
    if not pool.has("entry_counts"):
        raise ExploreError("stats needs --data: extract outputs and/or a balance output")
    check_thresholds(ts, ps)
    if top < 0:
        raise ExploreError(f"--top must be >= 0, got {top}")
    con = pool.con
    sqlrunner.run(con, "explore/stats_prepare.sql")
    entries = fetch_rows(con, "stats_entries.sql")[0]
    notes = _notes(pool, entries)
    summary = languages = per_pair = None
    if pool.has("pairs"):
        sqlrunner.run(con, "explore/stats_pairs.sql")
        summary = fetch_rows(con, "stats_pool.sql")[0]
        languages = fetch_rows(con, "stats_languages.sql", top=max(top, 1))
        per_pair = fetch_rows(con, "stats_matches_per_pair.sql")
    from_p: dict[float, float] = {}
    if entries["entries_matched"]:
        for p in ps:
            from_p.setdefault(float(sqlrunner.run(con, P_TO_T_SQL, {"p": p}).fetchall()[0][0]), p)
    elif ps:
        notes.append("no matches: --p gives no t")
    all_ts = sorted({float(t) for t in ts} | set(from_p)) or list(DEFAULT_TS)
    rows = fetch_rows(con, "stats_thresholds.sql", ts=all_ts)
    expected = {}
    if pool.has("pairs"):
        expected = {
            r["t"]: r["expected_pairs"] for r in fetch_rows(con, "stats_expected.sql", ts=all_ts)
        }
    thresholds = [
        Threshold(
            t=r["t"],
            from_p=from_p.get(r["t"]),
            head_entries=r["head_entries"],
            head_matches=r["head_matches"],
            tail_proportion=r["tail_proportion"],
            capped_matches=r["capped_matches"],
            expected_pairs=expected.get(r["t"]),
        )
        for r in rows
    ]
    return Stats(
        sources=_sources_record(pool),
        pool=summary,
        languages=languages or [],
        matches_per_pair=per_pair or [],
        entries=entries,
        top_entries=fetch_rows(con, "stats_top_entries.sql", top=top) if top else [],
        thresholds=thresholds,
        balanced=_balanced(pool),
        notes=notes,
    )


def _balanced(pool: Pool) -> dict[str, Any] | None:
    """What the balance output kept, with the t and p its manifest records."""
    if pool.sources.balance_dir is None:
        return None
    record: dict[str, Any] = {"curated_pairs": None, "curated_images": None, "t": None, "p": None}
    if pool.has("curated"):
        record.update(fetch_rows(pool.con, "stats_curated.sql")[0])
    try:
        manifest = json.loads((pool.sources.balance_dir / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError):
        manifest = {}
    if isinstance(manifest, dict):
        record.update({k: manifest.get(k) for k in ("t", "p", "lang", "unit", "dry_run")})
    return record


def check_thresholds(ts: Sequence[float], ps: Sequence[float]) -> None:
    """Every t must be positive and finite, every p strictly between 0 and 1."""
    for t in ts:
        if not (t > 0 and math.isfinite(t)):
            raise ExploreError(f"--t must be > 0, got {t}")
    for p in ps:
        if not 0 < p < 1:
            raise ExploreError(f"--p must be between 0 and 1 (exclusive), got {p}")


def _notes(pool: Pool, entries: dict[str, Any]) -> list[str]:
    notes = []
    if pool.metadata is None:
        notes.append("no metadata list known (give --metadata): entry names are empty")
    elif entries["entries_beyond_metadata"]:
        notes.append(
            f"{entries['entries_beyond_metadata']:,} entry ids are beyond the "
            f"{pool.metadata_entries:,} entries of {pool.metadata}: give --metadata with the "
            "list extract used"
        )
    if pool.sources.entry_counts_file is not None:
        notes.append("entry counts are the balance output's (its --lang and --valid-uuids)")
    return notes


def _sources_record(pool: Pool) -> dict[str, Any]:
    s = pool.sources
    return {
        "extract_files": len(s.pair_files),
        "balance_output": str(s.balance_dir) if s.balance_dir else None,
        "metadata": str(pool.metadata) if pool.metadata else None,
        "metadata_entries": pool.metadata_entries,
    }


def language_thresholds(pool: Pool, t_en: float) -> list[dict[str, Any]]:
    """Per language: the t that `balance --worldwide --t-en` gives it and its tail proportion.

    Counts (lang, entry) over the pool's matches and runs balance's own
    `metaclip_v2/025_thresholds.sql`, so the two agree.
    """
    if not pool.has("matches"):
        raise ExploreError("--t-en needs extract outputs in --data (their per-language matches)")
    if not (t_en > 0 and math.isfinite(t_en)):
        raise ExploreError(f"--t-en must be > 0, got {t_en}")
    sqlrunner.run(pool.con, "explore/stats_lang_counts.sql")
    anchor = pool.con.table("lang_entry_counts").filter(
        ColumnExpression("lang") == ConstantExpression(WORLDWIDE_ANCHOR)
    )
    if not anchor.limit(1).fetchall():
        raise ExploreError(f"--t-en: the pool has no {WORLDWIDE_ANCHOR} matches to give p")
    params = {"t_en": float(t_en), "anchor": WORLDWIDE_ANCHOR}
    sqlrunner.run(pool.con, "metaclip_v2/025_thresholds.sql", params)
    return fetch_rows(pool.con, "stats_lang_thresholds.sql")
