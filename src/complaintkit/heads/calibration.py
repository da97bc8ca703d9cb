"""Shared calibration settings of the heads."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..exceptions import InputError

if TYPE_CHECKING:
    import numpy as np

CALIBRATION_METHODS = ("temperature", "sigmoid", "isotonic")  # of the root-cause head


def calibration_folds(y: np.ndarray, wanted: int = 5) -> int:
    """Folds for ``CalibratedClassifierCV``: ``wanted``, fewer if the rarest class is smaller."""
    import numpy as np  # here, so that the CLI's option lists import no numpy

    _, counts = np.unique(y, return_counts=True)
    if len(counts) < 2:
        raise InputError(
            f"training needs at least two classes; found only {list(np.unique(y))}. "
            "Add examples of other classes or check the label column."
        )
    return int(max(2, min(wanted, counts.min())))


def calibration_method(method: str, auto: str, allowed: tuple[str, ...] = ("sigmoid", "isotonic")) -> str:
    """``method`` checked against ``allowed``, with ``"auto"`` resolved to ``auto``."""
    if method == "auto":
        return auto
    if method not in allowed:
        choices = ", ".join(repr(choice) for choice in ("auto", *allowed))
        raise ValueError(f"The 'calibration' parameter must be one of {choices}. Got {method!r} instead.")
    return method

