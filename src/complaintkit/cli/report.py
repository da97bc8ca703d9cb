"""`complaintkit report`."""

from __future__ import annotations

from pathlib import Path

import click

from ..io import check_output_path, read_table
from ..report import build_report, write_report
from ._options import encoding_option, overwrite_option


@click.command("report")
@click.option("--scored", required=True, type=click.Path(path_type=Path), help="Output of `complaintkit score`.")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Report file to write.")
@click.option("--format", "fmt", type=click.Choice(["html", "md", "json", "csv"]), default="html", show_default=True)
@click.option("--text-col", help="Column with the complaint text for examples. Default: guessed.")
@encoding_option
@overwrite_option
def report_command(scored: Path, out: Path, fmt: str, text_col: str | None, overwrite: bool, encoding: str) -> None:
    """Write the root-cause report of a scored table."""
    check_output_path(out, overwrite)
    data = build_report(read_table(scored, encoding=encoding), text_col=text_col)
    write_report(data, out, fmt)
    for line in data["summary"]:
        click.echo(line)
    click.echo(f"wrote {out}")
