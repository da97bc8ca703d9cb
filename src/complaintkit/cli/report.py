"""`complaintkit report`."""

from __future__ import annotations

from pathlib import Path

import click

from ..report.formats import FORMATS
from ._options import encoding_option, overwrite_option, text_col_option


@click.command("report")
@click.option("--scored", required=True, type=click.Path(path_type=Path), help="Output of `complaintkit score`.")
@click.option("--previous", type=click.Path(path_type=Path), help="Scored table of the previous period, for changes.")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Report file to write.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="html", show_default=True,
              help="html: the full report; md/json: its tables; csv: the cause table.")
@click.option("--by", "by", multiple=True, help="Segment column for cause × segment tables (repeat).")
@text_col_option(default="guessed", multiple=False)
@click.option("--date-col", help="Column with the complaint date, for trends. Default: guessed.")
@click.option("--value-col", help="Column with the money value of each complaint, for money at risk.")
@click.option("--id-col", help="Column identifying the customer or complaint. Default: guessed.")
@click.option("--model", type=click.Path(path_type=Path),
              help="Bundle that scored the table: its training profile is the drift reference (model not loaded).")
@click.option("--state", type=click.Path(path_type=Path),
              help="JSON file keeping emerging-issue ids stable across runs (created if absent).")
@encoding_option
@overwrite_option
def report_command(scored: Path, out: Path, **options: object) -> None:
    """Write the root-cause report of a scored table."""
    from ..report.run import report_file

    data = report_file(scored, out, **options)
    for line in data["summary"]:
        click.echo(line)
    click.echo(f"wrote {out}")
