"""Shared calibration settings of the heads."""

from __future__ import annotations

import numpy as np

from ..exceptions import InputError


def calibration_folds(y: np.ndarray, wanted: int = 5) -> int:
    """Folds for ``CalibratedClassifierCV``: ``wanted``, fewer if the rarest class is smaller."""
    _, counts = np.unique(y, return_counts=True)
    if len(counts) < 2:
        raise InputError(
            f"training needs at least two classes; found only {list(np.unique(y))}. "
            "Add examples of other classes or check the label column."
        )
    return int(max(2, min(wanted, counts.min())))


def calibration_method(method: str, n_samples: int, isotonic_from: int = 1000) -> str:
    """Resolve ``"auto"``: isotonic from ``isotonic_from`` rows on, sigmoid below (isotonic overfits small sets)."""
    if method == "auto":
        return "isotonic" if n_samples >= isotonic_from else "sigmoid"
    if method not in {"sigmoid", "isotonic"}:
        raise ValueError(
            f"The 'calibration' parameter must be 'auto', 'sigmoid' or 'isotonic'. Got {method!r} instead."
        )
    return method
