"""`complaintkit score`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ._options import cascade_option, examples, load_bundle, model_option, text_col_option
from ._run_options import STDIN, check_paths, check_side_outputs, report_run, run_options

_COLUMNS = """\b
Output columns (types and details: docs/output-columns.md in the complaintkit repository):
  row_number            int     input row, from 0 in file order
  <kept input columns>          --id-col and --keep-col (default: all)
  root_cause            str     most probable root cause
  root_cause_proba      float   its calibrated probability
  root_cause_2, _3      str     the runners-up, with root_cause_2_proba, root_cause_3_proba
  needs_review          bool    root_cause_proba below the bundle's review threshold
  root_cause_parent     str     parent label (bundles trained with --parent-col)
  churn_proba           float   churn probability (bundles with a churn head)
  text_truncated        bool    text cut at --max-chars (--too-long truncate)
  language              str     ISO 639-1 code (--language)
  similar_1_id ... _3_*         nearest training complaints: _id, _label, _text, _similarity (--explain)
  top_terms             str     words behind the predicted cause (--explain)
Rejected rows go to the rejects file with reject_reason (and line_number, raw_line when malformed)."""


@click.command("score", epilog=_COLUMNS + "\n\n" + examples(
    "complaintkit score --model models/mine --input new.csv --output scored.parquet --id-col ticket_id",
    "complaintkit score --model models/mine --input big.parquet --output scored.parquet --workers 2 --resume",
    "echo '{\"ticket_id\": 1, \"text\": \"charged twice\"}' | complaintkit score --model models/mine --input -"))
@model_option
@text_col_option()
@run_options
@cascade_option
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

    check_paths(options["input_path"], options["output"], stdin_ok=True)
    if (date_col or customers_output) and not customer_col:
        raise click.UsageError("--date-col and --customers-output need --customer-col.")
    if options["input_path"] == STDIN:
        _score_stdin(model_path, text_cols, {**options, "keep_cols": keep_cols, "customer_col": customer_col,
                                             "customers_output": customers_output, "summary_json": summary_json})
        return
    if customer_col and options["engine"] == "spark":
        raise click.UsageError("--customer-col aggregates a local output file; with --engine spark, score first, "
                               "then aggregate the scored dataset on the cluster.")
    check_side_outputs(options, summary_json=summary_json, customers_output=customers_output)
    if keep_cols and customer_col:
        keep_cols = tuple(dict.fromkeys([*keep_cols, customer_col, *([date_col] if date_col else [])]))
    bundle = load_bundle(model_path)
    summary = score_file(bundle, text_cols=text_cols or None, keep_cols=keep_cols or None, **options)
    if customer_col:
        path, customers = write_customer_scores(bundle, Path(summary.output), customer_col, date_col=date_col,
                                                output=customers_output, text_cols=text_cols or None,
                                                overwrite=bool(options["overwrite"]),
                                                formulas=str(options["csv_formulas"]))
        click.echo(f"wrote {path}: {customers} customers")
    report_run(summary, reject_exit_code, summary_json)


_FILE_ONLY = {"id_cols": "--id-col", "keep_cols": "--keep-col", "customer_col": "--customer-col",
              "customers_output": "--customers-output", "rejects": "--rejects",
              "resume": "--resume", "summary_json": "--summary-json", "spark_master": "--spark-master",
              "single_file": "--single-file", "partition_by": "--partition-by", "batch_rows": "--spark-batch-rows"}


def _score_stdin(model_path: Path, text_cols: tuple[str, ...], options: dict) -> None:
    from ..embedding import resolve_precision

    given = [name for key, name in _FILE_ONLY.items() if options.get(key)]
    if options["engine"] != "local" or options["workers"] != 1:
        given.append("--engine/--workers")
    if given:
        raise click.UsageError(f"{', '.join(given)} work on files; with --input - each JSON line is scored and "
                               "written to stdout with all its fields. Name a file with --input, or drop them.")
    from ..scoring.records import predict_records, read_records, write_records

    bundle = load_bundle(model_path)
    text_col = text_cols[0] if text_cols else bundle.text_cols[0]
    records = read_records(sys.stdin, text_col)
    if text_cols:
        records = records.rename(columns={text_col: bundle.text_cols[0]})
    scored = predict_records(bundle, records, explain=bool(options["explain"]), language=bool(options["language"]),
                             precision=resolve_precision(str(options["precision"])), cascade=str(options["cascade"]))
    write_records(scored, sys.stdout)
