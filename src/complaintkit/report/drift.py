"""Drift of a scored table against the training profile recorded in a bundle.

The profile is small and JSON-ready (length quantiles, label and language shares), so the
report compares against it without ever loading the model.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..data_profile import guess_language_column, shares, training_profile  # noqa: F401  (re-exported)
from .texts import Texts

PSI_WARNING = 0.2
CONFIDENCE_EDGES = np.linspace(0.1, 0.9, 9)


def psi(expected: dict[str, float], actual: dict[str, float], floor: float = 1e-4) -> float:
    """Population stability index of two share distributions over the union of their keys.

    Below 0.1 is usually read as stable, above 0.2 as a shift worth a look.
    """
    keys = sorted(set(expected) | set(actual))
    e = np.clip([expected.get(k, 0.0) for k in keys], floor, None)
    a = np.clip([actual.get(k, 0.0) for k in keys], floor, None)
    return float(np.sum((a - e) * np.log(a / e)))


def _binned_shares(values: pd.Series, edges: np.ndarray) -> dict[str, float]:
    counts = np.bincount(np.searchsorted(edges, values.to_numpy(), side="right"), minlength=len(edges) + 1)
    return {str(i): float(c) / max(len(values), 1) for i, c in enumerate(counts)}


def _check(name: str, reference: str, value: float, detail: str) -> dict[str, Any]:
    return {"measure": name, "reference": reference, "psi": round(value, 3), "shifted": value > PSI_WARNING,
            "detail": detail}


def drift_section(scored: pd.DataFrame, texts: Texts | None, profile: dict[str, Any] | None,
                  previous: pd.DataFrame | None, cause: str, confidence: str) -> dict[str, Any] | None:
    """PSI checks of text length, predicted-cause mix, confidence and language mix.

    Text length and language are compared with the training ``profile``; cause mix with the
    training labels (or the previous period); confidence with the previous period.
    Returns None when there is nothing to compare with.
    """
    checks = []
    if profile and texts is not None and "text_chars" in profile:
        deciles = np.asarray(profile["text_chars"]["deciles"])
        lengths = texts.lengths()
        uniform = {str(i): 0.1 for i in range(len(deciles) + 1)}
        checks.append(_check("text length", "training data", psi(uniform, _binned_shares(lengths, deciles)),
                             f"median {lengths.median():.0f} characters vs {deciles[4]:.0f} in training"))
    current_mix = shares(scored[cause].dropna())
    if profile and profile.get("label_shares"):
        checks.append(_check("predicted-cause mix", "training labels", psi(profile["label_shares"], current_mix),
                             _largest_move(profile["label_shares"], current_mix)))
    elif previous is not None:
        previous_mix = shares(previous[cause].dropna())
        checks.append(_check("predicted-cause mix", "previous period", psi(previous_mix, current_mix),
                             _largest_move(previous_mix, current_mix)))
    if previous is not None and confidence in scored and confidence in previous:
        now, before = scored[confidence].dropna(), previous[confidence].dropna()
        checks.append(_check("confidence", "previous period",
                             psi(_binned_shares(before, CONFIDENCE_EDGES), _binned_shares(now, CONFIDENCE_EDGES)),
                             f"mean {now.mean():.2f} vs {before.mean():.2f}"))
    language = guess_language_column(scored)
    if language:
        reference_name, reference = None, None
        if profile and profile.get("language_shares"):
            reference_name, reference = "training data", profile["language_shares"]
        elif previous is not None and language in previous:
            reference_name, reference = "previous period", shares(previous[language].dropna())
        if reference:
            current = shares(scored[language].dropna())
            checks.append(_check("language mix", reference_name, psi(reference, current),
                                 _largest_move(reference, current)))
    if not checks:
        return None
    return {"checks": checks, "warning": any(c["shifted"] for c in checks), "threshold": PSI_WARNING}


def _largest_move(before: dict[str, float], after: dict[str, float]) -> str:
    keys = set(before) | set(after)
    key = max(keys, key=lambda k: abs(after.get(k, 0.0) - before.get(k, 0.0)))
    return f"largest move: {key} {before.get(key, 0.0):.0%} → {after.get(key, 0.0):.0%}"
