"""Inspect a folder of per-language lists (MetaCLIP 2): one line per language.

Per list: entries, duplicates, entries that can never match (`info.never_match_reason`), the
share of entries (among those holding letters) written in the language's script, the lid.176
labels whose texts are matched against it (through the folder's `lang_map.json`, else the
bundled map), and, given a pool from `extract` (Parquet with `lang`, `entry_ids`, `text`), how
many of that language's texts matched and how many distinct entries they matched. The pool is
read with DuckDB directly, not through `explore` (which imports this package).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from metaclip_sql.io import paths
from metaclip_sql.metadata.info import never_match_reason
from metaclip_sql.metadata.lang import folder_lang_map, load_lang_map, metadata_files
from metaclip_sql.metadata.languages import (
    LID176_LABELS,
    WORDFREQ_LANGUAGES,
    lid_labels_for,
    main_script,
    script_share,
)
from metaclip_sql.metadata.load import MetadataError, load_entries, read_sources

#: Characters without which `never_match_reason` cannot find anything (a fast pre-filter).
_MAYBE_UNMATCHABLE = re.compile(r"[,.;:?!`\t\n\r]")
_STATS_KEY = b"metaclip_sql.stats"  # where extract stores a shard's counts (README)
_POOL_COLUMNS = ("lang", "entry_ids")


@dataclass
class ListReport:
    """One language's list, and its texts in the pool when one was given."""

    lang: str
    path: Path
    entries: int
    duplicates: int
    never_match: int
    scripts: tuple[str, ...]
    script_share: float
    labels: list[str]
    unspaced: bool
    sources: str  # "numbers+wordfreq", from the sidecar; "" when not recorded
    texts: int | None = None
    matched: int | None = None
    entries_matched: int | None = None

    @property
    def matched_share(self) -> float | None:
        if not self.texts:
            return None
        return (self.matched or 0) / self.texts


@dataclass
class PoolReport:
    """The pool as a whole: files, rows, rows of languages without a list, texts dropped."""

    files: int
    rows: int
    unmatched_rows: int
    no_list: dict[str, int] = field(default_factory=dict)  # lang -> rows (a different folder?)
    no_metadata_texts: int | None = None  # extract's count of texts it dropped (no list)


@dataclass
class FolderReport:
    directory: Path
    lang_map: str  # where the map came from
    lists: list[ListReport]
    unlisted_labels: list[str]  # lid.176 labels whose texts have no list
    pool: PoolReport | None = None


def inspect_folder(
    directory: str | Path,
    *,
    data: Sequence[str | Path] = (),
    lang_map: str | Path | None = None,
) -> FolderReport:
    """Report on every list in `directory`; `data` (extract's Parquet outputs, folders or
    globs) adds per-language match shares. Raises MetadataError for a folder without lists."""
    directory = Path(directory)
    files = metadata_files(directory)
    map_path = lang_map if lang_map is not None else folder_lang_map(directory)
    mapping = load_lang_map(map_path)
    source = str(map_path) if map_path is not None else "bundled (no lang_map.json in the folder)"
    lists = [
        _list_report(lang, path, mapping.aliases, mapping.unspaced) for lang, path in files.items()
    ]
    unlisted = [label for label in LID176_LABELS if mapping.metadata_lang(label) not in files]
    report = FolderReport(directory, source, lists, unlisted)
    if data:
        report.pool = _add_pool(report, data)
    return report


def _list_report(
    lang: str, path: Path, aliases: dict[str, str], unspaced: frozenset[str]
) -> ListReport:
    entries = load_entries(path)
    never = sum(
        1 for e in entries if _MAYBE_UNMATCHABLE.search(e) and never_match_reason(e) is not None
    )
    known = WORDFREQ_LANGUAGES.get(lang)
    if known is not None:
        scripts = tuple(sorted(known.scripts))
    else:
        found = main_script(entries)
        scripts = (found,) if found else ()
    share, _ = script_share(entries, scripts)
    record = read_sources(path) or {}
    names = [s.get("name", "?") for s in record.get("sources", []) if s.get("added")]
    return ListReport(
        lang=lang,
        path=path,
        entries=len(entries),
        duplicates=len(entries) - len(set(entries)),
        never_match=never,
        scripts=scripts,
        script_share=share,
        labels=lid_labels_for(lang, aliases),
        unspaced=lang in unspaced,
        sources="+".join(names),
    )


def pool_files(data: Sequence[str | Path]) -> list[Path]:
    """Parquet files below `data` that have extract's `lang` and `entry_ids` columns (so a
    balance output's `curated.parquet` counts and its `entry_counts.parquet` does not)."""
    found = paths.expand(data, what="--data", folder=paths.parquet_below)
    usable = []
    for path in found:
        names = set(pq.read_schema(path).names)
        if all(c in names for c in _POOL_COLUMNS):
            usable.append(Path(path))
    if not usable:
        raise MetadataError(f"--data: no Parquet file with columns {', '.join(_POOL_COLUMNS)}")
    return usable


def _add_pool(report: FolderReport, data: Sequence[str | Path]) -> PoolReport:
    files = pool_files(data)
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        params = {"files": [str(f) for f in files]}
        rows = con.execute(
            "SELECT lang, count(*), count(*) FILTER (WHERE len(entry_ids) > 0) "
            "FROM read_parquet($files) GROUP BY lang",
            params,
        ).fetchall()
        used = dict(
            con.execute(
                "SELECT lang, count(DISTINCT e) FROM (SELECT lang, unnest(entry_ids) AS e "
                "FROM read_parquet($files)) GROUP BY lang",
                params,
            ).fetchall()
        )
    except duckdb.Error as exc:
        raise MetadataError(f"--data: {exc}") from exc
    finally:
        con.close()
    by_lang = {lang: (texts, matched, used.get(lang, 0)) for lang, texts, matched in rows}
    for item in report.lists:
        texts, matched, used = by_lang.pop(item.lang, (0, 0, 0))
        item.texts, item.matched, item.entries_matched = texts, matched, used
    total = sum(t for t, _, _ in by_lang.values()) + sum(i.texts or 0 for i in report.lists)
    unmatched = sum(t - m for t, m, _ in by_lang.values())
    unmatched += sum((i.texts or 0) - (i.matched or 0) for i in report.lists)
    return PoolReport(
        files=len(files),
        rows=total,
        unmatched_rows=unmatched,
        no_list={lang: t for lang, (t, _, _) in sorted(by_lang.items())},
        no_metadata_texts=_dropped_texts(files),
    )


def _dropped_texts(files: list[Path]) -> int | None:
    """Texts extract dropped because their language had no list, summed from the shards'
    saved counts; None when no file carries them."""
    total = None
    for path in files:
        raw = (pq.read_metadata(path).metadata or {}).get(_STATS_KEY)
        if not raw:
            continue
        try:
            count = int(json.loads(raw).get("no_metadata_texts", 0))
        except (ValueError, TypeError, AttributeError):
            continue
        total = (total or 0) + count
    return total


def format_folder_info(report: FolderReport) -> str:
    """The table `metaclip-sql metadata info DIR` prints."""
    pool = report.pool
    lines = [
        f"{report.directory}: {len(report.lists)} lists; lang map: {report.lang_map}",
        f"{'lang':<5} {'entries':>9} {'never':>6} {'dup':>4}  {'script share':<22} "
        f"{'lid.176 labels':<16}"
        + (f" {'texts':>7} {'matched':>8} {'entries hit':>11}" if pool else ""),
    ]
    for item in report.lists:
        script = f"{'/'.join(item.scripts) or '?'} {item.script_share:.1%}"
        labels = ",".join(item.labels) or "-"
        flag = "*" if item.unspaced else ""
        line = (
            f"{item.lang + flag:<5} {item.entries:>9,} {item.never_match:>6,} "
            f"{item.duplicates:>4,}  {script:<22} {labels:<16}"
        )
        if pool:
            share = item.matched_share
            shown = f"{share:.1%}" if share is not None else "-"
            line += f" {item.texts or 0:>7,} {shown:>8} {item.entries_matched or 0:>11,}"
        lines.append(line)
    lines.append(
        "never: entries no text can match (padding rules; `metadata info FILE` lists them); "
        "* matched without spaces"
    )
    lines.append(
        f"lid.176 labels with no list here ({len(report.unlisted_labels)}; extract drops their "
        f"texts): {' '.join(report.unlisted_labels) or '-'}"
    )
    if pool:
        lines.append(
            f"pool: {pool.rows:,} rows in {pool.files} files, {pool.unmatched_rows:,} unmatched"
        )
        if pool.unmatched_rows == 0:
            lines.append(
                "  no unmatched rows: extract without --keep-unmatched keeps matches only, so "
                "every share is 100%"
            )
        if pool.no_list:
            found = ", ".join(f"{k} {v:,}" for k, v in pool.no_list.items())
            lines.append(f"  rows of languages without a list in this folder: {found}")
        if pool.no_metadata_texts is not None:
            lines.append(
                f"  texts extract dropped (their language had no list): {pool.no_metadata_texts:,}"
            )
    return "\n".join(lines)
