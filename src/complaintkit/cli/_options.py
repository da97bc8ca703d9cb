"""Options shared by several commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..bundle import Bundle

model_option = click.option(
    "--model", "model_path", required=True, type=click.Path(path_type=Path),
    help="Bundle folder written by `complaintkit train` (e.g. models/cfpb).")
text_col_option = click.option(
    "--text-col", "text_cols", multiple=True,
    help="Column holding the complaint text (repeat to join several). Default: the bundle's.")
overwrite_option = click.option("--overwrite", is_flag=True, help="Replace the output if it exists.")


def load_bundle(path: Path) -> Bundle:
    """Load a bundle for a command."""
    return Bundle.load(path)


def echo_json(data: Any) -> None:
    """Print ``data`` as indented JSON on stdout."""
    click.echo(json.dumps(data, indent=2, default=str))
