"""`metaclip-sql demo`: the whole job on a sample WARC (`metaclip_sql.demo.run_demo`), each
stage's summary printed."""

from __future__ import annotations

from pathlib import Path

import typer

from metaclip_sql.cli.extract import print_extract_summary


def demo(
    out: Path = typer.Option(Path("demo"), "--out", "-o", help="Where the demo writes."),
    pages: int = typer.Option(300, "--pages", min=1, help="Pages in the sample WARC."),
) -> None:
    """Run the whole job on a sample WARC written by the project: extract, then balance."""
    from metaclip_sql.demo import DEMO_T, run_demo

    typer.echo(f"writing a sample crawl of {pages} pages to {out}/sample.warc.gz")
    result = run_demo(out, pages)
    print_extract_summary(result.extract, out / "matched")
    typer.echo(f"balance at t={DEMO_T}:")
    typer.echo(result.balance.summary())
    typer.echo(f"next: metaclip-sql balance {out}/matched --t 5 --out {out}/t5 --dry-run")
