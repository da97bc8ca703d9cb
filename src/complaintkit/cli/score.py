"""`complaintkit score`."""

from __future__ import annotations

from pathlib import Path

import click

from ._options import load_bundle, model_option, text_col_option
from ._run_options import check_side_outputs, report_run, run_options


@click.command("score")
@model_option
@text_col_option()
@run_options
@click.option("--explain", is_flag=True,
              help="Add the 3 nearest training complaints and the top terms behind each root cause.")
@click.option("--language", is_flag=True, help="Add the detected language of each complaint (ISO 639-1).")
@click.option("--customer-col", help="Customer id column: also write one aggregated row per customer.")
@click.option("--date-col", help="Complaint date column, for the customers' first/last complaint and span.")
@click.option("--customers-output", type=click.Path(path_type=Path),
              help="Customer-level table. Default: OUTPUT.customers.EXT (needs --customer-col).")
def score_command(model_path: Path, text_cols: tuple[str, ...], keep_cols: tuple[str, ...],
                  reject_exit_code: int, summary_json: Path | None, customer_col: str | None,
                  date_col: str | None, customers_output: Path | None, **options: object) -> None:
    """Score complaints: root cause, top-3 causes, needs_review and churn probability.

    Every input row ends in the output (input order, row_number) or in the rejects file
    with a reject_reason; the exit code is --reject-exit-code when anything was rejected.
    With --customer-col, one aggregated row per customer is written as well.
    """
    from ..customers import write_customer_scores
    from ..scoring.run import score_file

    if (date_col or customers_output) and not customer_col:
        raise click.UsageError("--date-col and --customers-output need --customer-col.")
    check_side_outputs(options, summary_json=summary_json, customers_output=customers_output)
    if keep_cols and customer_col:
        keep_cols = tuple(dict.fromkeys([*keep_cols, customer_col, *([date_col] if date_col else [])]))
    bundle = load_bundle(model_path)
    summary = score_file(bundle, text_cols=text_cols or None, keep_cols=keep_cols or None, **options)
    if customer_col:
        path, customers = write_customer_scores(bundle, Path(summary.output), customer_col, date_col=date_col,
                                                output=customers_output, text_cols=text_cols or None,
                                                overwrite=bool(options["overwrite"]))
        click.echo(f"wrote {path}: {customers} customers")
    report_run(summary, reject_exit_code, summary_json)
