"""Worldwide balancing (MetaCLIP 2): one threshold per language, all at English's tail proportion.

`balance --worldwide` counts matches per (language, entry), turns `t_en` into the English tail
proportion `p` (`t_to_p`) and gives every other language the `t` whose share of its sorted counts
is closest to `p` (`p_to_t`), then samples each text against its own language's probabilities.
All of that is `sql/metaclip_v2/*.sql`; this module checks inputs, binds parameters, runs the
files in order and writes the manifest, reusing the input and output plumbing of `balance.py`.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from metaclip_sql.balance.pool import pair_rows
from metaclip_sql.balance.v1 import (
    COMMON_SQL,
    DEFAULT_SEED,
    UNITS,
    BalanceError,
    PairsFiles,
    _Run,
    _valid_input,
    check_pairs_files,
    leftovers_lines,
    manifest_header,
    pair_key_note,
    parse_langs,
    resolve_parquet_inputs,
    resolve_paths,
    run_steps,
)
from metaclip_sql.duck import sql as sqlrunner
from metaclip_sql.metadata.lang import metadata_files
from metaclip_sql.metadata.load import MetadataError, load_entries

SQL_VERSION = "metaclip_v2"
DRAW_FUNCTION = (
    "one per pair: u = splitmix64_finalizer(low 64 bits of pair_key XOR "
    "splitmix64_finalizer(seed)) >> 11, over 2^53; kept when u < 1 - prod(1 - t_lang / count) "
    "over its entries, t_lang the threshold of the pair's language"
)
DEFAULT_T_EN = 170_000.0
ANCHOR_LANG = "en"
_SUMMARY_COLUMNS = ("t", "p", "tail_proportion", "pairs", "kept", "entries", "head_entries")


@dataclass
class WorldwideResult:
    """What a worldwide run did: totals, and per language its t, counts in and out."""

    out: Path
    dry_run: bool
    t_en: float
    p: float
    seed: int
    lang: str
    unit: str
    counts: dict[str, int]
    languages: dict[str, dict[str, Any]]
    seconds: dict[str, float]
    files: dict[str, str] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)
    leftovers: list[str] = field(default_factory=list)  # killed runs' temporaries, removed

    def summary(self, top: int = 15) -> str:
        """Totals, then the languages with the most pairs, for the terminal."""
        c = self.counts
        share = c["kept"] / c["pairs"] if c["pairs"] else 0.0
        verb = "dry run: would keep" if self.dry_run else "kept"
        lines = [
            f"{verb} {c['kept']:,} of {c['pairs']:,} pairs ({share:.1%}) in "
            f"{len(self.languages)} languages; t_en={self.t_en:g} gives tail proportion "
            f"p={self.p:.4f}; seed {self.seed}, unit {self.unit}",
            f"rows in {c['rows_in']:,}; cross-shard duplicates {c['duplicates']:,}",
            f"{'lang':<6} {'t':>10} {'tail':>7} {'pairs':>12} {'kept':>12} {'head/entries':>16}",
        ]
        by_size = sorted(self.languages.items(), key=lambda kv: (-kv[1]["pairs"], kv[0]))
        for lang, s in by_size[:top]:
            lines.append(
                f"{lang:<6} {s['t']:>10g} {s['tail_proportion']:>7.4f} {s['pairs']:>12,} "
                f"{s['kept']:>12,} {s['head_entries']:>7,}/{s['entries']:<8,}"
            )
        if len(by_size) > top:
            lines.append(f"... {len(by_size) - top} more languages in manifest.json")
        lines.append(f"seconds: {self.seconds['total']:.1f}")
        lines += pair_key_note(c)
        lines += leftovers_lines(self.leftovers, self.out)
        lines += [f"wrote {path}" for path in self.files.values()]
        return "\n".join(lines)


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
    if not t_en > 0:
        raise BalanceError(f"--t-en must be > 0, got {t_en}")
    if unit not in UNITS:
        raise BalanceError(f"--unit must be one of {', '.join(UNITS)}, got {unit!r}")
    langs = parse_langs(lang)
    if langs is not None and ANCHOR_LANG not in langs:
        raise BalanceError(f"--lang must include {ANCHOR_LANG}: its counts turn --t-en into p")
    files = resolve_parquet_inputs(inputs)
    checked = check_pairs_files(files)
    valid_files = resolve_paths(valid_uuids, "--valid-uuids") if valid_uuids else []
    lists = _load_lists(metadata)

    def steps(con: duckdb.DuckDBPyConnection, run: _Run) -> WorldwideResult:
        result = _run(con, run, files, checked, valid_files, lists, t_en, seed, langs, unit)
        result.lang = lang
        return result

    return run_steps(
        Path(out),
        dry_run,
        memory_limit,
        threads,
        steps,
        lambda result: _manifest(result, files, valid_files, metadata, lists),
    )


def _run(
    con: duckdb.DuckDBPyConnection,
    run: _Run,
    files: list[Path],
    checked: PairsFiles,
    valid_files: list[Path],
    lists: dict[str, list[str]] | None,
    t_en: float,
    seed: int,
    langs: list[str] | None,
    unit: str,
) -> WorldwideResult:
    seconds: dict[str, float] = {}
    step = _stepper(con, seconds)
    started = time.perf_counter()
    sqlrunner.run(con, COMMON_SQL)
    step("000_params.sql", langs=langs, seed=seed)
    _define_inputs(con, files, checked.without_key, valid_files, lists)
    if valid_files:
        step("005_valid_ids.sql")
    step("010_pairs.sql")
    step("020_entry_counts.sql")
    _check_pool(con, lists)
    step("025_thresholds.sql", t_en=t_en, anchor=ANCHOR_LANG)
    step("030_probs.sql")
    step("040_sample.sql")
    if unit == "image":
        step("041_sample_image.sql")
    if run.dry_run:
        step("055_kept_total.sql" if unit == "pair" else "056_kept_total_image.sql")
    else:
        step("050_write_curated.sql", path=str(run.temp("curated.parquet")))
        con.read_parquet(str(run.temp("curated.parquet"))).create_view("kept_rows")
        step("060_kept_counts.sql")
    path = str(run.temp("entry_counts.parquet"))
    step("070_write_entry_counts.sql", path=path, with_kept=not run.dry_run)
    rows = step("080_lang_summary.sql").fetchall()
    languages = {row[0]: _language_record(row[1:]) for row in rows}
    seconds["total"] = time.perf_counter() - started
    duplicates = int(con.table("duplicate_rows").count("*").fetchall()[0][0])
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
        out=run.out,
        dry_run=run.dry_run,
        t_en=float(t_en),
        p=float(languages[ANCHOR_LANG]["p"]),
        seed=seed,
        lang="",
        unit=unit,
        counts=counts,
        languages=languages,
        seconds=seconds,
    )


def _stepper(con: duckdb.DuckDBPyConnection, seconds: dict[str, float]):
    """Run one file of this SQL version, timing it."""

    def step(name: str, **params: Any) -> duckdb.DuckDBPyConnection:
        started = time.perf_counter()
        result = sqlrunner.run(con, f"{SQL_VERSION}/{name}", params)
        seconds[name] = time.perf_counter() - started
        return result

    return step


def _language_record(values: Sequence[Any]) -> dict[str, Any]:
    record = dict(zip(_SUMMARY_COLUMNS, values, strict=True))
    for key in ("pairs", "kept", "entries", "head_entries"):
        record[key] = int(record[key])
    for key in ("t", "p", "tail_proportion"):
        record[key] = float(record[key])
    return record


# --- inputs ------------------------------------------------------------------------------------


def _load_lists(metadata: str | Path | None) -> dict[str, list[str]] | None:
    """Entries per language from the metadata folder; None when none is given (names NULL)."""
    if metadata is None:
        return None
    if not Path(metadata).is_dir():
        raise BalanceError(
            f"--worldwide --metadata must be a folder of <lang>.json lists: {metadata}"
        )
    try:
        return {lang: load_entries(path) for lang, path in metadata_files(metadata).items()}
    except MetadataError as exc:
        raise BalanceError(str(exc)) from exc


def _define_inputs(
    con: duckdb.DuckDBPyConnection,
    files: list[Path],
    without_key: frozenset[Path],
    valid_files: list[Path],
    lists: dict[str, list[str]] | None,
) -> None:
    """The views the SQL reads: shards (or raw_shards), valid_input, metadata_entries."""
    pair_rows(con, files, without_key).create_view("shards" if not valid_files else "raw_shards")
    if valid_files:
        _valid_input(con, valid_files).create_view("valid_input")
    langs, ids, names = [], [], []
    for lang, entries in (lists or {}).items():
        langs += [lang] * len(entries)
        ids += range(len(entries))
        names += entries
    table = pa.table(
        {
            "lang": pa.array(langs, pa.string()),
            "entry_id": pa.array(ids, pa.int32()),
            "entry": pa.array(names, pa.string()),
        }
    )
    con.register("metadata_entries", table)


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


# --- manifest ----------------------------------------------------------------------------------


def _manifest(
    result: WorldwideResult,
    files: list[Path],
    valid_files: list[Path],
    metadata: str | Path | None,
    lists: dict[str, list[str]] | None,
) -> dict[str, Any]:
    return {
        **manifest_header(
            "balance --worldwide", result.dry_run, SQL_VERSION, DRAW_FUNCTION, files, valid_files
        ),
        "metadata": _metadata_record(metadata, lists),
        "t_en": result.t_en,
        "p": result.p,
        "seed": result.seed,
        "lang": result.lang,
        "unit": result.unit,
        "counts": result.counts,
        "languages": result.languages,
        "seconds": {k: round(v, 3) for k, v in result.seconds.items()},
    }


def _metadata_record(
    metadata: str | Path | None, lists: dict[str, list[str]] | None
) -> dict[str, Any]:
    if metadata is None or lists is None:
        return {"path": None, "languages": None}
    files = metadata_files(metadata)
    return {
        "path": str(Path(metadata).resolve()),
        "languages": {
            lang: {
                "file": files[lang].name,
                "entries": len(entries),
                "sha256": hashlib.sha256(files[lang].read_bytes()).hexdigest(),
            }
            for lang, entries in lists.items()
        },
    }
