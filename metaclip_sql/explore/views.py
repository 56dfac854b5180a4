"""Explore a pool with SQL: DuckDB views over extract and balance outputs, stats and plots.

`open_pool` defines the views of `sql/explore/` (pairs, matches, metadata, entry_counts,
curated, the macro t_to_p) over the `--data` paths. The `sql`, `shell`, `stats` and `plot`
commands all read the pool through these views, so any number `stats` prints can be checked
with a query. Python only finds the files, registers them and formats results.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import io
import json
import math
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TextIO

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from duckdb import ColumnExpression, ConstantExpression

from metaclip_sql.duck import sql as sqlrunner
from metaclip_sql.errors import MetaclipError
from metaclip_sql.io import paths
from metaclip_sql.metadata.load import BUNDLED_METADATA, load_entries

#: Files whose presence marks a directory as a `balance` output.
BALANCE_FILES = ("curated.parquet", "entry_counts.parquet", "manifest.json")
FORMATS = ("table", "csv", "json", "parquet")
UIS = ("duckdb", "harlequin")
#: MetaCLIP's thresholds: 20k for the 400M set, 170k for the 2.5B set.
DEFAULT_TS = (20_000.0, 170_000.0)
#: The p_to_t that balance runs (reused here so `stats --p` and `balance --p` agree).
P_TO_T_SQL = "metaclip_v1/025_p_to_t.sql"
#: The language whose t (`--t-en`) sets the tail proportion every language gets (MetaCLIP 2).
WORLDWIDE_ANCHOR = "en"


class ExploreError(MetaclipError):
    """A problem with the user's paths, query or options, told in one line."""


# --- inputs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sources:
    """What the `--data` paths hold: extract shards and at most one balance output."""

    pair_files: tuple[Path, ...] = ()
    balance_dir: Path | None = None
    curated_files: tuple[Path, ...] = ()
    entry_counts_file: Path | None = None


def resolve_sources(data: Sequence[str | Path]) -> Sources:
    """Sort `--data` paths into extract Parquet files and a balance output directory.

    A path may be a Parquet file, a directory (its Parquet files, recursively), a glob, or a
    balance output directory, recognised by curated.parquet, entry_counts.parquet or
    manifest.json in it. Extract files are checked against the extract schema here, so a wrong
    path fails now with its name rather than later inside a query.
    """
    pair_files: set[Path] = set()
    balance_dirs: set[Path] = set()
    for item in data:
        for path in _expand(item):
            if path.is_dir():
                if _is_balance_dir(path):
                    balance_dirs.add(path)
                else:
                    pair_files.update(_parquet_below(path, item))
            elif path.name in BALANCE_FILES:
                balance_dirs.add(path.parent)
            else:
                pair_files.add(path)
    if len(balance_dirs) > 1:
        names = ", ".join(str(d) for d in sorted(balance_dirs))
        raise ExploreError(f"give one balance output at a time, got {names}")
    files = tuple(sorted(pair_files))
    if files:
        from metaclip_sql.balance.v1 import check_pairs_files

        check_pairs_files(files)
    if not balance_dirs:
        return Sources(pair_files=files)
    out = balance_dirs.pop()
    curated = out / "curated.parquet"
    parts = sorted(p for p in curated.rglob("*.parquet") if p.is_file()) if curated.is_dir() else []
    counts = out / "entry_counts.parquet"
    return Sources(
        pair_files=files,
        balance_dir=out,
        curated_files=(curated,) if curated.is_file() else tuple(parts),
        entry_counts_file=counts if counts.is_file() else None,
    )


def _expand(item: str | Path) -> list[Path]:
    """A --data item as paths: itself when it exists (folders stay folders), else its glob."""
    return [Path(p).resolve() for p in paths.expand([item], what="--data", folder=None)]


def _is_balance_dir(path: Path) -> bool:
    return any((path / name).exists() for name in BALANCE_FILES)


def _parquet_below(folder: Path, item: str | Path) -> list[Path]:
    """Parquet files under a folder, skipping hidden (in-progress) files and balance outputs."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not _is_balance_dir(Path(root, d)))
        found += [Path(root, f) for f in files if f.endswith(".parquet") and not f.startswith(".")]
    if not found:
        raise ExploreError(f"--data {item}: no Parquet file in {folder}")
    return found


# --- the pool: a DuckDB connection with the views ----------------------------------------------


@dataclass
class Pool:
    """A DuckDB connection with the explore views defined over one set of inputs."""

    con: duckdb.DuckDBPyConnection
    sources: Sources
    metadata: Path | None
    metadata_entries: int
    views: list[str] = field(default_factory=list)
    #: Every statement that defined the views, in order: the shell's init script.
    script: list[str] = field(default_factory=list)

    def has(self, view: str) -> bool:
        return view in self.views

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_pool(
    data: Sequence[str | Path] = (),
    metadata: str | Path | None = None,
    *,
    metadata_file: Path | None = None,
    lang: str | None = None,
) -> Pool:
    """Open an in-memory DuckDB with the explore views over `data`.

    The metadata list (`metadata`, else the bundled list when it exists) is registered from
    Python; with `metadata_file` it is written there as Parquet and read back instead, so that
    every view has SQL another DuckDB process (the shell) can replay. With `lang` every input is
    restricted to that language, and `metadata` may be a worldwide folder of `<lang>.json` lists.
    """
    sources = resolve_sources(data)
    entries, metadata_path = _load_metadata(metadata, lang)
    con = duckdb.connect()
    pool = Pool(con, sources, metadata_path, len(entries))
    only = partial(_only_lang, lang=lang)
    try:
        if sources.pair_files:
            shards = _read_parquet(con, sources.pair_files, union_by_name=True)
            _source(pool, "shards", only(shards))
            _views(pool, "pairs.sql", "matches.sql")
        table = pa.table(
            {
                "entry_id": pa.array(range(len(entries)), pa.int32()),
                "entry": pa.array(entries, pa.string()),
            }
        )
        if metadata_file is None:
            con.register("metadata_entries", table)
        else:
            pq.write_table(table, metadata_file)
            _source(pool, "metadata_entries", con.read_parquet(str(Path(metadata_file).resolve())))
        _views(pool, "metadata.sql")
        if sources.entry_counts_file is not None:
            counts = _read_parquet(con, (sources.entry_counts_file,))
            if lang is None and "lang" in counts.columns:
                raise ExploreError(
                    "a worldwide balance output counts entries per language: give --lang"
                )
            _source(pool, "balance_entry_counts", only(counts))
            _views(pool, "entry_counts_balance.sql")
        elif sources.pair_files:
            _views(pool, "entry_counts.sql")
        if sources.curated_files:
            curated = _read_parquet(con, sources.curated_files, union_by_name=True)
            _source(pool, "balance_curated", only(curated))
            _views(pool, "curated.sql")
        if pool.has("entry_counts"):
            _views(pool, "macros.sql")
    except BaseException:
        con.close()
        raise
    return pool


def _load_metadata(
    metadata: str | Path | None, lang: str | None = None
) -> tuple[list[str], Path | None]:
    if metadata is None and not BUNDLED_METADATA.exists():
        return [], None
    path = Path(metadata) if metadata is not None else BUNDLED_METADATA
    if path.is_dir():
        path = _lang_list(path, lang)
    return load_entries(path), path


def _lang_list(folder: Path, lang: str | None) -> Path:
    """A worldwide metadata folder's list for `lang` (entry ids are per language)."""
    from metaclip_sql.metadata.lang import metadata_files

    if lang is None:
        raise ExploreError(f"--metadata {folder} is a folder of per-language lists: give --lang")
    files = metadata_files(folder)
    if lang not in files:
        raise ExploreError(f"--metadata {folder} has no list for {lang!r}")
    return files[lang]


def _only_lang(relation: duckdb.DuckDBPyRelation, lang: str | None) -> duckdb.DuckDBPyRelation:
    """The rows of one language (`--lang`), or all of them."""
    if lang is None:
        return relation
    if "lang" not in relation.columns:
        raise ExploreError("--lang: this input has no lang column")
    return relation.filter(ColumnExpression("lang") == ConstantExpression(lang))


def _read_parquet(
    con: duckdb.DuckDBPyConnection, files: Sequence[Path], union_by_name: bool = False
) -> duckdb.DuckDBPyRelation:
    try:
        return con.read_parquet([str(f) for f in files], union_by_name=union_by_name)
    except duckdb.Error as exc:
        raise ExploreError(f"cannot read {files[0].parent}: {_one_line(exc)}") from exc


def _source(pool: Pool, name: str, relation: duckdb.DuckDBPyRelation) -> None:
    """Define an input view from Python and keep the SQL DuckDB recorded for it."""
    relation.create_view(name)
    rows = sqlrunner.run(pool.con, "explore/view_sql.sql", {"name": name}).fetchall()
    pool.script.append(rows[0][0])


def _views(pool: Pool, *names: str) -> None:
    for name in names:
        file = sqlrunner.load(f"explore/{name}")
        sqlrunner.run(pool.con, file)
        pool.script.append(file.text.strip())
        if name != "macros.sql":
            pool.views.append(name.removesuffix(".sql").removesuffix("_balance"))


# --- sql: run a query and format it ------------------------------------------------------------


def run_query(pool: Pool, query: str) -> duckdb.DuckDBPyRelation | None:
    """Run the user's SQL; None when its last statement returns no rows (e.g. a CREATE)."""
    try:
        return pool.con.sql(query)
    except duckdb.Error as exc:
        hint = f" (views here: {', '.join(pool.views) or 'none'})"
        raise ExploreError(_one_line(exc) + hint) from exc


def write_result(
    pool: Pool,
    relation: duckdb.DuckDBPyRelation | None,
    fmt: str = "table",
    output: Path | None = None,
    max_rows: int = 40,
    stream: TextIO | None = None,
) -> None:
    """Write a result as a box table, CSV, a JSON array or Parquet, to `output` or `stream`."""
    if fmt not in FORMATS:
        raise ExploreError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if fmt == "parquet" and output is None:
        raise ExploreError("--format parquet needs --output FILE")
    if relation is None:
        return
    stream = stream if stream is not None else sys.stdout
    try:
        if fmt == "table":
            text = format_table(relation, max_rows)
            if output is None:
                stream.write(text)
            else:
                Path(output).write_text(text, encoding="utf-8")
            return
        if output is not None:
            _export(pool, relation, fmt, Path(output))
            return
        with tempfile.TemporaryDirectory(prefix="metaclip-sql-") as tmp:
            path = Path(tmp) / f"result.{fmt}"
            _export(pool, relation, fmt, path)
            with path.open(encoding="utf-8") as f:
                shutil.copyfileobj(f, stream)
    except duckdb.Error as exc:
        raise ExploreError(_one_line(exc)) from exc


def format_table(relation: duckdb.DuckDBPyRelation, max_rows: int = 40) -> str:
    """DuckDB's own box rendering, sized to the terminal; long results show head and tail."""
    width = shutil.get_terminal_size((120, 24)).columns
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        relation.show(max_rows=max_rows, max_width=width)
    return buffer.getvalue().rstrip() + "\n"


def _export(pool: Pool, relation: duckdb.DuckDBPyRelation, fmt: str, path: Path) -> None:
    if fmt == "csv":
        relation.write_csv(str(path), header=True)
    elif fmt == "parquet":
        relation.write_parquet(str(path), compression="zstd")
    else:
        relation.create_view("result")
        sqlrunner.run(pool.con, "explore/export_json.sql", {"path": str(path)})


# --- stats -------------------------------------------------------------------------------------


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


def compute_stats(
    pool: Pool, ts: Sequence[float] = (), ps: Sequence[float] = (), top: int = 20
) -> Stats:
    """Pool counts, entry concentration and, for each t (and each p via p_to_t), its effect.

    Reads the pool twice: once for the per-pair table, once to count entries (materialized so
    that t_to_p, p_to_t and the expected sizes do not recount).
    """
    if not pool.has("entry_counts"):
        raise ExploreError("stats needs --data: extract outputs and/or a balance output")
    _check_thresholds(ts, ps)
    if top < 0:
        raise ExploreError(f"--top must be >= 0, got {top}")
    con = pool.con
    sqlrunner.run(con, "explore/stats_prepare.sql")
    entries = _rows(con, "stats_entries.sql")[0]
    notes = _notes(pool, entries)
    summary = languages = per_pair = None
    if pool.has("pairs"):
        sqlrunner.run(con, "explore/stats_pairs.sql")
        summary = _rows(con, "stats_pool.sql")[0]
        languages = _rows(con, "stats_languages.sql", top=max(top, 1))
        per_pair = _rows(con, "stats_matches_per_pair.sql")
    from_p: dict[float, float] = {}
    if entries["entries_matched"]:
        for p in ps:
            from_p.setdefault(float(sqlrunner.run(con, P_TO_T_SQL, {"p": p}).fetchall()[0][0]), p)
    elif ps:
        notes.append("no matches: --p gives no t")
    all_ts = sorted({float(t) for t in ts} | set(from_p)) or list(DEFAULT_TS)
    rows = _rows(con, "stats_thresholds.sql", ts=all_ts)
    expected = {}
    if pool.has("pairs"):
        expected = {
            r["t"]: r["expected_pairs"] for r in _rows(con, "stats_expected.sql", ts=all_ts)
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
        top_entries=_rows(con, "stats_top_entries.sql", top=top) if top else [],
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
        record.update(_rows(pool.con, "stats_curated.sql")[0])
    try:
        manifest = json.loads((pool.sources.balance_dir / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError):
        manifest = {}
    if isinstance(manifest, dict):
        record.update({k: manifest.get(k) for k in ("t", "p", "lang", "unit", "dry_run")})
    return record


def _check_thresholds(ts: Sequence[float], ps: Sequence[float]) -> None:
    for t in ts:
        if not (t > 0 and math.isfinite(t)):
            raise ExploreError(f"--t must be > 0, got {t}")
    for p in ps:
        if not 0 < p < 1:
            raise ExploreError(f"--p must be between 0 and 1 (exclusive), got {p}")


def _rows(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> list[dict[str, Any]]:
    result = sqlrunner.run(con, f"explore/{name}", params)
    columns = [d[0] for d in result.description]
    return [dict(zip(columns, row, strict=True)) for row in result.fetchall()]


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


def stats_json(stats: Stats) -> str:
    """The stats as one JSON object, for scripts."""
    return json.dumps(dataclasses.asdict(stats), indent=2, ensure_ascii=False) + "\n"


def format_stats(stats: Stats) -> str:
    """The stats as aligned text for a terminal."""
    lines = [f"sources    {_describe_sources(stats.sources)}"]
    pool = stats.pool
    if pool is not None:
        pairs = pool["pairs"]
        dup = pool["rows"] - pairs
        lines += [
            f"rows       {pool['rows']:,}"
            + (f" ({dup:,} cross-shard duplicate{'s' if dup > 1 else ''})" if dup else ""),
            f"pairs      {pairs:,} distinct (uuid, text)",
            f"images     {pool['images']:,}",
            f"languages  {pool['languages']:,}: "
            + ", ".join(f"{r['lang']} {r['pairs']:,}" for r in stats.languages)
            + (" ..." if pool["languages"] > len(stats.languages) else ""),
            f"matched    {pool['matched_pairs']:,} pairs ({_pct(pool['matched_pairs'], pairs)});"
            f" unmatched {pool['unmatched_pairs']:,} ({_pct(pool['unmatched_pairs'], pairs)})",
            f"matches    {pool['matches']:,}: "
            + (
                f"{pool['matches_per_matched_pair']:.2f} per matched pair, "
                f"at most {pool['max_matches_per_pair']}"
                if pool["matched_pairs"]
                else "none"
            ),
            "per pair   " + _per_pair(stats.matches_per_pair),
        ]
    e = stats.entries
    of_list = f" of {e['metadata_entries']:,} in the list" if e["metadata_entries"] else ""
    lines.append(f"entries    {e['entries_matched']:,} matched{of_list}")
    if e["entries_matched"]:
        lines.append(
            f"           the top {e['entries_for_half']:,} hold half of the "
            f"{e['matches']:,} matches, the top {e['entries_for_90']:,} hold 90%"
        )
    if stats.top_entries:
        lines += ["", f"top {len(stats.top_entries)} entries"]
        lines += _table(
            ["entry_id", "entry", "count", "share", "cumulative"],
            [
                [
                    r["entry_id"],
                    _clip(r["entry"]),
                    f"{r['count']:,}",
                    _pct(r["share"]),
                    _pct(r["cumulative_share"]),
                ]
                for r in stats.top_entries
            ],
        )
    if stats.thresholds:
        lines += ["", "thresholds (head: count > t, sampled down; tail p = t_to_p)"]
        lines += _table(
            ["t", "head entries", "head matches", "tail p", "expected pairs", "of matched"],
            [
                [
                    _num(th.t) + (f" (p={th.from_p:g})" if th.from_p is not None else ""),
                    f"{th.head_entries:,}",
                    f"{th.head_matches:,}",
                    f"{th.tail_proportion:.4f}",
                    "-" if th.expected_pairs is None else f"{th.expected_pairs:,.1f}",
                    "-"
                    if th.expected_pairs is None or pool is None
                    else _pct(th.expected_pairs, pool["matched_pairs"]),
                ]
                for th in stats.thresholds
            ],
        )
    b = stats.balanced
    if b is not None and b["curated_pairs"] is not None:
        at = f" at t={_num(b['t'])}" if isinstance(b.get("t"), int | float) else ""
        lines += ["", f"balanced   {b['curated_pairs']:,} pairs kept{at} (the balance output)"]
    lines += [f"note: {n}" for n in stats.notes]
    return "\n".join(lines) + "\n"


def _per_pair(rows: list[dict[str, Any]], cap: int = 10) -> str:
    """`0: 922, 1: 423, ..., 10+: 180`: texts by how many entries they matched."""
    shown = [f"{r['matches']}: {r['pairs']:,}" for r in rows if r["matches"] < cap]
    rest = sum(r["pairs"] for r in rows if r["matches"] >= cap)
    return ", ".join(shown + ([f"{cap}+: {rest:,}"] if rest else []))


def _describe_sources(sources: dict[str, Any]) -> str:
    parts = []
    if sources["extract_files"]:
        parts.append(f"{sources['extract_files']:,} extract file(s)")
    if sources["balance_output"]:
        parts.append(f"balance output {sources['balance_output']}")
    if sources["metadata"]:
        parts.append(f"metadata {sources['metadata']} ({sources['metadata_entries']:,} entries)")
    return "; ".join(parts)


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    cells = [header, *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    left = {1} if header[1] == "entry" else set()
    return [
        "  ".join(
            c.ljust(w) if i in left else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in cells
    ]


def _pct(part: float, whole: float = 1.0) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def _num(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,g}"


def _clip(text: str | None, width: int = 32) -> str:
    if text is None:
        return "?"
    return text if len(text) <= width else text[: width - 1] + "…"


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
    return _rows(pool.con, "stats_lang_thresholds.sql")


def format_language_thresholds(rows: list[dict[str, Any]], top: int = 20) -> str:
    """The per-language thresholds as an aligned table."""
    if not rows:
        return ""
    p = rows[0]["p"]
    head = f"\nper language at English's tail proportion p={p:.4f} (balance --worldwide):"
    table = _table(
        ["lang", "matches", "entries", "t", "tail p", "head entries"],
        [
            [
                r["lang"],
                f"{r['matches']:,}",
                f"{r['entries']:,}",
                _num(r["t"]),
                f"{r['tail_proportion']:.4f}",
                f"{r['head_entries']:,}",
            ]
            for r in rows[: max(top, 1)]
        ],
    )
    more = [f"... {len(rows) - top} more languages (--json lists all)"] if len(rows) > top else []
    return "\n".join([head, *table, *more]) + "\n"


# --- plot --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlotResult:
    path: Path
    width: int
    height: int
    entries: int
    matches: int


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
    _check_thresholds(ts, ())
    sqlrunner.run(pool.con, "explore/stats_prepare.sql")
    counts = np.array(
        [row[0] for row in sqlrunner.run(pool.con, "explore/entry_count_values.sql").fetchall()],
        dtype=np.int64,
    )
    if counts.size == 0:
        raise ExploreError("no entry matched anything: nothing to plot")
    rows = _rows(pool.con, "stats_thresholds.sql", ts=sorted({float(t) for t in ts}))
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


# --- shell -------------------------------------------------------------------------------------


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


def _one_line(exc: BaseException | str) -> str:
    return " ".join(str(exc).split())
