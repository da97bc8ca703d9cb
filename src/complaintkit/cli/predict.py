"""`complaintkit predict`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ._options import cascade_option, examples, input_option, load_bundle, model_option, precision_option
from ._run_options import STDIN

_SHOWN = ("root_cause", "root_cause_proba", "needs_review", "root_cause_2", "churn_proba")


def _table(scored: object, text_col: str, width: int = 48) -> str:
    """A readable table: the text (shortened) and the main prediction columns."""
    frame = scored[[text_col, *(c for c in _SHOWN if c in scored)]].copy()
    frame[text_col] = frame[text_col].astype(str).map(lambda t: t if len(t) <= width else t[: width - 1] + "…")
    return frame.to_string(index=False, float_format=lambda v: f"{v:.3f}", justify="left")


@click.command("predict", epilog=examples(
    'complaintkit predict --model models/mine "I was charged twice" "my card was blocked abroad"',
    'complaintkit predict --model models/mine --json "I was charged twice"',
    "complaintkit predict --model models/mine --input - < complaints.jsonl > predictions.jsonl"))
@model_option
@click.argument("texts", nargs=-1)
@input_option("`-`: read JSON lines (or one complaint per line) from stdin and write JSON lines to stdout.",
              required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines (one object per text) instead of a table.")
@click.option("--explain", is_flag=True, help="Add the nearest training complaints and the top terms.")
@click.option("--language", is_flag=True, help="Add the detected language (ISO 639-1).")
@precision_option
@cascade_option
def predict_command(model_path: Path, texts: tuple[str, ...], input_path: Path | None, as_json: bool,
                    explain: bool, language: bool, precision: str, cascade: str) -> None:
    """Predict the root cause (and churn probability) of a few complaints given on the command line.

    The columns are those of `complaintkit score`; for files use `score`.
    """
    from ..embedding import resolve_precision
    from ..scoring.records import predict_records, read_records, write_records

    if input_path is not None and input_path != STDIN:
        raise click.UsageError("predict reads texts from its arguments or stdin (--input -); "
                               "to score a file use `complaintkit score --input FILE --output OUT`.")
    if input_path is None and not texts:
        raise click.UsageError('give one or more complaint texts, e.g. predict --model models/mine "charged twice", '
                               "or --input - to read stdin.")
    if input_path is not None and texts:
        raise click.UsageError("give texts as arguments or --input -, not both.")
    bundle = load_bundle(model_path)
    text_col = bundle.text_cols[0]
    records = read_records(sys.stdin, text_col) if input_path else list(texts)
    scored = predict_records(bundle, records, explain=explain, language=language,
                             precision=resolve_precision(precision), cascade=cascade)
    if as_json or input_path is not None:
        write_records(scored, sys.stdout)
    else:
        click.echo(_table(scored, text_col))


