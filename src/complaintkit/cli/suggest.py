"""`complaintkit suggest`."""

from __future__ import annotations

from pathlib import Path

import click

from ._options import (
    TABLE_FORMATS,
    examples,
    input_option,
    load_bundle,
    model_option,
    output_option,
    overwrite_option,
    text_col_option,
)


@click.command("suggest", epilog=examples(
    "complaintkit suggest --model models/mine --input unlabelled.csv --n 100 --output to_label.csv"))
@model_option
@input_option(f"Unlabelled complaints to choose from ({TABLE_FORMATS}).", aliases=("--data",))
@click.option("--n", "n", type=click.IntRange(min=1), default=200, show_default=True, help="How many to suggest.")
@output_option("Table of complaints to label next; format from the extension.", aliases=("--out",))
@text_col_option()
@click.option("--pool-factor", type=click.IntRange(min=1), default=5, show_default=True,
              help="Diverse picks are drawn from the N x FACTOR most uncertain complaints.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the diverse draws.")
@overwrite_option
def suggest_command(model_path: Path, input_path: Path, output: Path, text_cols: tuple[str, ...], overwrite: bool,
                    **options: object) -> None:
    """Write the complaints most worth labelling next: uncertain and unlike each other."""
    from ..active_learning import suggest
    from ..io import claim_outputs, read_table, write_table

    with claim_outputs({"--output": output}, inputs={"--input": input_path, "--model": model_path},
                       overwrite=overwrite):
        picked = suggest(load_bundle(model_path), read_table(input_path), text_cols=text_cols or None, **options)
        write_table(picked, output)
    click.echo(f"wrote {len(picked)} complaints to label to {output}")
