"""`metaclip-sql img2dataset-input`: options in, `online.img2dataset_input` called, the file
named. It writes the pairs to download in a form img2dataset carries into every sample's json,
so `OnlineCuration`'s loader filters can read them (docs/online.md)."""

from __future__ import annotations

from pathlib import Path

import typer


def img2dataset_input(
    inputs: list[str] = typer.Argument(
        ..., help="Extract outputs or a balance's curated.parquet: files, dirs or globs."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="The Parquet to write for img2dataset."),
    lang: str = typer.Option("en", "--lang", help="Languages to keep: en, all, or a list de,fr."),
    valid_uuids: list[Path] | None = typer.Option(
        None, "--valid-uuids", help="Keep only these images: Parquet (uuid or url) or text files."
    ),
    image_keys: bool = typer.Option(
        False, "--image-keys", help="Add each image's text keys (for --unit image online)."
    ),
) -> None:
    """Write the pairs to download for img2dataset: url, caption, uuid, entry_ids, lang and
    pair_key as a string (img2dataset drops samples whose pair_key is a UUID object)."""
    from metaclip_sql.online import img2dataset_input as write

    path = write(
        inputs,
        out,
        lang=lang,
        valid_uuids=valid_uuids or (),
        image_keys=image_keys,
    )
    columns = '["uuid","entry_ids","pair_key","lang"' + (',"image_keys"]' if image_keys else "]")
    typer.echo(f"wrote {path}")
    typer.echo(
        f"  img2dataset --url_list {path} --input_format parquet --url_col url "
        f"--caption_col caption --save_additional_columns '{columns}' ..."
    )
