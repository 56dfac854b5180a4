"""Worldwide balancing (MetaCLIP 2): one threshold per language, all at English's tail proportion.

`balance --worldwide` counts matches per (language, entry), turns `t_en` into the English tail
proportion `p` (`t_to_p`) and gives every other language the `t` whose share of its sorted counts
is closest to `p` (`p_to_t`), then samples each text against its own language's probabilities.
All of that is `sql/metaclip_v2/*.sql` with `sql/common/`; this module checks inputs, binds
parameters, runs the files in order through the step runner MetaCLIP 1 uses (steps.py), and
writes the manifest.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import duckdb

from metaclip_sql.balance import manifest, options, pool, steps
from metaclip_sql.balance.inputs import (
    PairsFiles,
    check_pairs_files,
    define_inputs,
    load_lists,
    register_lang_metadata,
    resolve_parquet_inputs,
    resolve_paths,
)
from metaclip_sql.balance.options import ANCHOR_LANG, DEFAULT_SEED, DEFAULT_T_EN, BalanceError
from metaclip_sql.balance.results import WorldwideResult, language_record
from metaclip_sql.balance.steps import Steps
from metaclip_sql.io.staging import OutputStaging

__all__ = ["ANCHOR_LANG", "DEFAULT_T_EN", "WorldwideResult", "balance_worldwide"]


def balance_worldwide(
    inputs: Sequence[str | Path],
    *,
    t_en: float = DEFAULT_T_EN,
    out: str | Path = "balanced",
    seed: int = DEFAULT_SEED,
    lang: str = "all",
    metadata: str | Path | None = None,
    valid_uuids: Sequence[str | Path] = (),
    unit: str = "image",
    memory_limit: str | None = None,
    threads: int | None = None,
    dry_run: bool = False,
) -> WorldwideResult:
    """Balance a multilingual pool per language; raises BalanceError for bad inputs or options.

    `metadata` is the folder of `<lang>.json` lists extract used (names entries, checks ids).
    """
    langs = options.check_worldwide(t_en, unit, lang)
    files = resolve_parquet_inputs(inputs)
    checked = check_pairs_files(files)
    valid_files = resolve_paths(valid_uuids, "--valid-uuids") if valid_uuids else []
    lists = load_lists(metadata)

    def body(con: duckdb.DuckDBPyConnection, staging: OutputStaging) -> WorldwideResult:
        result = _run(con, staging, files, checked, valid_files, lists, t_en, seed, langs, unit)
        result.lang = lang
        return result

    def record(result: WorldwideResult) -> dict:
        meta = manifest.folder_record(metadata, lists)
        command = "balance --worldwide"
        return manifest.build_manifest(command, steps.V2, result, files, valid_files, meta)

    return steps.run_staged(Path(out), dry_run, memory_limit, threads, body, record)


def _run(
    con: duckdb.DuckDBPyConnection,
    staging: OutputStaging,
    files: list[Path],
    checked: PairsFiles,
    valid_files: list[Path],
    lists: dict[str, list[str]] | None,
    t_en: float,
    seed: int,
    langs: list[str] | None,
    unit: str,
) -> WorldwideResult:
    run = Steps(con, steps.V2)
    started = time.perf_counter()
    steps.start(run, langs, seed)
    run.run("007_keep_rule.sql")
    define_inputs(con, files, checked.without_key, valid_files)
    register_lang_metadata(con, lists)
    steps.select_candidates(run, bool(valid_files))
    run.run("common/010_pairs.sql")
    run.run("020_entry_counts.sql")
    _check_pool(con, lists)
    run.run("025_thresholds.sql", t_en=t_en, anchor=ANCHOR_LANG)
    run.run("030_probs.sql")
    steps.sample(run, unit, None if staging.dry_run else staging.temp("curated.parquet"))
    path = str(staging.temp("entry_counts.parquet"))
    run.run("070_write_entry_counts.sql", path=path, with_kept=not staging.dry_run)
    languages = {row[0]: language_record(row[1:]) for row in run.rows("080_lang_summary.sql")}
    run.seconds["total"] = time.perf_counter() - started
    duplicates = pool.count_rows(con, "duplicate_rows")
    pairs = sum(s["pairs"] for s in languages.values())
    counts = {
        "rows_in": checked.rows,
        "candidates": pairs + duplicates,
        "duplicates": duplicates,
        "pairs": pairs,
        "kept": sum(s["kept"] for s in languages.values()),
        "languages": len(languages),
        "files_without_pair_key": len(checked.without_key),
    }
    return WorldwideResult(
        out=staging.out,
        dry_run=staging.dry_run,
        t_en=float(t_en),
        p=float(languages[ANCHOR_LANG]["p"]),
        seed=seed,
        lang="",
        unit=unit,
        counts=counts,
        languages=languages,
        seconds=run.seconds,
    )


def _check_pool(con: duckdb.DuckDBPyConnection, lists: dict[str, list[str]] | None) -> None:
    """Stop early, with the reason: no pairs, no English anchor, ids beyond a language's list."""
    relation = con.table("lang_entry_counts")
    tops = relation.max("entry_id", groups="lang", projected_columns="lang").fetchall()
    if not tops:
        raise BalanceError("no candidate pairs: no input row of the selected languages has a match")
    found = dict(tops)
    if ANCHOR_LANG not in found:
        raise BalanceError(
            f"no {ANCHOR_LANG} pairs in the pool: --t-en needs English counts to give p"
        )
    if lists is None:
        return
    for lang, top in sorted(found.items()):
        if lang not in lists:
            raise BalanceError(f"the pool has {lang} pairs but the metadata folder no {lang} list")
        if top >= len(lists[lang]):
            raise BalanceError(
                f"{lang} entry ids reach {top} but its list has {len(lists[lang])} entries: "
                "give the --metadata folder that extract used"
            )
