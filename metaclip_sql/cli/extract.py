"""`metaclip-sql extract`: options in, `run_extract` called, the shards' summary printed."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from metaclip_sql.cli import program

if TYPE_CHECKING:
    from metaclip_sql.extract.run import ExtractSummary


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
    from metaclip_sql.extract.run import plan_extract, run_extract

    plan = plan_extract(
        inputs or (),
        inputs_from or (),
        inputs_base,
        out=out,
        lang=lang,
        keep_unmatched=keep_unmatched,
        overwrite=overwrite,
        page_timeout=page_timeout,
        workers=workers,
        distributor=distributor,
        ray_address=ray_address,
    )
    with ShardProgress(len(plan.shards)) as progress:
        summary = run_extract(
            plan.shards,
            plan.options,
            metadata,
            plan.workers,
            progress,
            lang_map,
            distributor,
            ray_address,
            max_retries,
        )
    print_extract_summary(summary, out.rstrip("/"))
    if distributor == "local":  # outputs published, workers joined: nothing left to clean up
        program.exit_now(1 if summary.failed else 0)
    if summary.failed:
        raise typer.Exit(1)


def print_extract_summary(summary: ExtractSummary, out: str | Path) -> None:
    """The run's totals on stdout (and each failed shard on stderr), as `extract` prints them."""
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
