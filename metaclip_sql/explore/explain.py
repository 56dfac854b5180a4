"""`metaclip-sql explain`: why one pair was or was not kept, decided as balance decides it.

For each pair found (by uuid, image URL or a LIKE pattern on the text) it shows the pair's
entries with their counts and probabilities `least(1, t / count)`, the pair's keep probability
`p = 1 - prod(1 - prob)`, its draw `u` and the decision, with balance's own arithmetic
(`metaclip_sql.balance.sampling`: the same draw, product order and pick as the SQL).

The settings are a balance output's (its manifest: t or per-language t, seed, unit, --lang,
--valid-uuids; its entry_counts.parquet: the counts), or, without one, the options `--t`,
`--seed`, `--unit` and `--lang` with counts taken from the pool as balance would count them.
The lookup reads only the rows it needs: a filter on uuid or url is pushed into the Parquet
scan (docs/explore.md, "explain"). What it returns, and how that is printed, is
`explain_format`'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
from duckdb import ColumnExpression, ConstantExpression

from metaclip_sql.balance import check_pairs_files, sampling
from metaclip_sql.balance.pool import pair_rows
from metaclip_sql.duck import sql as sqlrunner
from metaclip_sql.explore.balance_run import (
    BalanceRun,
    define_valid_ids,
    merge_options,
    run_from_manifest,
    run_from_options,
)
from metaclip_sql.explore.errors import ExploreError, one_line
from metaclip_sql.explore.explain_format import ExplainedEntry, ExplainedPair, Explanation
from metaclip_sql.explore.sources import Sources, resolve_sources
from metaclip_sql.metadata.load import BUNDLED_METADATA, load_entries

#: Pairs shown by default; `limit` raises it.
DEFAULT_LIMIT = 20


def explain(
    data: Sequence[str | Path],
    *,
    uuid: str | None = None,
    url: str | None = None,
    text_like: str | None = None,
    metadata: str | Path | None = None,
    t: float | None = None,
    seed: int | None = None,
    unit: str | None = None,
    lang: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Explanation:
    """Find the pairs of one image (`uuid`, `url`) or whose text is LIKE `text_like` in the
    extract outputs of `data`, and decide each as balance does (with the settings of the
    balance output in `data`, or `t`, `seed`, `unit`, `lang`)."""
    given = [(k, v) for k, v in (("uuid", uuid), ("url", url), ("text_like", text_like)) if v]
    if len(given) != 1:
        raise ExploreError("give exactly one of --uuid, --url, --text-like")
    if limit < 1:
        raise ExploreError(f"--limit must be >= 1, got {limit}")
    sources = resolve_sources(data)
    if not sources.pair_files:
        raise ExploreError("explain needs the extract outputs in --data (the pool balance read)")
    if sources.balance_dir is not None:
        run = merge_options(run_from_manifest(sources.balance_dir), t, seed, unit, lang)
    else:
        run = run_from_options(t, seed, unit, lang)
    con = duckdb.connect()
    try:
        return _explain(con, sources, run, given[0], metadata, limit)
    except duckdb.Error as exc:
        raise ExploreError(one_line(exc)) from exc
    finally:
        con.close()


def _explain(
    con: duckdb.DuckDBPyConnection,
    sources: Sources,
    run: BalanceRun,
    lookup: tuple[str, str],
    metadata: str | Path | None,
    limit: int,
) -> Explanation:
    notes = _input_notes(sources, run)
    _define_shards(con, sources.pair_files)
    kind, value = lookup
    if kind == "text_like":
        sqlrunner.run(con, "explore/explain_by_text.sql", {"pattern": value, "limit": limit + 1})
        if run.unit == "image":
            sqlrunner.run(con, "explore/explain_images.sql")
    else:
        sqlrunner.run(con, f"explore/explain_by_{kind}.sql", {"value": value})
    rows = _fetch(con.table("explain_rows"))
    pairs = _pairs(rows)
    hits = sorted({(p["uuid"], p["text"]) for p in pairs.values() if p["hit"]})
    truncated = len(hits) > limit
    hits = hits[:limit]
    if not hits:
        return Explanation([], run.describe(), False, notes)

    valid = _valid_images(con, run, notes)
    for p in pairs.values():
        p["candidate"], p["why_not"] = _candidacy(p, run, valid)
    hit_set = set(hits)
    shown = [p for p in pairs.values() if (p["uuid"], p["text"]) in hit_set]
    ids = sorted({e for p in shown for e in p["entry_ids"]})
    counts, names = _counts(con, sources, run, ids, shown, notes)
    if any(name is None for name in names.values()) or not names:
        names = _fill_names(names, metadata, ids, {p["lang"] for p in shown}, run)
    picks = _picks(pairs.values(), run) if run.unit == "image" else {}
    curated = _curated(con, sources) if sources.curated_files else None
    explained = [
        _decide(p, run, counts, names, picks, curated)
        for p in sorted(shown, key=lambda p: (p["uuid"], p["text"]))
    ]
    missing = sorted(
        {e.entry_id for x in explained if x.candidate for e in x.entries if e.count is None}
    )
    if missing:
        notes.append(
            f"entries {', '.join(map(str, missing[:10]))} have no count in the balance output: "
            "is this pool the one it balanced?"
        )
    for x in explained:
        if x.in_curated is not None and x.in_curated != x.kept:
            notes.append(
                f"{x.uuid} {x.text[:40]!r}: decided {'kept' if x.kept else 'dropped'} here but "
                f"{'in' if x.in_curated else 'not in'} curated.parquet: the pool or settings "
                "differ from the balance run's"
            )
    return Explanation(explained, run.describe(), truncated, notes)


def _define_shards(con: duckdb.DuckDBPyConnection, files: Sequence[Path]) -> None:
    """The view `explain_shards`: every row of the pool with its pair_key, stored or computed
    (files written before pair_key existed), as balance reads it."""
    pair_rows(con, files, check_pairs_files(files).without_key).create_view("explain_shards")


def _fetch(relation: duckdb.DuckDBPyRelation) -> list[dict[str, Any]]:
    columns = relation.columns
    return [dict(zip(columns, row, strict=True)) for row in relation.fetchall()]


def _pairs(rows: list[dict[str, Any]]) -> dict[bytes, dict[str, Any]]:
    """One record per pair_key: the copy balance keeps (smallest shard, then file, then row),
    with the shards holding a copy."""
    pairs: dict[bytes, dict[str, Any]] = {}
    for row in sorted(rows, key=lambda r: (r["shard"], r["filename"], r["file_row_number"])):
        key = row["pair_key"].bytes
        if key in pairs:
            pairs[key]["shards"].append(row["shard"])
            pairs[key]["hit"] = pairs[key]["hit"] or row["hit"]
            continue
        pairs[key] = {**row, "key": key, "entry_ids": list(row["entry_ids"] or [])}
        pairs[key]["shards"] = [row["shard"]]
    return pairs


def _valid_images(
    con: duckdb.DuckDBPyConnection, run: BalanceRun, notes: list[str]
) -> set[str] | None:
    """The images explained that the run's --valid-uuids admitted (None: no such filter)."""
    if run.missing_valid:
        notes.append(
            f"--valid-uuids file(s) of the balance run are gone ({', '.join(run.missing_valid)}):"
            " images are taken as admitted"
        )
    if not run.valid_files:
        return None
    define_valid_ids(con, run.valid_files)
    return {row[0] for row in sqlrunner.run(con, "explore/explain_valid.sql").fetchall()}


def _candidacy(p: dict[str, Any], run: BalanceRun, valid: set[str] | None) -> tuple[bool, str]:
    if not p["entry_ids"]:
        return False, "no matched entry: never a candidate"
    if not run.selects(p["lang"]):
        langs = "all" if run.langs is None else ",".join(run.langs)
        return False, f"language {p['lang']} not selected (--lang {langs})"
    if valid is not None and p["uuid"] not in valid:
        return False, "image not in the run's --valid-uuids"
    if run.t_for(p["lang"]) is None:
        return False, f"no threshold for language {p['lang']} in the balance output"
    return True, ""


def _counts(
    con: duckdb.DuckDBPyConnection,
    sources: Sources,
    run: BalanceRun,
    ids: list[int],
    shown: list[dict[str, Any]],
    notes: list[str],
) -> tuple[dict[tuple[str | None, int], int], dict[tuple[str | None, int], str | None]]:
    """Counts (and names) keyed by (lang, entry_id); lang is None for a MetaCLIP 1 run."""
    if not ids:
        return {}, {}
    if sources.entry_counts_file is not None:
        relation = con.read_parquet(str(sources.entry_counts_file))
        if "lang" not in relation.columns:
            relation = relation.select(
                ConstantExpression(None).cast(duckdb.sqltype("VARCHAR")).alias("lang"),
                ColumnExpression("entry_id"),
                ColumnExpression("entry"),
                ColumnExpression("count"),
            )
        relation.create_view("explain_balance_counts")
        rows = sqlrunner.run(con, "explore/explain_balance_counts.sql", {"ids": ids}).fetchall()
        counts = {(lang, e): int(c) for lang, e, _, c in rows}
        names = {(lang, e): name for lang, e, name, _ in rows}
        return counts, names
    if sources.balance_dir is not None:
        notes.append("the balance output has no entry_counts.parquet: counts are the pool's")
    if not any(p["candidate"] for p in shown):
        return {}, {}
    langs = None if run.langs is None else list(run.langs)
    rows = sqlrunner.run(con, "explore/explain_counts.sql", {"ids": ids, "langs": langs})
    return {(None, int(e)): int(c) for e, c in rows.fetchall()}, {}


def _fill_names(
    names: dict[tuple[str | None, int], str | None],
    metadata: str | Path | None,
    ids: list[int],
    langs: set[str | None],
    run: BalanceRun,
) -> dict[tuple[str | None, int], str | None]:
    """Entry names from the metadata list (or a folder's per-language lists) where the balance
    output did not give them."""
    path = Path(metadata) if metadata is not None else BUNDLED_METADATA
    if metadata is None and not path.exists():
        return names
    if run.worldwide and not path.is_dir():
        return names  # per-language ids: only a folder of per-language lists names them
    filled = dict(names)
    lists: dict[str | None, list[str]] = {}
    if path.is_dir():
        from metaclip_sql.metadata.lang import metadata_files

        files = metadata_files(path)
        for lang in langs:
            if lang in files:
                lists[lang] = load_entries(files[lang])
    else:
        entries = load_entries(path)
        lists = {lang: entries for lang in langs}
    for lang in langs:
        entries = lists.get(lang)
        key_lang = lang if run.worldwide else None
        for e in ids:
            if filled.get((key_lang, e)) is None and entries is not None and 0 <= e < len(entries):
                filled[(key_lang, e)] = entries[e]
    return filled


def _picks(pairs: Any, run: BalanceRun) -> dict[str, bytes]:
    """--unit image: per image, the pair_key of the text balance decides (the smallest pick key
    among its candidate texts, `sampling.pick_key`)."""
    best: dict[str, tuple[int, bytes]] = {}
    for p in pairs:
        if not p["candidate"]:
            continue
        key = (sampling.pick_key(run.seed, p["key"]), p["key"])
        if p["uuid"] not in best or key < best[p["uuid"]]:
            best[p["uuid"]] = key
    return {uuid: key for uuid, (_, key) in best.items()}


def _curated(con: duckdb.DuckDBPyConnection, sources: Sources) -> set[tuple[str, str]]:
    con.read_parquet([str(f) for f in sources.curated_files], union_by_name=True).create_view(
        "balance_curated"
    )
    return {(u, t) for u, t in sqlrunner.run(con, "explore/explain_curated.sql").fetchall()}


def _decide(
    p: dict[str, Any],
    run: BalanceRun,
    counts: dict[tuple[str | None, int], int],
    names: dict[tuple[str | None, int], str | None],
    picks: dict[str, bytes],
    curated: set[tuple[str, str]] | None,
) -> ExplainedPair:
    lang = p["lang"]
    key_lang = lang if run.worldwide else None
    t = run.t_for(lang)
    entries = []
    probs: dict[int, float] = {}
    for e in p["entry_ids"]:
        count = counts.get((key_lang, e))
        prob = sampling.entry_prob(count, t) if count and t is not None else None
        if prob is not None:
            probs[e] = prob
        entries.append(ExplainedEntry(e, names.get((key_lang, e)), count, prob))
    u = sampling.draw(run.seed, p["key"])
    candidate = p["candidate"] and len(probs) == len(p["entry_ids"])
    ordered = [e for e in p["entry_ids"] if e in probs]
    prob_keep = sampling.keep_probability(probs[e] for e in ordered) if candidate else 0.0
    picked = None if run.unit == "pair" else candidate and picks.get(p["uuid"]) == p["key"]
    decided = candidate and picked is not False
    kept = decided and sampling.kept(run.seed, p["key"], ordered, probs)
    if not p["candidate"]:
        reason = p["why_not"]
    elif not candidate:
        reason = "an entry has no count in the balance output: cannot decide"
    elif picked is False:
        reason = "another text of its image was picked (--unit image): not decided"
    elif prob_keep >= 1.0:
        reason = "kept: a tail entry (prob 1) keeps it"
    else:
        reason = f"{'kept' if kept else 'dropped'}: u {'<' if kept else '>='} p"
    return ExplainedPair(
        uuid=p["uuid"],
        text=p["text"],
        url=p["url"],
        lang=lang,
        kept=kept,
        p=prob_keep,
        u=u,
        entries=entries,
        t=t,
        seed=run.seed,
        unit=run.unit,
        candidate=p["candidate"],
        picked=picked,
        in_curated=None if curated is None else (p["uuid"], p["text"]) in curated,
        reason=reason,
        pair_key=p["key"].hex(),
        shards=p["shards"],
    )


def _input_notes(sources: Sources, run: BalanceRun) -> list[str]:
    """Whether the pool given is the one the balance run read."""
    if run.out is None:
        return []
    recorded = {
        str(Path(i["path"]).resolve())
        for i in run.manifest.get("inputs") or []
        if isinstance(i, dict) and "path" in i
    }
    given = {str(f) for f in sources.pair_files}
    if recorded and recorded != given:
        return [
            f"the extract files given ({len(given)}) are not the {len(recorded)} the balance run "
            f"read ({len(given & recorded)} in common): decisions assume the same pool"
        ]
    return []
