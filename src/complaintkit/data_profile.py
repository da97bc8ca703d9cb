"""What a table of complaints looks like: text lengths, label and language shares.

Recorded in a bundle at training time (small and JSON-ready), and compared by the report's
drift section without ever loading the model.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

LANGUAGE_GUESSES = ("language", "lang", "detected_language")
LENGTH_QUANTILES = tuple(np.round(np.linspace(0.1, 0.9, 9), 1))


def guess_language_column(frame: pd.DataFrame) -> str | None:
    """The column holding a language code, if one of the usual names is present."""
    return next((c for c in LANGUAGE_GUESSES if c in frame.columns), None)


def shares(values: pd.Series) -> dict[str, float]:
    """Share of each distinct value (as text) among ``values``."""
    return {str(k): float(v) for k, v in values.astype(str).value_counts(normalize=True).items()}


def training_profile(frame: pd.DataFrame, texts: pd.Series, label_col: str | None = None) -> dict[str, Any]:
    """What the report's drift section compares against: text lengths, label and language mix.

    Parameters
    ----------
    frame : DataFrame
        The training rows.
    texts : Series
        Their complaint texts (same index).
    label_col : str, optional
        Root-cause label column of ``frame``.
    """
    lengths = texts.fillna("").str.len()
    profile: dict[str, Any] = {
        "rows": int(len(frame)),
        "text_chars": {"mean": float(lengths.mean()),
                       "deciles": [float(q) for q in lengths.quantile(list(LENGTH_QUANTILES))]},
    }
    if label_col:
        profile["label_shares"] = shares(frame[label_col].dropna())
    language = guess_language_column(frame)
    if language:
        profile["language_shares"] = shares(frame[language].dropna())
    return profile


