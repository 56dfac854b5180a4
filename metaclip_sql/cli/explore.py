"""`metaclip-sql sql`, `shell`, `stats` and `plot`: options in, one `metaclip_sql.explore` call,
its result printed."""

from __future__ import annotations

from pathlib import Path

import typer


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
    from metaclip_sql.explore import run_sql

    run_sql(query, data or (), metadata, fmt, output, max_rows)


def shell(
    data: list[str] | None = _data_option(),
    metadata: Path | None = _metadata_option(),
    ui: str = typer.Option("duckdb", "--ui", help="duckdb (the CLI, extra `shell`) or harlequin."),
    write_init: Path | None = typer.Option(
        None, "--write-init", help="Only write the init script here (for another DuckDB client)."
    ),
) -> None:
    """Interactive SQL over the pool: DuckDB's CLI with the explore views already defined."""
    from metaclip_sql.explore import run_shell, write_init_script

    if write_init is not None:
        path = write_init_script(data or (), metadata, write_init)
        typer.echo(f"wrote {path}; run: duckdb -init {path}  (or harlequin --init-path {path})")
        return
    raise typer.Exit(run_shell(data or (), metadata, ui))


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
    from metaclip_sql.explore import pool_stats, stats_json, stats_report

    result = pool_stats(data or (), metadata, t or (), p or (), top, lang=lang, t_en=t_en)
    typer.echo(stats_json(result) if as_json else stats_report(result, top), nl=False)


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
    from metaclip_sql.explore import plot_pool

    result = plot_pool(data or (), metadata, output, t or (), lang=lang)
    typer.echo(
        f"wrote {result.path} ({result.width}x{result.height} px): "
        f"{result.entries:,} entries, {result.matches:,} matches"
    )
