"""One call from files to a written report: read tables, profile and state, build, write."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .. import _logging
from ..bundle import METADATA
from ..bundle.metadata_schema import check_artifacts, read_metadata
from ..data_profile import LANGUAGE_GUESSES
from ..exceptions import BundleError
from ..io import (
    check_distinct,
    claim_outputs,
    iter_parquet_batches,
    no_rows_error,
    parquet_schema,
    read_table,
    table_format,
)
from ..schema import CAUSE, CHURN, CONFIDENCE, REVIEW
from .aggregate import ID_GUESSES, TEXT_GUESSES, build_report, guess_text_column
from .emerging import load_state, save_state
from .label_issues import label_issues_section
from .render import write_report
from .texts import ParquetTexts, is_string_type
from .trends import DATE_GUESSES

READ_BATCH_ROWS = 200_000


def read_training_profile(model: str | Path) -> dict[str, Any] | None:
    """``training_profile`` from a bundle's ``metadata.json`` (the heads are not loaded)."""
    if not (Path(model) / METADATA).is_file():
        raise BundleError(f"no {METADATA} in {str(model)!r}; pass the bundle folder written by `complaintkit train`.")
    metadata = read_metadata(Path(model))
    check_artifacts(Path(model), metadata.get("artifacts", {}))  # e.g. label_issues.csv, read for the report
    profile = metadata.get("training_profile")
    if profile is None:
        _logging.logger.warning("bundle %s has no training profile (trained before it was recorded); "
                                "drift is compared with --previous only", model)
    return profile


def report_columns(names: Sequence[str], named: Sequence[str | None] = ()) -> list[str] | None:
    """The columns of ``names`` that a report reads: predictions, ``named`` ones and the guessed roles.

    None (read them all) when a ``named`` column is missing, so that the error lists every column.
    """
    if any(c is not None and c not in names for c in named):
        return None
    first = [next((c for c in guesses if c in names), None) for guesses in (DATE_GUESSES, ID_GUESSES)]
    wanted = {CAUSE, CONFIDENCE, REVIEW, CHURN, *named, *first, *LANGUAGE_GUESSES}
    return [name for name in names if name in wanted]


def read_scored(path: str | Path, text_col: str | None = None, named: Sequence[str | None] = (),
                encoding: str = "utf-8-sig") -> tuple[pd.DataFrame, ParquetTexts | None]:
    """The columns of the scored table at ``path`` that a report reads and, for Parquet, its texts left on disk.

    From a Parquet table only :func:`report_columns` are read, and its text column (``text_col``,
    else guessed as :func:`guess_text_column` does) is not loaded: a :class:`ParquetTexts` reads
    texts on demand, so the report's memory does not grow with the narratives. Other formats are
    read whole, with ``None`` for the texts.
    """
    if table_format(path) != "parquet":
        return read_table(path, encoding=encoding), None
    schema = parquet_schema(path)
    text_col = text_col or next((name for name in TEXT_GUESSES if name in schema.names), None)
    if text_col is None:
        head = next(iter_parquet_batches(path, schema.names, 1000), None)
        text_col = guess_text_column(head.to_pandas()) if head is not None else None
    columns = report_columns(schema.names, [*named, text_col])
    if columns is None:
        return read_table(path, encoding=encoding), None
    lazy = text_col is not None and is_string_type(schema.field(text_col).type)
    if lazy:
        columns.remove(text_col)
    chunks = [batch.to_pandas() for batch in iter_parquet_batches(path, columns, READ_BATCH_ROWS) if batch.num_rows]
    if not chunks:
        raise no_rows_error(path, "expected at least one row")
    frame = pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]
    return frame, ParquetTexts(path, text_col, len(frame)) if lazy else None


def report_file(scored: str | Path, out: str | Path, *, fmt: str = "html", previous: str | Path | None = None,
                model: str | Path | None = None, state: str | Path | None = None, overwrite: bool = False,
                text_col: str | None = None, date_col: str | None = None, by: Sequence[str] = (),
                value_col: str | None = None, id_col: str | None = None,
                encoding: str = "utf-8-sig") -> dict[str, Any]:
    """Build the report of the scored table at ``scored`` and write it to ``out``; return its data.

    ``state`` is a JSON file that keeps emerging-issue ids stable across runs: read when it
    exists, rewritten after the report is written.
    """
    inputs = {"--input": scored, "--previous": previous, "--model": model}
    check_distinct(inputs, {"--state": state, "--output": out})  # the state file is read and rewritten
    with claim_outputs({"--output": out}, inputs=inputs, overwrite=overwrite):
        profile = read_training_profile(model) if model else None
        table, texts = read_scored(scored, text_col, [date_col, id_col, value_col, *by], encoding)
        data = build_report(table, previous=read_scored(previous, text_col, encoding=encoding)[0] if previous else None,
                            texts=texts, text_col=texts.column if texts is not None else text_col,
                            date_col=date_col, by=by, value_col=value_col, id_col=id_col,
                            training_profile=profile, state=load_state(state) if state else None)
        if model and (issues := label_issues_section(model)):
            data["label_issues"] = issues
        write_report(data, out, fmt)
        if state and "_state" in data:
            save_state(data["_state"], state)
    return data
