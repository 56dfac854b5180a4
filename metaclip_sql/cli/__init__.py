"""The `metaclip-sql` command line: a thin Typer layer over the library API.

Each command parses options, calls one library function and prints its summary; all the work
lives in the modules named for it (extract, balance, metadata_build, explore, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import typer

from metaclip_sql import __version__
from metaclip_sql.errors import MetaclipError

T = TypeVar("T")

app = typer.Typer(
    help="Curate CLIP training data from Common Crawl the MetaCLIP way: extract, balance, explore.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"metaclip-sql {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """metaclip-sql: MetaCLIP curation with a fast extractor and versioned SQL in DuckDB."""


def _or_exit(fn: Callable[..., T], *args: object) -> T:
    """Call a library function; its user-facing errors become one line and exit code 2."""
    try:
        return fn(*args)
    except MetaclipError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def _usage_error(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


# --- extract -----------------------------------------------------------------------------------


@app.command()
def extract(
    inputs: list[str] | None = typer.Argument(
        None,
        help="WARC/WAT shards: files, directories or globs; or URLs (s3://, gs://, https://), "
        "folders of them ending in / and globs.",
    ),
    inputs_from: list[str] | None = typer.Option(
        None,
        "--inputs-from",
        help="A file (or URL) listing inputs, one a line; gzip is read as such, e.g. Common "
        "Crawl's wat.paths.gz.",
    ),
    inputs_base: str | None = typer.Option(
        None,
        "--inputs-base",
        help="Prefix for relative lines of --inputs-from, e.g. https://data.commoncrawl.org/",
    ),
    out: str = typer.Option(
        "matched", "--out", "-o", help="Output directory, or a URL prefix (s3://bucket/matched)."
    ),
    metadata: Path | None = typer.Option(
        None,
        "--metadata",
        "-m",
        help="Metadata list (JSON list, .gz, or one entry per line), or a folder of <lang>.json "
        "lists: each text is matched against its language's list (MetaCLIP 2).",
    ),
    lang: str = typer.Option("en", "--lang", help="Languages to keep: en, all, or a list de,fr."),
    lang_map: Path | None = typer.Option(
        None,
        "--lang-map",
        metavar="FILE",
        help="lid.176 label -> metadata language map (JSON); default: the bundled one.",
    ),
    workers: int = typer.Option(0, "--workers", "-w", help="Shards in parallel (0: all cores)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Redo shards already complete."),
    keep_unmatched: bool = typer.Option(
        False, "--keep-unmatched", help="Keep texts matching no entry (empty entry_ids)."
    ),
    page_timeout: float = typer.Option(
        60.0, "--page-timeout", help="Seconds a page may keep the parser busy before it is skipped."
    ),
    distributor: str = typer.Option(
        "local", "--distributor", help="local (processes here) or ray (one task per shard)."
    ),
    ray_address: str | None = typer.Option(
        None, "--ray-address", help="Ray cluster to join (e.g. auto); default: start one here."
    ),
    max_retries: int = typer.Option(
        3, "--max-retries", help="Ray: retries of a shard whose task dies or raises."
    ),
) -> None:
    """Extract image-text pairs from Common Crawl shards into Parquet, one file per shard."""
    from metaclip_sql.cli.progress import ShardProgress
    from metaclip_sql.extract.lid import parse_lang_option
    from metaclip_sql.extract.run import expand_inputs, read_input_list, run_extract
    from metaclip_sql.extract.shard import ExtractOptions
    from metaclip_sql.io.storage import as_target
    from metaclip_sql.runtime.local import default_workers

    if distributor == "local" and ray_address is not None:
        _usage_error("--ray-address needs --distributor ray")
    if not inputs and not inputs_from:
        _usage_error("give shards, or --inputs-from a file listing them")
    if inputs_base is not None and not inputs_from:
        _usage_error("--inputs-base needs --inputs-from")
    listed = [
        x for listing in inputs_from or () for x in _or_exit(read_input_list, listing, inputs_base)
    ]
    options = ExtractOptions(
        out_dir=as_target(out),
        langs=_or_exit(parse_lang_option, lang),
        keep_unmatched=keep_unmatched,
        overwrite=overwrite,
        page_timeout=page_timeout,
    )
    shards = _or_exit(expand_inputs, [*(inputs or ()), *listed])
    with ShardProgress(len(shards)) as progress:
        summary = _or_exit(
            run_extract,
            shards,
            options,
            metadata,
            workers or (0 if distributor == "ray" else default_workers()),
            progress,
            lang_map,
            distributor,
            ray_address,
            max_retries,
        )
    _print_extract_summary(summary, out.rstrip("/"))
    if summary.failed:
        raise typer.Exit(1)


def _print_extract_summary(summary, out: str) -> None:
    totals = summary.totals
    typer.echo(
        f"{len(summary.shards)} shards ({len(summary.failed)} failed, "
        f"{len(summary.skipped)} already complete) -> {out}/"
    )
    order = ("records", "html_pages", "wat_pages", "img_tags", "texts", "deduped_texts")
    order += ("matched_texts", "rows", "non_http_urls", "errors")
    typer.echo("  " + ", ".join(f"{k} {int(totals[k]):,}" for k in order))
    if totals.get("no_metadata_texts"):
        typer.echo(
            f"  dropped: no metadata for their language {int(totals['no_metadata_texts']):,}"
        )
    bodies = ("stale_encodings", "cut_bodies", "capped_bodies")
    if any(totals.get(k) for k in bodies):
        typer.echo("  bodies: " + ", ".join(f"{k} {int(totals.get(k, 0)):,}" for k in bodies))
    seconds = totals["seconds"]
    pages = totals["html_pages"] + totals["wat_pages"]
    if seconds > 0 and pages:
        typer.echo(f"  {seconds:.1f} shard-seconds, {pages / seconds:,.0f} pages/s per worker")
    if summary.leftovers_note:
        typer.echo(f"  {summary.leftovers_note}")
    for failed in summary.failed:
        typer.echo(f"failed: {failed.messages[-1] if failed.messages else failed.shard}", err=True)


# --- balance -----------------------------------------------------------------------------------


@app.command()
def balance(
    inputs: list[str] = typer.Argument(..., help="Extract outputs: Parquet files, dirs or globs."),
    t: float | None = typer.Option(None, "--t", help="Threshold: head entries keep about t texts."),
    p: float | None = typer.Option(
        None, "--p", help="Tail proportion instead of --t (t picked like the reference p_to_t)."
    ),
    out: Path = typer.Option(Path("balanced"), "--out", "-o", help="Output directory."),
    seed: int = typer.Option(0, "--seed", help="Names the sample: same seed, same rows."),
    lang: str | None = typer.Option(
        None,
        "--lang",
        help="Languages to keep: en, all, or a list de,fr (default en; all with --worldwide).",
    ),
    metadata: Path | None = typer.Option(
        None,
        "--metadata",
        "-m",
        help="The metadata list extract used (names the entries); with --worldwide its folder.",
    ),
    valid_uuids: list[Path] | None = typer.Option(
        None, "--valid-uuids", help="Keep only these images: Parquet (uuid or url) or text files."
    ),
    unit: str | None = typer.Option(
        None, "--unit", help="pair (MetaCLIP 1, the default) or image (MetaCLIP 2, --worldwide's)."
    ),
    memory_limit: str | None = typer.Option(None, "--memory-limit", help="DuckDB limit, e.g. 4GB."),
    threads: int = typer.Option(
        0, "--threads", help="DuckDB threads (0: all cores; with ray, per task, 0 means 1)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Count and decide, write no rows."),
    dry_run_plan: str = typer.Option(
        "auto",
        "--dry-run-plan",
        help="in-memory (read the pool once), streaming (bounded memory) or auto (in-memory when "
        "it fits in half the memory limit). Local, --unit pair, --t only; same numbers.",
    ),
    worldwide: bool = typer.Option(
        False, "--worldwide", help="MetaCLIP 2: a threshold per language (sql/metaclip_v2)."
    ),
    t_en: float | None = typer.Option(
        None, "--t-en", help="With --worldwide: English's threshold (default 170000)."
    ),
    distributor: str = typer.Option(
        "local",
        "--distributor",
        help="local (DuckDB here) or ray (tasks per hash partition of uuid; same rows).",
    ),
    ray_address: str | None = typer.Option(
        None, "--ray-address", help="Ray cluster to join (e.g. auto); default: start one here."
    ),
    partitions: int | None = typer.Option(
        None,
        "--partitions",
        help="Ray: hash partitions of the pool (default: cluster CPUs, or 1 per GB of input).",
    ),
    max_retries: int = typer.Option(
        3, "--max-retries", help="Ray: retries of a task whose worker dies or hits an I/O error."
    ),
) -> None:
    """Balance pairs per metadata entry (MetaCLIP Algorithm 1) with versioned SQL in DuckDB."""
    from metaclip_sql.balance.v1 import balance as run_balance

    if distributor == "local" and (ray_address is not None or partitions is not None):
        _usage_error("--ray-address and --partitions need --distributor ray")
    if worldwide:
        from metaclip_sql.balance.v2 import DEFAULT_T_EN, balance_worldwide

        if distributor != "local":
            _usage_error("--worldwide runs with --distributor local only, for now")
        if t is not None or p is not None:
            _usage_error("--worldwide takes --t-en (English's threshold), not --t or --p")
        if dry_run_plan != "auto":
            _usage_error("--dry-run-plan is for MetaCLIP 1's --unit pair; --worldwide streams")
        result = _or_exit(
            lambda: balance_worldwide(
                inputs,
                t_en=DEFAULT_T_EN if t_en is None else t_en,
                out=out,
                seed=seed,
                lang=lang or "all",
                metadata=metadata,
                valid_uuids=valid_uuids or (),
                unit=unit or "image",
                memory_limit=memory_limit,
                threads=threads or None,
                dry_run=dry_run,
            )
        )
        typer.echo(result.summary())
        return
    if t_en is not None:
        _usage_error("--t-en needs --worldwide")
    lang, unit = lang or "en", unit or "pair"
    result = _or_exit(
        lambda: run_balance(
            inputs,
            t=t,
            p=p,
            out=out,
            seed=seed,
            lang=lang,
            metadata=metadata,
            valid_uuids=valid_uuids or (),
            unit=unit,
            memory_limit=memory_limit,
            threads=threads or None,
            dry_run=dry_run,
            dry_run_plan=dry_run_plan,
            distributor=distributor,
            ray_address=ray_address,
            partitions=partitions,
            max_retries=max_retries,
        )
    )
    typer.echo(result.summary())


# --- metadata ----------------------------------------------------------------------------------

metadata_app = typer.Typer(
    help="Build MetaCLIP-style metadata lists and inspect them.", no_args_is_help=True
)
app.add_typer(metadata_app, name="metadata")


@metadata_app.command("build")
def metadata_build(
    out: Path = typer.Option(..., "--out", "-o", help="List to write (.json, or .json.gz)."),
    size: int = typer.Option(500_000, "--size", min=1, help="Stop at this many entries."),
    lang: str = typer.Option("en", "--lang", help="Language: wordfreq list, pageview project."),
    numbers: bool = typer.Option(
        True, "--numbers/--no-numbers", help='Start with "0".."99", as MetaCLIP does.'
    ),
    wordnet: Path | None = typer.Option(
        None, "--wordnet", metavar="DIR", help="WordNet 3.0 database files: synset head names."
    ),
    wordfreq: bool = typer.Option(False, "--wordfreq", help="wordfreq's words, by frequency."),
    unigrams: Path | None = typer.Option(
        None, "--unigrams", metavar="FILE", help="word<TAB>count lines."
    ),
    min_count: int = typer.Option(100, "--min-count", help="Unigrams counted at least this."),
    bigrams: Path | None = typer.Option(
        None, "--bigrams", metavar="FILE", help="word1<TAB>word2<TAB>count (PMI needs --unigrams)."
    ),
    min_pmi: float = typer.Option(30.0, "--min-pmi", help="Bigrams with PMI (log2) at least."),
    titles: list[str] | None = typer.Option(
        None,
        "--titles",
        metavar="FILE...",
        help="Pageview dumps (`lang title views bytes`): repeat, or a folder or quoted glob.",
    ),
    min_views: int = typer.Option(70, "--min-views", help="Titles with summed views at least."),
) -> None:
    """Build a metadata list from its sources in MetaCLIP's order (see docs/metadata.md)."""
    from metaclip_sql.metadata.build import build_metadata, summary_lines

    result = _or_exit(
        lambda: build_metadata(
            out,
            size=size,
            lang=lang,
            numbers=numbers,
            wordnet=wordnet,
            wordfreq=wordfreq,
            unigrams=unigrams,
            bigrams=bigrams,
            titles=titles or (),
            min_count=min_count,
            min_pmi=min_pmi,
            min_views=min_views,
        )
    )
    for line in summary_lines(result, out):
        typer.echo(line)


@metadata_app.command("info")
def metadata_info(
    path: Path | None = typer.Argument(None, help="Metadata list (default: the bundled one)."),
    examples: int = typer.Option(5, "--examples", help="Examples shown per finding."),
) -> None:
    """Entries, recorded sources, duplicates, longest entry, entries that can never match."""
    from metaclip_sql.metadata.info import format_info, inspect_metadata

    typer.echo(format_info(_or_exit(inspect_metadata, path), examples))


# --- explore: sql, shell, stats, plot ----------------------------------------------------------


def _data_option() -> list[str] | None:
    return typer.Option(
        None,
        "--data",
        "-d",
        help="Extract outputs (folder, glob, Parquet file) or a balance output folder; repeat.",
    )


def _metadata_option() -> Path | None:
    return typer.Option(
        None, "--metadata", "-m", help="The metadata list extract used (default: the bundled one)."
    )


def _lang_option() -> str | None:
    return typer.Option(
        None,
        "--lang",
        help="Only this language (a worldwide pool: --metadata may be its <lang>.json folder).",
    )


def _t_option() -> list[float] | None:
    return typer.Option(None, "--t", help="Threshold t; repeat (default: 20000 and 170000).")


@app.command("sql")
def sql_query(
    query: str = typer.Argument(
        ..., help="SQL over the views pairs, matches, metadata, entry_counts, curated."
    ),
    data: list[str] | None = _data_option(),
    metadata: Path | None = _metadata_option(),
    fmt: str = typer.Option("table", "--format", "-f", help="table, csv, json or parquet."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write here, not stdout."),
    max_rows: int = typer.Option(40, "--max-rows", help="Rows --format table shows."),
) -> None:
    """Run SQL over the pool with its views defined, print a table (or CSV, JSON, Parquet)."""
    from metaclip_sql.explore.views import open_pool, run_query, write_result

    with _or_exit(open_pool, data or (), metadata) as pool:
        result = _or_exit(run_query, pool, query)
        _or_exit(write_result, pool, result, fmt, output, max_rows)


@app.command()
def shell(
    data: list[str] | None = _data_option(),
    metadata: Path | None = _metadata_option(),
    ui: str = typer.Option("duckdb", "--ui", help="duckdb (the CLI, extra `shell`) or harlequin."),
    write_init: Path | None = typer.Option(
        None, "--write-init", help="Only write the init script here (for another DuckDB client)."
    ),
) -> None:
    """Interactive SQL over the pool: DuckDB's CLI with the explore views already defined."""
    from metaclip_sql.explore.views import run_shell, write_init_script

    if write_init is not None:
        path = _or_exit(write_init_script, data or (), metadata, write_init)
        typer.echo(f"wrote {path}; run: duckdb -init {path}  (or harlequin --init-path {path})")
        return
    raise typer.Exit(_or_exit(run_shell, data or (), metadata, ui))


@app.command()
def stats(
    data: list[str] | None = _data_option(),
    metadata: Path | None = _metadata_option(),
    t: list[float] | None = _t_option(),
    p: list[float] | None = typer.Option(
        None, "--p", help="Tail proportion; shows the t that p_to_t gives. Repeat."
    ),
    top: int = typer.Option(20, "--top", help="Head entries and languages listed."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object, for scripts."),
    lang: str | None = _lang_option(),
    t_en: float | None = typer.Option(
        None, "--t-en", help="Also each language's t at English's tail proportion (worldwide)."
    ),
) -> None:
    """Entry distribution of the pool and what each threshold t would keep."""
    from metaclip_sql.explore.views import (
        compute_stats,
        format_language_thresholds,
        format_stats,
        language_thresholds,
        open_pool,
        stats_json,
    )

    with _or_exit(lambda: open_pool(data or (), metadata, lang=lang)) as pool:
        result = _or_exit(compute_stats, pool, t or (), p or (), top)
        if t_en is not None:
            result.language_thresholds = _or_exit(language_thresholds, pool, t_en)
    if as_json:
        typer.echo(stats_json(result), nl=False)
        return
    typer.echo(format_stats(result), nl=False)
    typer.echo(format_language_thresholds(result.language_thresholds, top), nl=False)


@app.command()
def plot(
    data: list[str] | None = _data_option(),
    metadata: Path | None = _metadata_option(),
    t: list[float] | None = _t_option(),
    output: Path = typer.Option(
        Path("entry_counts.png"), "--output", "-o", help="Image to write (.png, .svg, .pdf)."
    ),
    lang: str | None = _lang_option(),
) -> None:
    """Plot the cumulative entry-count curve capped at each t, and the count histogram."""
    from metaclip_sql.explore.views import DEFAULT_TS, open_pool, plot_entry_counts

    with _or_exit(lambda: open_pool(data or (), metadata, lang=lang)) as pool:
        result = _or_exit(plot_entry_counts, pool, output, t or DEFAULT_TS)
    typer.echo(
        f"wrote {result.path} ({result.width}x{result.height} px): "
        f"{result.entries:,} entries, {result.matches:,} matches"
    )


# --- demo --------------------------------------------------------------------------------------


@app.command()
def demo(
    out: Path = typer.Option(Path("demo"), "--out", "-o", help="Where the demo writes."),
    pages: int = typer.Option(300, "--pages", min=1, help="Pages in the sample WARC."),
) -> None:
    """Run the whole job on a sample WARC written by the project: extract, then balance."""
    from metaclip_sql.demo import DEMO_T, run_demo

    typer.echo(f"writing a sample crawl of {pages} pages to {out}/sample.warc.gz")
    result = _or_exit(run_demo, out, pages)
    _print_extract_summary(result.extract, out / "matched")
    typer.echo(f"balance at t={DEMO_T}:")
    typer.echo(result.balance.summary())
    typer.echo(f"next: metaclip-sql balance {out}/matched --t 5 --out {out}/t5 --dry-run")
