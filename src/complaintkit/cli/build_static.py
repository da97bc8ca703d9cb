"""`complaintkit build-static`."""

from __future__ import annotations

import click

from ..embedding.models import DEFAULT_MODEL
from ._options import overwrite_option


@click.command("build-static")
@click.option("--embedding-model", default=DEFAULT_MODEL, show_default=True,
              help="The transformer to distil (alias or local sentence-transformers folder).")
@overwrite_option
def build_static_command(embedding_model: str, overwrite: bool) -> None:
    """Distil the fast tier's static embedding from the local transformer, ahead of training or scoring.

    Otherwise it is built on first use. It goes into the embedding cache folder
    ($COMPLAINTKIT_CACHE_DIR, default ~/.cache/complaintkit); nothing is downloaded.
    """
    from ..embedding.static import build_static_table

    path = build_static_table(embedding_model, overwrite=overwrite)
    click.echo(f"static embedding of {embedding_model} ready in {path}")
