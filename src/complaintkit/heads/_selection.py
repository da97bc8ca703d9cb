"""Choosing a head's settings from repeated cross-validation: the one-standard-error rule."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.model_selection import RepeatedStratifiedKFold

SELECTION_RULES = ("one_se", "best")


def repeated_folds(labels: np.ndarray, n_splits: int, n_repeats: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Train/test row indices of ``n_repeats`` shuffled stratified ``n_splits``-fold partitions.

    ``n_splits`` is lowered to the size of the rarest class (at least 2).
    """
    _, counts = np.unique(labels, return_counts=True)
    splits = int(max(2, min(n_splits, counts.min())))
    cv = RepeatedStratifiedKFold(n_splits=splits, n_repeats=n_repeats, random_state=seed)
    return list(cv.split(np.zeros(len(labels)), labels))


def summarise(fold_scores: Sequence[float]) -> dict[str, float]:
    """Mean and standard error (sample sd / sqrt(number of folds)) of one candidate's fold scores.

    Examples
    --------
    >>> summarise([0.7, 0.8, 0.9])
    {'mean': 0.8, 'se': 0.0577}
    """
    scores = np.asarray(fold_scores, dtype=float)
    se = float(scores.std(ddof=1) / np.sqrt(len(scores))) if len(scores) > 1 else 0.0
    return {"mean": round(float(scores.mean()), 4), "se": round(se, 4)}


def choose_within_one_se(candidates: Sequence[dict[str, Any]], rule: str = "one_se") -> int:
    """Index of the chosen candidate.

    Each candidate has ``mean`` and ``se`` (cross-validated score, higher is better) and a
    ``complexity`` tuple (smaller is simpler, compared in order). ``rule="best"`` takes the
    highest mean; ``rule="one_se"`` takes the simplest candidate whose mean is at least the best
    mean minus the best candidate's standard error (ties on complexity go to the higher mean).

    Examples
    --------
    >>> choose_within_one_se([{"mean": 0.80, "se": 0.02, "complexity": (2,)},
    ...                       {"mean": 0.79, "se": 0.01, "complexity": (1,)}])
    1
    """
    if rule not in SELECTION_RULES:
        raise ValueError(f"The 'selection' parameter must be one of {list(SELECTION_RULES)}. Got {rule!r} instead.")
    if not candidates:
        raise ValueError("choose_within_one_se needs at least one candidate.")
    best = max(range(len(candidates)), key=lambda i: candidates[i]["mean"])
    if rule == "best":
        return best
    floor = candidates[best]["mean"] - candidates[best]["se"]
    eligible = [i for i, c in enumerate(candidates) if c["mean"] >= floor]
    return min(eligible, key=lambda i: (tuple(candidates[i]["complexity"]), -candidates[i]["mean"]))
