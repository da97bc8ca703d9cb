"""CSV and TSV cells that are safe to open in a spreadsheet: no cell runs as a formula.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return as a formula (CSV injection). Every CSV/TSV complaintkit writes from data (scored
tables, rejects, customers, reports) prefixes such a text cell with ``'``, which spreadsheets
show as text. A plain number (``-12.5``, ``+3``) is not a formula and is left as it is.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_POLICIES = ("neutralise", "keep")  # importable without pandas, for the command line
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def neutralise_formula(value: Any) -> Any:
    """Prefix a text that a spreadsheet would run as a formula with ``'``; other values unchanged.

    Examples
    --------
    >>> neutralise_formula("=HYPERLINK(1)"), neutralise_formula("billing"), neutralise_formula(-1.5)
    ("'=HYPERLINK(1)", 'billing', -1.5)
    >>> neutralise_formula("-1+1"), neutralise_formula("-12.50")
    ("'-1+1", '-12.50')
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame, formulas: str = "neutralise") -> pd.DataFrame:
    """``frame`` with :func:`neutralise_formula` applied to its text columns (``formulas="keep"``: unchanged).

    Raises
    ------
    ValueError
        If ``formulas`` is not one of :data:`FORMULA_POLICIES`.
    """
    import numpy as np
    import pandas as pd

    if formulas not in FORMULA_POLICIES:
        raise ValueError(f"formulas must be one of {list(FORMULA_POLICIES)}; got {formulas!r}.")
    text = [i for i, dtype in enumerate(frame.dtypes) if pd.api.types.is_object_dtype(dtype)
            or pd.api.types.is_string_dtype(dtype)]
    if formulas == "keep" or not text:
        return frame
    # one vectorised pass over every text cell (tables may be 20,000 columns wide); only hit columns are copied
    cells = frame if len(text) == frame.shape[1] else frame.iloc[:, text]
    hits = np.frompyfunc(_is_formula, 1, 1)(cells.to_numpy(dtype=object)).astype(bool)
    if not hits.any():
        return frame
    frame = frame.copy(deep=False)  # isetitem replaces whole columns: the caller's frame is not changed
    for j in np.flatnonzero(hits.any(axis=0)):
        frame.isetitem(text[j], frame.iloc[:, text[j]].map(neutralise_formula))
    return frame


def _is_formula(value: Any) -> bool:
    return neutralise_formula(value) is not value

