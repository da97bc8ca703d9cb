"""Column converters used inside fitted heads.

Saved bundles name these functions by their path in this module, so the names are part of
the bundle format: do not rename or move them (add an alias if you must).
"""

from __future__ import annotations

import pandas as pd

MISSING_CATEGORY = "(missing)"


def to_numeric(frame: pd.DataFrame) -> pd.DataFrame:
    """Every column as numbers; cells that are not numbers become NaN (imputed later)."""
    return frame.apply(pd.to_numeric, errors="coerce")


def to_string(frame: pd.DataFrame) -> pd.DataFrame:
    """Every column as text (object dtype); missing cells become the category ``"(missing)"``."""
    return frame.astype("string").fillna(MISSING_CATEGORY).astype(object)
