"""`metaclip-sql balance`: options in, MetaCLIP 1's `balance` or MetaCLIP 2's
`balance_worldwide` called, its summary printed.

The checks of how the options combine are still here, as they were in the one-module CLI; they
move into balance's library entry point when it has them.
"""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

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
        result = balance_worldwide(
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
        typer.echo(result.summary())
        return
    if t_en is not None:
        _usage_error("--t-en needs --worldwide")
    lang, unit = lang or "en", unit or "pair"
    result = run_balance(
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
    typer.echo(result.summary())


def _usage_error(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)
