"""The sources of a metadata list: each yields candidate entries lazily, in its own order.

MetaCLIP's order (docs/algorithm.md, section 1) is the strings "0".."99", WordNet synset head names,
Wikipedia unigrams, Wikipedia bigrams by PMI, Wikipedia titles by page views; wordfreq stands
in for Wikipedia unigrams when no counts are at hand. The counting sources are SQL files under
`sql/metadata/`, run in DuckDB over views that `text_view` defines on the input files, so
multi-GB inputs stream instead of loading into Python.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv

from metaclip_sql.duck import sql as sqlrunner
from metaclip_sql.errors import MetaclipError
from metaclip_sql.io import paths
from metaclip_sql.metadata import wordnet

UNIGRAM_COLUMNS = {"word": "VARCHAR", "count": "BIGINT"}
BIGRAM_COLUMNS = {"word1": "VARCHAR", "word2": "VARCHAR", "count": "BIGINT"}
PAGEVIEW_COLUMNS = {"project": "VARCHAR", "title": "VARCHAR", "views": "BIGINT", "bytes": "BIGINT"}
_ARROW_TYPES = {"VARCHAR": pa.string(), "BIGINT": pa.int64()}
# wordfreq replaces the digits of multi-digit numbers by zeros ("00th", "0,000"): not words.
_SMASHED_NUMBER = re.compile(r"\d[\d.,]+")
_FETCH_ROWS = 10_000


class SourceError(MetaclipError):
    """A source that cannot be read as asked (missing file, missing package, bad option)."""


def numbers() -> Iterator[str]:
    """The strings "0".."99", which MetaCLIP puts before every other source."""
    return (str(i) for i in range(100))


def wordnet_names(directory: str | Path) -> Iterator[str]:
    """WordNet synset head names (noun, verb, adj, adv files, in file order)."""
    try:
        wordnet.data_files(directory)
    except wordnet.WordNetError as exc:
        raise SourceError(str(exc)) from exc
    return wordnet.head_names(directory)


def wordfreq_wordlist(lang: str) -> tuple[str, str]:
    """wordfreq's biggest list for `lang` ('large', else 'small') and the package version."""
    try:
        import wordfreq
    except ImportError as exc:
        raise SourceError(
            "--wordfreq needs the wordfreq package: pip install 'metaclip-sql[metadata]'"
        ) from exc
    from importlib.metadata import version

    for name in ("large", "small"):
        if lang in wordfreq.available_languages(name):
            return name, version("wordfreq")
    raise SourceError(f"wordfreq has no word list for language {lang!r}")


def wordfreq_words(lang: str) -> Iterator[str]:
    """wordfreq's words for `lang` by descending frequency, without digit-smashed numbers."""
    import wordfreq

    wordlist, _ = wordfreq_wordlist(lang)
    for word in wordfreq.iter_wordlist(lang, wordlist):
        if not _SMASHED_NUMBER.search(word):
            yield word


def scored_unigrams(path: str | Path, min_count: int) -> Iterator[tuple[str, int]]:
    """(word, summed count) with count >= `min_count`, most frequent first."""
    con = _connect()
    text_view(con, "unigram_counts", [path], UNIGRAM_COLUMNS, "\t")
    params = {"min_count": min_count}
    return _rows(con, "metadata/unigram_entries.sql", params)


def scored_bigrams(
    unigrams_path: str | Path, bigrams_path: str | Path, min_pmi: float
) -> Iterator[tuple[str, float, int]]:
    """("word1 word2", pmi, count) with pmi >= `min_pmi`, highest PMI first."""
    con = _connect()
    text_view(con, "unigram_counts", [unigrams_path], UNIGRAM_COLUMNS, "\t")
    text_view(con, "bigram_counts", [bigrams_path], BIGRAM_COLUMNS, "\t")
    return _rows(con, "metadata/bigram_entries.sql", {"min_pmi": float(min_pmi)})


def scored_titles(
    paths: Sequence[str | Path], projects: Sequence[str], min_views: int, min_row_views: int
) -> Iterator[tuple[str, int]]:
    """(title, summed views) over all pageview dump files, most viewed first.

    Malformed lines are skipped (real dumps have a few); MetaCLIP's parser would stop on them.
    """
    con = _connect()
    text_view(con, "pageview_lines", paths, PAGEVIEW_COLUMNS, " ", ignore_errors=True)
    params = {
        "projects": list(projects),
        "min_views": min_views,
        "min_row_views": min_row_views,
    }
    return _rows(con, "metadata/title_entries.sql", params)


def _connect() -> duckdb.DuckDBPyConnection:
    """A private in-memory database; DuckDB's progress bar only on a terminal, not in logs."""
    con = duckdb.connect()
    if not sys.stderr.isatty():
        con.execute("SET enable_progress_bar = false")  # a session setting, not a query
    return con


def expand_paths(values: Iterable[str | Path]) -> list[Path]:
    """Files named by `values`: a file, a folder (its files, sorted) or a quoted glob pattern."""
    return [Path(p) for p in paths.expand(values, what="source")]


def text_view(
    con: duckdb.DuckDBPyConnection,
    name: str,
    paths: Sequence[str | Path],
    columns: dict[str, str],
    delimiter: str,
    ignore_errors: bool = False,
) -> None:
    """Define view `name` over delimited text files: plain, gzip or zstd by DuckDB, bz2 by Arrow.

    Compression is told by the file's first bytes, not its name. Quotes are ordinary
    characters and empty fields are NULL, in both readers.
    """
    groups: dict[str, list[str]] = {}
    for path in paths:
        groups.setdefault(compression(path), []).append(str(path))
    relations = []
    for kind, files in groups.items():
        if kind == "bz2":
            reader = _arrow_reader(files, columns, delimiter, ignore_errors)
            relations.append(con.from_arrow(reader))
        else:
            relations.append(_duckdb_csv(con, files, kind, columns, delimiter, ignore_errors))
    if not relations:
        raise SourceError(f"no input files for {name}")
    relation = relations[0]
    for other in relations[1:]:
        relation = relation.union(other)
    relation.create_view(name)


def compression(path: str | Path) -> str:
    """'gzip', 'zstd', 'bz2' or 'none', from the file's magic bytes."""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc}") from exc
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"\x28\xb5\x2f\xfd"):
        return "zstd"
    if head.startswith(b"BZh"):
        return "bz2"
    return "none"


def _duckdb_csv(
    con: duckdb.DuckDBPyConnection,
    files: list[str],
    kind: str,
    columns: dict[str, str],
    delimiter: str,
    ignore_errors: bool,
) -> duckdb.DuckDBPyRelation:
    return con.read_csv(
        files,
        sep=delimiter,
        header=False,
        quotechar="",
        escapechar="",
        columns=columns,
        auto_detect=False,
        compression=kind,
        ignore_errors=ignore_errors,
    )


def _arrow_reader(
    files: list[str], columns: dict[str, str], delimiter: str, ignore_errors: bool
) -> pa.RecordBatchReader:
    """One streaming reader over several bz2 files (DuckDB cannot read bz2)."""
    schema = pa.schema([(name, _ARROW_TYPES[kind]) for name, kind in columns.items()])
    read = pacsv.ReadOptions(column_names=list(columns), block_size=1 << 24)
    parse = pacsv.ParseOptions(
        delimiter=delimiter,
        quote_char=False,
        escape_char=False,
        invalid_row_handler=(lambda _row: "skip") if ignore_errors else None,
    )
    convert = pacsv.ConvertOptions(column_types=schema, null_values=[""], strings_can_be_null=True)

    def batches() -> Iterator[pa.RecordBatch]:
        for file in files:
            stream = pa.input_stream(file, compression="bz2")
            yield from pacsv.open_csv(stream, read, parse, convert)

    return pa.RecordBatchReader.from_batches(schema, batches())


def _rows(
    con: duckdb.DuckDBPyConnection, sql_name: str, params: dict[str, Any]
) -> Iterator[tuple[Any, ...]]:
    """Rows of one SQL file, fetched in chunks; the connection closes when the rows end."""
    try:
        result = sqlrunner.run(con, sql_name, params)
        while rows := result.fetchmany(_FETCH_ROWS):
            yield from rows
    except (duckdb.Error, pa.ArrowException) as exc:
        raise SourceError(f"{sql_name}: {exc}") from exc
    finally:
        con.close()
