"""`metaclip-sql balance`: options in, `balance.balance_command` called (it checks how the
options combine and runs MetaCLIP 1 locally or on Ray, or MetaCLIP 2), its summary printed;
with `--epochs`, online curation's per-epoch summary of the same output."""

from __future__ import annotations

from pathlib import Path

import typer


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
    epochs: int | None = typer.Option(
        None,
        "--epochs",
        help="Also: what online curation keeps in each of the first N epochs (docs/online.md).",
    ),
) -> None:
    """Balance pairs per metadata entry (MetaCLIP Algorithm 1) with versioned SQL in DuckDB."""
    from metaclip_sql.balance import balance_command

    if epochs is not None:
        from metaclip_sql.online import check_epochs

        check_epochs(epochs, worldwide)
    result = balance_command(
        inputs,
        t=t,
        p=p,
        out=out,
        seed=seed,
        lang=lang,
        metadata=metadata,
        valid_uuids=valid_uuids,
        unit=unit,
        memory_limit=memory_limit,
        threads=threads,
        dry_run=dry_run,
        dry_run_plan=dry_run_plan,
        worldwide=worldwide,
        t_en=t_en,
        distributor=distributor,
        ray_address=ray_address,
        partitions=partitions,
        max_retries=max_retries,
    )
    typer.echo(result.summary())
    if epochs is not None:
        from metaclip_sql.online import epochs_summary

        typer.echo(epochs_summary(result.out, epochs, dry_run=result.dry_run).summary())
