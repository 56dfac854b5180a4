"""`metaclip-sql metadata build` and `metadata info`: options in, `build_metadata` or
`inspect_metadata` called, the result printed."""

from __future__ import annotations

from pathlib import Path

import typer

metadata_app = typer.Typer(
    help="Build MetaCLIP-style metadata lists and inspect them.", no_args_is_help=True
)


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

    result = build_metadata(
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
    for line in summary_lines(result, out):
        typer.echo(line)


@metadata_app.command("info")
def metadata_info(
    path: Path | None = typer.Argument(None, help="Metadata list (default: the bundled one)."),
    examples: int = typer.Option(5, "--examples", help="Examples shown per finding."),
) -> None:
    """Entries, recorded sources, duplicates, longest entry, entries that can never match."""
    from metaclip_sql.metadata.info import format_info, inspect_metadata

    typer.echo(format_info(inspect_metadata(path), examples))
