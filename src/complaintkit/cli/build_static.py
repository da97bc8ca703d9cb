"""`complaintkit build-static`."""

from __future__ import annotations

import click

from ._options import embedding_model_option, examples, overwrite_option


@click.command("build-static", epilog=examples(
    "complaintkit build-static",
    "complaintkit train --input complaints.csv --label-col label --fast-tier --model models/mine"))
@embedding_model_option()
@overwrite_option
def build_static_command(embedding_model: str, overwrite: bool) -> None:
    """Distil the fast tier's static embedding from the local transformer, ahead of training or scoring.

    Otherwise it is built on first use. It goes into the embedding cache folder
    ($COMPLAINTKIT_CACHE_DIR, default ~/.cache/complaintkit); nothing is downloaded.
    """
    from ..embedding.static import build_static_table

    path = build_static_table(embedding_model, overwrite=overwrite)
    click.echo(f"static embedding of {embedding_model} ready in {path}")
