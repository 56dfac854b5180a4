"""`metaclip-sql metadata build` and `metadata info`: options in, `build_metadata` or
`build_worldwide`, `inspect_metadata` or `inspect_folder` called, the result printed."""

from __future__ import annotations

from pathlib import Path

import typer

metadata_app = typer.Typer(
    help="Build MetaCLIP-style metadata lists and inspect them.", no_args_is_help=True
)


@metadata_app.command("build")
def metadata_build(
    out: Path = typer.Option(
        ..., "--out", "-o", help="List to write (.json, or .json.gz); a folder with --worldwide."
    ),
    size: int = typer.Option(500_000, "--size", min=1, help="Stop at this many entries a list."),
    lang: str | None = typer.Option(
        None, "--lang", help="Language: wordfreq list, pageview project (default en)."
    ),
    worldwide: bool = typer.Option(
        False, "--worldwide", help="One list per language the sources cover, and lang_map.json."
    ),
    wikipedia: Path | None = typer.Option(
        None, "--wikipedia", metavar="DIR", help="--worldwide: per-language dumps in DIR/<lang>/."
    ),
    langs: str | None = typer.Option(
        None, "--langs", help="--worldwide: only these languages (de,ja); default all covered."
    ),
    own_script: bool = typer.Option(
        False, "--own-script", help="--worldwide: drop entries outside the language's script."
    ),
    case_variants: bool = typer.Option(
        True, "--case-variants/--no-case-variants", help="--worldwide: add capitalised words."
    ),
    script_variants: bool = typer.Option(
        True,
        "--script-variants/--no-script-variants",
        help="--worldwide: add other spellings (Traditional Chinese, Serbian Cyrillic, ...).",
    ),
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
    """Build a metadata list from its sources in MetaCLIP's order (see docs/metadata.md), or
    with --worldwide one list per language (see docs/worldwide.md)."""
    if worldwide:
        from metaclip_sql.metadata.worldwide import build_worldwide, check_worldwide_options

        check_worldwide_options(
            lang_given=lang is not None, unigrams=unigrams, bigrams=bigrams, titles=titles or ()
        )
        built = build_worldwide(
            out,
            wordfreq=wordfreq,
            wordnet=wordnet,
            wikipedia=wikipedia,
            langs=langs.split(",") if langs else None,
            size=size,
            numbers=numbers,
            case_variants=case_variants,
            script_variants=script_variants,
            own_script=own_script,
            min_count=min_count,
            min_pmi=min_pmi,
            min_views=min_views,
        )
        for line in built.summary_lines():
            typer.echo(line)
        return
    from metaclip_sql.metadata.build import build_metadata, summary_lines
    from metaclip_sql.metadata.sources import SourceError

    if wikipedia is not None or langs is not None or own_script:
        raise SourceError("--wikipedia, --langs and --own-script go with --worldwide")
    result = build_metadata(
        out,
        size=size,
        lang=lang or "en",
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
    path: Path | None = typer.Argument(
        None, help="Metadata list, or a folder of per-language lists (default: the bundled list)."
    ),
    examples: int = typer.Option(5, "--examples", help="Examples shown per finding."),
    data: list[str] | None = typer.Option(
        None, "--data", "-d", help="A folder: extract outputs, for each language's matched share."
    ),
    lang_map: Path | None = typer.Option(
        None, "--lang-map", help="A folder: lid.176 label -> list map (default: the folder's)."
    ),
) -> None:
    """Entries, recorded sources, duplicates, longest entry, entries that can never match; for
    a folder, the same per language with its lid.176 labels (and matched share with --data)."""
    if path is not None and path.is_dir():
        from metaclip_sql.metadata.folder_info import format_folder_info, inspect_folder

        typer.echo(format_folder_info(inspect_folder(path, data=data or (), lang_map=lang_map)))
        return
    from metaclip_sql.metadata.info import format_info, inspect_metadata
    from metaclip_sql.metadata.load import MetadataError

    if data or lang_map is not None:
        raise MetadataError("--data and --lang-map go with a folder of per-language lists")
    typer.echo(format_info(inspect_metadata(path), examples))
