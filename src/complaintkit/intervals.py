"""Bootstrap 95% intervals of classification metrics, and of the difference between two models."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

N_RESAMPLES = 1000
LEVEL = 0.95


def _codes(y_true: Sequence[object], *predictions: Sequence[object]) -> tuple[np.ndarray, list[np.ndarray], int]:
    """Integer codes of the true labels and of each prediction, over the union of their labels."""
    arrays = [np.asarray(y, dtype=object).astype(str) for y in (y_true, *predictions)]
    if any(len(a) != len(arrays[0]) for a in arrays):
        raise ValueError(f"y_true and the predictions must have the same length; got {[len(a) for a in arrays]}.")
    labels, inverse = np.unique(np.concatenate(arrays), return_inverse=True)
    parts = np.split(inverse, len(arrays))
    return parts[0], parts[1:], len(labels)


def _resampled_scores(true: np.ndarray, predicted: np.ndarray, k: int, draws: np.ndarray,
                      true_labels_only: bool = False) -> dict[str, np.ndarray]:
    """Accuracy and macro-F1 of each resample (F1 averaged over the labels in the resample's truth, or in
    its truth or predictions)."""
    cells = true * k + predicted
    counts = np.stack([np.bincount(cells[rows], minlength=k * k) for rows in draws]).reshape(len(draws), k, k)
    hits = np.einsum("bii->bi", counts).astype(float)
    actual, guessed = counts.sum(axis=2), counts.sum(axis=1)
    present = actual > 0 if true_labels_only else (actual + guessed) > 0
    denominator = actual + guessed
    f1 = np.divide(2 * hits, denominator, out=np.zeros_like(hits), where=denominator > 0)
    return {"accuracy": hits.sum(axis=1) / draws.shape[1],
            "macro_f1": (f1 * present).sum(axis=1) / present.sum(axis=1)}


def _draws(n_rows: int, n_resamples: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, n_rows, size=(n_resamples, n_rows))


def _percentiles(values: np.ndarray, level: float) -> list[float]:
    tail = 100 * (1 - level) / 2
    return [float(np.percentile(values, tail)), float(np.percentile(values, 100 - tail))]


def classification_intervals(y_true: Sequence[object], y_pred: Sequence[object], *,
                             n_resamples: int = N_RESAMPLES, level: float = LEVEL, seed: int = 0,
                             true_labels_only: bool = False) -> dict[str, list[float]]:
    """Percentile bootstrap intervals of accuracy and macro-F1.

    The rows are resampled with replacement ``n_resamples`` times (fixed ``seed``, so the
    interval is reproducible); macro-F1 averages F1 over the labels present in each resample's
    truth or predictions (scikit-learn's default), or with ``true_labels_only`` over the labels
    in its truth (as :func:`~complaintkit.evaluation.root_cause_metrics` does).

    Parameters
    ----------
    y_true, y_pred : sequence
        True and predicted labels, one per row.
    n_resamples : int, default=1000
        Bootstrap resamples.
    level : float, default=0.95
        Coverage of the interval.
    seed : int, default=0
        Seed of the resampling.
    true_labels_only : bool, default=False
        Average F1 over the labels present in the truth only.

    Returns
    -------
    dict
        ``{"accuracy": [low, high], "macro_f1": [low, high]}``.

    Examples
    --------
    >>> classification_intervals(["a", "b", "a"], ["a", "b", "a"])
    {'accuracy': [1.0, 1.0], 'macro_f1': [1.0, 1.0]}
    """
    true, (predicted,), k = _codes(y_true, y_pred)
    if len(true) == 0:
        return {}
    scores = _resampled_scores(true, predicted, k, _draws(len(true), n_resamples, seed), true_labels_only)
    return {name: _percentiles(values, level) for name, values in scores.items()}


def paired_difference(y_true: Sequence[object], pred_a: Sequence[object], pred_b: Sequence[object], *,
                      n_resamples: int = N_RESAMPLES, level: float = LEVEL, seed: int = 0) -> dict[str, Any]:
    """Bootstrap interval of metric(a) − metric(b) for two models scored on the same rows.

    Both models are scored on the same resamples, so the interval accounts for the rows they
    share (a paired comparison). ``share_a_better`` is the share of resamples where ``a`` is
    strictly ahead.

    Returns
    -------
    dict
        For "accuracy" and "macro_f1": ``{"difference", "interval": [low, high], "share_a_better"}``.
    """
    true, (a, b), k = _codes(y_true, pred_a, pred_b)
    draws = _draws(len(true), n_resamples, seed)
    everyone = np.arange(len(true))[None, :]
    result = {}
    scores_a, scores_b = _resampled_scores(true, a, k, draws), _resampled_scores(true, b, k, draws)
    point_a, point_b = _resampled_scores(true, a, k, everyone), _resampled_scores(true, b, k, everyone)
    for name in scores_a:
        gaps = scores_a[name] - scores_b[name]
        result[name] = {"difference": float(point_a[name][0] - point_b[name][0]),
                        "interval": _percentiles(gaps, level), "share_a_better": float((gaps > 0).mean())}
    return result


def mean_interval(values: Sequence[float], level: float = LEVEL) -> dict[str, float | list[float]]:
    """Mean, standard deviation and Student-t interval of the mean of repeated measurements.

    Used for the differences between two models over repeated random splits (one value per split).

    Examples
    --------
    >>> mean_interval([1.0, 1.0, 1.0])["interval"]
    [1.0, 1.0]
    """
    from scipy import stats

    values = np.asarray(values, dtype=float)
    mean, sd = float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else 0.0
    half = float(stats.t.ppf(0.5 + level / 2, len(values) - 1) * sd / np.sqrt(len(values))) if sd > 0 else 0.0
    return {"mean": mean, "sd": sd, "n": int(len(values)), "interval": [mean - half, mean + half]}
