"""The `metaclip-sql` command line: a thin Typer layer over the library API.

Each command parses options, calls one library function and prints its summary; all the work
lives in the modules named for it (extract, balance, metadata_build, explore, ...).
"""

from __future__ import annotations

import typer

from metaclip_sql import __version__

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


# --- extract -----------------------------------------------------------------------------------

# --- balance -----------------------------------------------------------------------------------

# --- metadata ----------------------------------------------------------------------------------

# --- explore: sql, shell, stats, plot ----------------------------------------------------------

# --- demo --------------------------------------------------------------------------------------
