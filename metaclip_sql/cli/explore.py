"""`metaclip-sql sql`, `shell`, `stats`, `plot`, `report` and `explain`: options in, one
`metaclip_sql.explore` call, its result printed."""

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


def _survival_option() -> float | None:
    return typer.Option(
        None,
        "--survival",
        help="Share of images expected to survive download and filtering (0-1]: the t to "
        "curate with now so that balancing the survivors at --t still fills the head.",
    )


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
    survival: float | None = _survival_option(),
    unit: str = typer.Option(
        "pair", "--unit", help="With --survival: the unit balance will run with (pair or image)."
    ),
) -> None:
    """Entry distribution of the pool and what each threshold t would keep."""
    from metaclip_sql.explore import pool_stats, stats_json, stats_report

    if survival is not None:
        _stats_with_survival(data, metadata, t, p, top, as_json, lang, t_en, survival, unit)
        return
    result = pool_stats(data or (), metadata, t or (), p or (), top, lang=lang, t_en=t_en)
    typer.echo(stats_json(result) if as_json else stats_report(result, top), nl=False)


def _stats_with_survival(
    data: list[str] | None,
    metadata: Path | None,
    t: list[float] | None,
    p: list[float] | None,
    top: int,
    as_json: bool,
    lang: str | None,
    t_en: float | None,
    survival: float,
    unit: str,
) -> None:
    import json

    from metaclip_sql.explore import (
        format_survival,
        stats_json,
        stats_report,
        stats_with_survival,
        survival_json,
    )

    result, plans = stats_with_survival(
        data or (),
        metadata,
        t or (),
        p or (),
        top,
        survival=survival,
        unit=unit,
        lang=lang,
        t_en=t_en,
    )
    if as_json:
        record = json.loads(stats_json(result))
        record["survival"] = survival_json(plans)
        typer.echo(json.dumps(record, indent=2, ensure_ascii=False))
    else:
        typer.echo(stats_report(result, top) + format_survival(plans), nl=False)


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


def report(
    data: list[str] | None = _data_option(),
    metadata: Path | None = _metadata_option(),
    t: list[float] | None = typer.Option(
        None, "--t", help="Threshold t; repeat (default: the balance output's, else 20000, 170000)."
    ),
    out: Path = typer.Option(Path("report.html"), "--out", "-o", help="The HTML file to write."),
    lang: str | None = _lang_option(),
    t_en: float | None = typer.Option(
        None, "--t-en", help="English's t for the per-language thresholds (default: the first t)."
    ),
    survival: float | None = _survival_option(),
    unit: str | None = typer.Option(
        None,
        "--unit",
        help="With --survival: pair or image (default: the balance run's, else pair).",
    ),
    top: int = typer.Option(20, "--top", help="Top entries and languages listed (at most 100)."),
    samples: int = typer.Option(3, "--samples", help="Head and tail entries with sample texts."),
) -> None:
    """One self-contained HTML page about the pool and a balance output, to judge them by eye."""
    from metaclip_sql.explore import write_report

    result = write_report(
        data or (),
        out,
        metadata,
        t or (),
        lang=lang,
        t_en=t_en,
        survival=survival,
        unit=unit,
        top=top,
        samples=samples,
    )
    typer.echo(f"wrote {result.path} ({result.bytes / 1e3:,.0f} kB) in {result.seconds:.1f} s")


def explain(
    data: list[str] | None = _data_option(),
    uuid: str | None = typer.Option(None, "--uuid", help="The image's uuid: every text of it."),
    url: str | None = typer.Option(None, "--url", help="The image URL: every text of it."),
    text_like: str | None = typer.Option(
        None, "--text-like", help="A LIKE pattern on the text (case-sensitive; % and _)."
    ),
    fmt: str = typer.Option("table", "--format", "-f", help="table or json."),
    t: float | None = typer.Option(
        None, "--t", help="Without a balance output: the threshold to decide with."
    ),
    seed: int | None = typer.Option(None, "--seed", help="Without a balance output (default 0)."),
    unit: str | None = typer.Option(
        None, "--unit", help="Without a balance output: pair (default) or image."
    ),
    lang: str | None = typer.Option(
        None, "--lang", help="Without a balance output: balance's --lang (default en)."
    ),
    metadata: Path | None = _metadata_option(),
    limit: int = typer.Option(20, "--limit", help="Pairs shown at most."),
) -> None:
    """Why a pair was kept or dropped: its entries, counts, p, u and balance's decision."""
    from metaclip_sql.explore import (
        EXPLAIN_FORMATS,
        ExploreError,
        explanation_json,
        format_explanation,
    )
    from metaclip_sql.explore import explain as run_explain

    if fmt not in EXPLAIN_FORMATS:
        raise ExploreError(f"--format must be table or json, got {fmt!r}")
    result = run_explain(
        data or (),
        uuid=uuid,
        url=url,
        text_like=text_like,
        metadata=metadata,
        t=t,
        seed=seed,
        unit=unit,
        lang=lang,
        limit=limit,
    )
    typer.echo(explanation_json(result) if fmt == "json" else format_explanation(result), nl=False)
    if fmt == "json" and result.notes:
        for note in result.notes:
            typer.echo(f"note: {note}", err=True)
