"""The `metaclip-sql` command line: a thin Typer layer over the library API.

One module per command group, each parsing its options and calling one library function:
`extract`, `balance`, `metadata` (build, info), `explore` (sql, shell, stats, plot, report,
explain), `online` (img2dataset-input) and `demo`; `progress` is extract's progress display. This module holds the app,
`--version` and the one rule for errors: a `MetaclipError` (the user's input or options) is
printed as one line and the exit code is 2; any other exception is a bug and shows its
traceback.
"""

from __future__ import annotations

from typing import Any

import click
import typer
from typer.core import TyperGroup

from metaclip_sql import __version__
from metaclip_sql.cli import balance, demo, explore, extract, metadata, online
from metaclip_sql.errors import MetaclipError


class OneLineErrors(TyperGroup):
    """The command group that turns a `MetaclipError` from any command into one line on stderr
    and exit code 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MetaclipError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None


app = typer.Typer(
    cls=OneLineErrors,
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


app.command("extract")(extract.extract)
app.command("balance")(balance.balance)
app.add_typer(metadata.metadata_app, name="metadata")
app.command("sql")(explore.sql_query)
app.command("shell")(explore.shell)
app.command("stats")(explore.stats)
app.command("plot")(explore.plot)
app.command("report")(explore.report)
app.command("explain")(explore.explain)
app.command("img2dataset-input")(online.img2dataset_input)
app.command("demo")(demo.demo)

__all__ = ["app"]
