"""The pool: an in-memory DuckDB with the views of `sql/explore/` over the `--data` inputs.

`open_pool` registers the inputs (extract shards, the metadata list, a balance output's entry
counts and curated rows) and runs the `sql/explore` files that define pairs, matches, metadata,
entry_counts, curated and the macro t_to_p. Every statement is kept, so the shell can replay
them in another DuckDB process.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from duckdb import ColumnExpression, ConstantExpression

from metaclip_sql.duck import sql as sqlrunner
from metaclip_sql.explore.errors import ExploreError, one_line
from metaclip_sql.explore.sources import Sources, resolve_sources
from metaclip_sql.metadata.load import BUNDLED_METADATA, load_entries


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


def fetch_rows(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> list[dict[str, Any]]:
    """Run `sql/explore/<name>` with `params`; its result rows as dicts keyed by column."""
    result = sqlrunner.run(con, f"explore/{name}", params)
    columns = [d[0] for d in result.description]
    return [dict(zip(columns, row, strict=True)) for row in result.fetchall()]


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
        raise ExploreError(f"cannot read {files[0].parent}: {one_line(exc)}") from exc


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
