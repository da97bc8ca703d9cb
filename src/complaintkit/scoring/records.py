"""Complaints as records on a stream: JSON lines (or plain lines of text) in, predictions out.

Used by ``complaintkit predict`` and ``score --input -``; the predictions come from
:meth:`complaintkit.bundle.Bundle.predict`, so they have the columns ``score`` writes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, TextIO

import numpy as np
import pandas as pd

from ..schema import REASON
from ..text import is_blank

if TYPE_CHECKING:
    from ..bundle import Bundle


def read_records(lines: Iterable[str], text_col: str) -> pd.DataFrame:
    """One row per line: the fields of a JSON object, or the whole line as ``text_col``.

    No line is dropped: a blank line becomes a row with an empty text (which gets no
    prediction and ``reject_reason`` "empty_text" from :func:`predict_records`).

    Examples
    --------
    >>> read_records(['{"id": 7, "text": "charged twice"}', "card blocked"], "text").to_dict("records")
    [{'id': 7.0, 'text': 'charged twice'}, {'id': nan, 'text': 'card blocked'}]
    """
    rows = []
    for line in lines:
        line = line.rstrip("\r\n")
        try:
            record = json.loads(line) if line.lstrip().startswith("{") else None
        except json.JSONDecodeError:
            record = None
        rows.append(record if isinstance(record, dict) else {text_col: line})
    return pd.DataFrame(rows, columns=list(dict.fromkeys(k for row in rows for k in row)) or [text_col])


def predict_records(bundle: Bundle, records: pd.DataFrame | Sequence[str], *, explain: bool = False,
                    language: bool = False, precision: str = "fp32", cascade: str = "on") -> pd.DataFrame:
    """``records`` (a table, or plain texts as the bundle's text column) with the prediction columns appended.

    Text columns and churn-head columns a record lacks are taken as empty; rows with an
    empty text keep missing predictions and get ``reject_reason`` "empty_text". ``cascade`` "off":
    the full root-cause head answers every row (:func:`~complaintkit.scoring.columns.root_cause_head`).
    """
    from .columns import log_cascade

    log_cascade(bundle, cascade)
    frame = (records if isinstance(records, pd.DataFrame) else pd.DataFrame({bundle.text_cols[0]: list(records)}))
    frame = frame.reset_index(drop=True)
    needed = [*bundle.text_cols, *(() if bundle.churn is None else
                                   (*bundle.churn.numeric_cols, *bundle.churn.categorical_cols))]
    inputs = frame.assign(**{c: None for c in needed if c not in frame})
    predicted = bundle.predict(inputs, explain=explain, language=language, precision=precision, cascade=cascade)
    result = pd.concat([frame, predicted], axis=1)
    empty = is_blank(inputs[bundle.text_cols].fillna("").astype(str).agg("".join, axis=1))
    if empty.any():
        result[REASON] = np.where(empty, "empty_text", None)
    return result


def write_records(frame: pd.DataFrame, stream: TextIO) -> None:
    """Write ``frame`` to ``stream`` as JSON lines (missing values as null)."""
    if len(frame):
        text = frame.to_json(orient="records", lines=True, force_ascii=False, date_format="iso")
        stream.write(text if text.endswith("\n") else text + "\n")
