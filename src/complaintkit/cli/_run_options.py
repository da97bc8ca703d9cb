"""Options shared by the streaming commands (`score`, `embed`) and how they report a run."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..io.spreadsheet import FORMULA_POLICIES
from ..scoring.choices import ENGINES, TOO_LONG_POLICIES
from ._options import (
    TABLE_FORMATS,
    PathOrUri,
    encoding_option,
    input_option,
    output_option,
    overwrite_option,
    precision_option,
)

if TYPE_CHECKING:
    from ..scoring.job import ScoreSummary

_OPTIONS = [
    input_option(f"Table to read ({TABLE_FORMATS}); `-` reads JSON lines (or lines of text) from stdin "
                 "and writes JSON lines to stdout (score only). With --engine spark also a URI "
                 "(hdfs://, s3a://, abfss://, file://).", uris=True),
    output_option("Output table; format from the extension (.parquet, .csv, .tsv, .jsonl). With --engine spark: "
                  "a Parquet dataset (folder of parts, path or URI); see --single-file.", required=False,
                  aliases=("--out",), uris=True),
    click.option("--id-col", "id_cols", multiple=True,
                 help="Id column that must be filled in every row; always copied to the output."),
    click.option("--keep-col", "keep_cols", multiple=True, help="Input column to copy to the output (default: all)."),
    click.option("--rejects", type=PathOrUri(path_type=Path), help="Rejected rows. Default: OUTPUT.rejects.EXT."),
    click.option("--chunk-size", type=click.IntRange(min=1), default=5000, show_default=True,
                 help="Rows per chunk (the unit of streaming and of --resume)."),
    click.option("--max-chars", type=click.IntRange(min=1), default=50_000, show_default=True,
                 help="Texts longer than this are handled by --too-long."),
    click.option("--too-long", type=click.Choice(TOO_LONG_POLICIES), default="reject", show_default=True,
                 help="Reject over-long texts (text_too_long) or truncate them and set text_truncated."),
    precision_option,
    encoding_option,
    click.option("--resume", is_flag=True, help="Continue an interrupted run from its last finished chunk."),
    click.option("--engine", type=click.Choice(ENGINES), default="local", show_default=True,
                 help="local (this machine) or spark (PySpark; pip install 'complaintkit[spark]')."),
    click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
                 help="Local engine: processes, each loading the model once."),
    click.option("--threads", type=click.IntRange(min=1), default=None,
                 help="Torch threads per process. Default: cores/workers; with 1 process torch's own "
                      "(one per core), or 1 when the load average is at least cores + 1."),
    click.option("--spark-master", default=None,
                 help="Spark master URL. Default: the active session, else local[*]."),
    click.option("--single-file", is_flag=True,
                 help="Spark: write the output and rejects as one Parquet file each, sorted by row_number "
                      "(one task writes all rows: slower on big inputs)."),
    click.option("--partition-by", default=None, metavar="COLUMN",
                 help="Spark: one folder of the output dataset per value of this output column."),
    click.option("--spark-batch-rows", "batch_rows", type=click.IntRange(min=1), default=None,
                 help="Spark: rows per batch, the unit of --resume [default: 200000]."),
    click.option("--reject-exit-code", type=click.IntRange(0, 255), default=3, show_default=True,
                 help="Exit code when any row was rejected (0: rejects are not an error)."),
    click.option("--csv-formulas", type=click.Choice(FORMULA_POLICIES), default="neutralise", show_default=True,
                 help="CSV/TSV outputs: a text cell starting with = + - @, a tab or a carriage return (which a "
                      "spreadsheet would run as a formula) gets a leading ' (neutralise), or is written as it is "
                      "(keep). Plain numbers such as -12.5 are never changed."),
    click.option("--summary-json", type=click.Path(path_type=Path), help="Also write the run summary as JSON."),
    overwrite_option,
]


def run_options(command: Callable) -> Callable:
    """Decorate ``command`` with the options of a streaming run."""
    for option in reversed(_OPTIONS):
        command = option(command)
    return command


STDIN = Path("-")


def check_paths(input_path: Path, output: Path | None, stdin_ok: bool) -> None:
    """Refuse a missing ``--output``, and ``--input -`` where stdin is not read."""
    if input_path == STDIN and not stdin_ok:
        raise click.UsageError("--input - (stdin) is read by `score` and `predict`; name a file here.")
    if input_path != STDIN and output is None:
        raise click.UsageError("Missing option '--output': name the table to write, e.g. --output scored.parquet.")
    if input_path == STDIN and output not in (None, STDIN):
        raise click.UsageError("with --input - the output is JSON lines on stdout; drop --output.")


def check_side_outputs(options: dict, **side: Path | None) -> None:
    """Check the run's other outputs (``--summary-json``, ``--customers-output``) before it starts.

    Like the main output they are never an input or another output, and replace a file only
    with ``--overwrite``.
    """
    from ..io import check_distinct, check_output_path

    named = {f"--{name.replace('_', '-')}": path for name, path in side.items()}
    check_distinct({"--input": options["input_path"]}, {"--output": options["output"], **named})
    for path in named.values():
        if path is not None:
            check_output_path(path, bool(options["overwrite"]))


def report_run(summary: ScoreSummary, reject_exit_code: int, summary_json: Path | None) -> None:
    """Print ``summary``, write it as JSON if asked, and exit with ``reject_exit_code`` on rejects."""
    click.echo(f"read {summary.rows_read} rows: ok {summary.rows_scored}, rejected {summary.rows_rejected}"
               f" {summary.reject_reasons or ''} in {summary.seconds:.1f}s ({summary.rows_per_second:.0f} rows/s, "
               f"encoder {summary.encoder})")
    click.echo(f"wrote {summary.output}" + (f" and {summary.rejects}" if summary.rejects else ""))
    if summary_json is not None:
        summary_json.write_text(json.dumps(summary.to_dict(), indent=2))
    if summary.rows_rejected and reject_exit_code:
        raise SystemExit(reject_exit_code)
