"""`complaintkit report`."""

from __future__ import annotations

from pathlib import Path

import click

from ..report.formats import FORMATS
from ._options import encoding_option, examples, input_option, output_option, overwrite_option, text_col_option


@click.command("report", epilog=examples(
    "complaintkit report --input scored.parquet --output report.html",
    "complaintkit report --input scored.parquet --previous last_month.parquet --by state --output report.html",
    "complaintkit report --input scored.parquet --format md --output report.md"))
@input_option("Scored table written by `complaintkit score`.", aliases=("--scored",))
@click.option("--previous", type=click.Path(path_type=Path), help="Scored table of the previous period, for changes.")
@output_option("Report file to write (see --format).", aliases=("--out",))
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
def report_command(input_path: Path, output: Path, **options: object) -> None:
    """Write the root-cause report of a scored table: causes, trends, segments, churn risk, drift."""
    from ..report.run import report_file

    data = report_file(input_path, output, **options)
    for line in data["summary"]:
        click.echo(line)
    click.echo(f"wrote {output}")
