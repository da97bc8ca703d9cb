"""`complaintkit suggest`."""

from __future__ import annotations

from pathlib import Path

import click

from ._options import load_bundle, model_option, overwrite_option, text_col_option


@click.command("suggest")
@model_option
@click.option("--data", required=True, type=click.Path(path_type=Path), help="Unlabelled complaints to choose from.")
@click.option("--n", "n", type=click.IntRange(min=1), default=200, show_default=True, help="How many to suggest.")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Table of complaints to label next.")
@text_col_option()
@click.option("--pool-factor", type=click.IntRange(min=1), default=5, show_default=True,
              help="Diverse picks are drawn from the N x FACTOR most uncertain complaints.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the diverse draws.")
@overwrite_option
def suggest_command(model_path: Path, data: Path, out: Path, text_cols: tuple[str, ...], overwrite: bool,
                    **options: object) -> None:
    """Write the complaints most worth labelling next: uncertain and unlike each other."""
    from ..active_learning import suggest
    from ..io import claim_outputs, read_table, write_table

    with claim_outputs({"--out": out}, inputs={"--data": data, "--model": model_path}, overwrite=overwrite):
        picked = suggest(load_bundle(model_path), read_table(data), text_cols=text_cols or None, **options)
        write_table(picked, out)
    click.echo(f"wrote {len(picked)} complaints to label to {out}")
