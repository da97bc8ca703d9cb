"""`complaintkit score`."""

from __future__ import annotations

from pathlib import Path

import click

from ..customers import write_customer_scores
from ..scoring import score_file
from ._options import load_bundle, model_option, overwrite_option, text_col_option


@click.command("score")
@model_option
@click.option("--input", "input_path", required=True, type=click.Path(path_type=Path),
              help="Table to score (CSV, TSV, JSONL, Parquet file or folder).")
@click.option("--output", required=True, type=click.Path(path_type=Path),
              help="Scored table; format from the extension (.parquet, .csv, .jsonl).")
@text_col_option
@click.option("--id-col", "id_cols", multiple=True, help="Id column that must be present in every row.")
@click.option("--keep-col", "keep_cols", multiple=True, help="Input column to copy to the output (default: all).")
@click.option("--rejects", type=click.Path(path_type=Path), help="Rejected rows. Default: OUTPUT.rejects.EXT.")
@click.option("--chunk-size", type=click.IntRange(min=1), default=5000, show_default=True, help="Rows per chunk.")
@click.option("--max-chars", type=click.IntRange(min=1), default=50_000, show_default=True,
              help="Longer texts are rejected as text_too_long.")
@click.option("--resume", is_flag=True, help="Continue an interrupted run from its last finished chunk.")
@click.option("--fail-on-reject", is_flag=True, help="Exit with code 3 when any row was rejected.")
@click.option("--customer-col", help="Customer id column: also write one aggregated row per customer.")
@click.option("--date-col", help="Complaint date column, for the customers' first/last complaint and span.")
@click.option("--customers-output", type=click.Path(path_type=Path),
              help="Customer-level table. Default: OUTPUT.customers.EXT (needs --customer-col).")
@overwrite_option
def score_command(model_path: Path, fail_on_reject: bool, text_cols: tuple[str, ...],
                  keep_cols: tuple[str, ...], customer_col: str | None, date_col: str | None,
                  customers_output: Path | None, **options: object) -> None:
    """Score complaints: root cause, top-3 causes, needs_review and churn probability."""
    if (date_col or customers_output) and not customer_col:
        raise click.UsageError("--date-col and --customers-output need --customer-col.")
    if keep_cols and customer_col:
        keep_cols = tuple(dict.fromkeys([*keep_cols, customer_col, *([date_col] if date_col else [])]))
    bundle = load_bundle(model_path)
    summary = score_file(bundle, text_cols=text_cols or None, keep_cols=keep_cols or None, **options)
    click.echo(f"read {summary.rows_read} rows: scored {summary.rows_scored}, rejected {summary.rows_rejected}"
               f" {summary.reject_reasons or ''} in {summary.seconds:.1f}s ({summary.rows_per_second:.0f} rows/s)")
    click.echo(f"wrote {summary.output}" + (f" and {summary.rejects}" if summary.rejects else ""))
    if customer_col:
        path, customers = write_customer_scores(bundle, Path(summary.output), customer_col, date_col=date_col,
                                                output=customers_output, text_cols=text_cols or None,
                                                overwrite=bool(options["overwrite"]))
        click.echo(f"wrote {path}: {customers} customers")
    if fail_on_reject and summary.rows_rejected:
        raise SystemExit(3)
