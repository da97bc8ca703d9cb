"""`complaintkit score`."""

from __future__ import annotations

from pathlib import Path

import click

from ..scoring import score_file
from ._options import load_bundle, model_option, text_col_option
from ._run_options import report_run, run_options


@click.command("score")
@model_option
@text_col_option
@run_options
@click.option("--explain", is_flag=True,
              help="Add the 3 nearest training complaints and the top terms behind each root cause.")
@click.option("--language", is_flag=True, help="Add the detected language of each complaint (ISO 639-1).")
def score_command(model_path: Path, text_cols: tuple[str, ...], keep_cols: tuple[str, ...],
                  reject_exit_code: int, summary_json: Path | None, **options: object) -> None:
    """Score complaints: root cause, top-3 causes, needs_review and churn probability.

    Every input row ends in the output (input order, row_number) or in the rejects file
    with a reject_reason; the exit code is --reject-exit-code when anything was rejected.
    """
    bundle = load_bundle(model_path)
    summary = score_file(bundle, text_cols=text_cols or None, keep_cols=keep_cols or None, **options)
    report_run(summary, reject_exit_code, summary_json)
