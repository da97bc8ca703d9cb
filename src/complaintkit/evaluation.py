"""Metrics of a bundle on labelled data: per-class scores, confusion, calibration, churn."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    brier_score_loss,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
    roc_auc_score,
)

from . import _logging
from .embedding import RecentVectors, encoder_runtime, resolve_precision, run_settings
from .exceptions import InputError
from .heads.churn import normalise_outcome
from .intervals import classification_intervals
from .io import join_text_columns, require_columns

if TYPE_CHECKING:
    from .bundle import Bundle


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, n_bins: int = 15) -> float:
    """Weighted mean gap between confidence and accuracy over equal-width bins.

    Examples
    --------
    >>> round(expected_calibration_error(np.array([0.9, 0.9]), np.array([1, 0])), 2)
    0.4
    """
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=float)
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    total = 0.0
    for b in np.unique(bins):
        mask = bins == b
        total += mask.sum() * abs(confidence[mask].mean() - correct[mask].mean())
    return float(total / max(len(confidence), 1))


def review_threshold(confidence: np.ndarray, correct: np.ndarray, precision: float, z: float = 0.0) -> float:
    """Lowest confidence at which the predictions kept reach ``precision``.

    Predictions are kept from the most confident down; the threshold keeps the largest
    set whose precision is still at least ``precision`` (1.0 + tiny if none reaches it).
    With ``z`` > 0 the precision of a set is its Wilson lower bound at ``z`` standard errors
    (1.645: one-sided 95%), so a few lucky rows cannot open the gate.

    Examples
    --------
    >>> conf, ok = np.linspace(1, 0.5, 20), np.r_[np.ones(18), 0, 0]
    >>> review_threshold(conf, ok, 0.9), review_threshold(conf, ok, 0.9, z=1.645) > 1  # none certified
    (0.5, True)
    """
    order = np.argsort(-confidence, kind="stable")
    hits = np.cumsum(np.asarray(correct, dtype=float)[order])
    kept = np.arange(1, len(order) + 1)
    running = hits / kept
    if z > 0:
        centre = running + z * z / (2 * kept)
        spread = z * np.sqrt(running * (1 - running) / kept + z * z / (4 * kept * kept))
        running = (centre - spread) / (1 + z * z / kept)
    ok = np.flatnonzero(running >= precision)
    if len(ok) == 0:
        return float(np.nextafter(1.0, 2.0))
    return float(confidence[order][ok[-1]])


def coverage_table(confidence: np.ndarray, correct: np.ndarray,
                   thresholds: Sequence[float] = (0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)) -> list[dict]:
    """Share auto-classified and its accuracy at each confidence threshold."""
    rows = []
    for t in thresholds:
        kept = confidence >= t
        rows.append({"threshold": t, "coverage": float(kept.mean()),
                     "accuracy": float(correct[kept].mean()) if kept.any() else float("nan")})
    return rows


def root_cause_metrics(y_true: Sequence[str], proba: np.ndarray, classes: Sequence[str],
                       threshold: float = 0.0) -> dict[str, Any]:
    """Accuracy, macro-F1 (``ci``: their bootstrap 95% intervals), per-class scores, confusion matrix and
    calibration."""
    y_true = np.asarray(y_true, dtype=object)
    classes = np.asarray(classes, dtype=object)
    y_pred = classes[np.argmax(proba, axis=1)]
    confidence = proba.max(axis=1)
    correct = (y_pred == y_true).astype(int)
    labels = sorted(set(classes) | set(y_true))
    unseen = sorted(set(y_true) - set(classes))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
        macro_f1 = f1_score(y_true, y_pred, labels=sorted(set(y_true)), average="macro", zero_division=0)
    kept = confidence >= threshold
    return {
        "rows": int(len(y_true)),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(macro_f1),
        "ci": classification_intervals(y_true, y_pred, true_labels_only=True),
        "ece": expected_calibration_error(confidence, correct),
        "review_threshold": float(threshold),
        "coverage": float(kept.mean()),
        "accuracy_when_auto": float(correct[kept].mean()) if kept.any() else float("nan"),
        "unseen_labels": unseen,
        "per_class": {
            label: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
            for i, label in enumerate(labels)
        },
        "confusion": {"labels": labels,
                      "matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist()},
        "coverage_curve": coverage_table(confidence, correct),
    }


def parent_metrics(y_true: Sequence[str], proba: np.ndarray, classes: Sequence[str],
                   hierarchy: dict[str, str]) -> dict[str, Any]:
    """Accuracy and macro-F1 after rolling true and predicted labels up to their parents."""
    classes = np.asarray(classes, dtype=object)
    true_parent = [hierarchy.get(label, label) for label in y_true]
    predicted_parent = [hierarchy.get(label, label) for label in classes[np.argmax(proba, axis=1)]]
    return {"rows": len(true_parent), "accuracy": float(accuracy_score(true_parent, predicted_parent)),
            "macro_f1": float(f1_score(true_parent, predicted_parent, average="macro", zero_division=0))}


def metrics_by_group(y_true: Sequence[str], proba: np.ndarray, classes: Sequence[str],
                     groups: Sequence[str]) -> dict[str, dict[str, float]]:
    """Rows, accuracy and macro-F1 of the root-cause predictions within each group (e.g. language).

    Examples
    --------
    >>> metrics_by_group(["a", "b", "a"], np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7]]), ["a", "b"],
    ...                  ["en", "en", "it"])["it"]
    {'rows': 1, 'accuracy': 0.0, 'macro_f1': 0.0}
    """
    y_true = np.asarray(y_true, dtype=object)
    y_pred = np.asarray(classes, dtype=object)[np.argmax(proba, axis=1)]
    groups = np.asarray(pd.Series(groups).fillna("unknown").astype(str))
    result = {}
    for group in sorted(set(groups)):
        rows = groups == group
        result[group] = {"rows": int(rows.sum()), "accuracy": float(accuracy_score(y_true[rows], y_pred[rows])),
                         "macro_f1": float(f1_score(y_true[rows], y_pred[rows], labels=sorted(set(y_true[rows])),
                                                    average="macro", zero_division=0))}
    return result


def top_decile(outcome: np.ndarray, probability: np.ndarray, share: float = 0.1) -> tuple[float, float]:
    """Lift and capture rate of the ``share`` of rows with the highest churn probability.

    Lift is the churn rate among those rows divided by the overall churn rate; capture is
    the share of all churners found among them.

    Examples
    --------
    >>> top_decile(np.array([1, 0, 0, 0, 0, 0, 0, 0, 0, 0]), np.linspace(1, 0, 10))
    (10.0, 1.0)
    """
    outcome = np.asarray(outcome, dtype=float)
    if outcome.sum() == 0:
        return float("nan"), float("nan")
    top = np.argsort(-np.asarray(probability, dtype=float), kind="stable")[: max(1, int(round(share * len(outcome))))]
    return float(outcome[top].mean() / outcome.mean()), float(outcome[top].sum() / outcome.sum())


def reliability_table(outcome: np.ndarray, probability: np.ndarray, n_bins: int = 10) -> list[dict[str, float]]:
    """Mean predicted probability against observed rate in equal-width probability bins."""
    outcome = np.asarray(outcome, dtype=float)
    probability = np.asarray(probability, dtype=float)
    bins = np.minimum((probability * n_bins).astype(int), n_bins - 1)
    return [{"bin_low": b / n_bins, "bin_high": (b + 1) / n_bins, "rows": int((bins == b).sum()),
             "mean_probability": float(probability[bins == b].mean()),
             "observed_rate": float(outcome[bins == b].mean())} for b in np.unique(bins)]


def _churn_point_metrics(outcome: np.ndarray, probability: np.ndarray) -> dict[str, float]:
    both = len(np.unique(outcome)) == 2
    lift, capture = top_decile(outcome, probability)
    return {
        "roc_auc": float(roc_auc_score(outcome, probability)) if both else float("nan"),
        "pr_auc": float(average_precision_score(outcome, probability)) if both else float("nan"),
        "brier": float(brier_score_loss(outcome, probability, labels=[0, 1])),
        "lift_top_decile": lift,
        "capture_top_decile": capture,
    }


def churn_metrics(outcome: np.ndarray, probability: np.ndarray, n_bootstrap: int = 200,
                  seed: int = 0) -> dict[str, Any]:
    """ROC-AUC, PR-AUC, Brier score, top-decile lift and capture, calibration error.

    ``ci`` holds percentile bootstrap 95% intervals of the first five from ``n_bootstrap``
    resamples of the rows (0 turns them off); ``reliability`` is the table behind the
    reliability diagram.
    """
    outcome = np.asarray(outcome, dtype=int)
    probability = np.asarray(probability, dtype=float)
    point = _churn_point_metrics(outcome, probability)
    ci: dict[str, list[float]] = {}
    if n_bootstrap and len(outcome) > 1:
        rng = np.random.default_rng(seed)
        draws = [rng.integers(0, len(outcome), len(outcome)) for _ in range(n_bootstrap)]
        samples = pd.DataFrame([_churn_point_metrics(outcome[i], probability[i]) for i in draws])
        ci = {k: [float(np.nanpercentile(samples[k], 2.5)), float(np.nanpercentile(samples[k], 97.5))]
              for k in point if samples[k].notna().any()}
    return {
        "rows": int(len(outcome)),
        "base_rate": float(outcome.mean()),
        **point,
        "ece": expected_calibration_error(probability, outcome),
        "ci": ci,
        "reliability": reliability_table(outcome, probability),
    }


def within_group_auc(outcome: np.ndarray, probability: np.ndarray, groups: Sequence[object]) -> dict[str, Any]:
    """ROC-AUC inside each group (e.g. company) holding both outcomes, and their median.

    Pooled ROC-AUC also rewards telling groups with different base rates apart; the
    within-group figure measures ranking of customers of the same company only.
    """
    frame = pd.DataFrame({"y": np.asarray(outcome, dtype=int), "p": probability, "g": np.asarray(groups)})
    per_group = {str(g): float(roc_auc_score(part["y"], part["p"]))
                 for g, part in frame.groupby("g") if part["y"].nunique() == 2}
    values = list(per_group.values())
    return {"median": float(np.median(values)) if values else float("nan"), "groups": len(values),
            "per_group": per_group}


def churn_by_cause(cause: Sequence[str], probability: np.ndarray, outcome: np.ndarray | None = None,
                   value: np.ndarray | None = None) -> list[dict[str, Any]]:
    """Per predicted root cause: complaints, mean churn probability, churn rate, money at risk.

    ``churn_rate`` needs the observed ``outcome``; ``value_at_risk`` (the sum of value x
    churn probability, the expected value lost) needs a ``value`` per complaint. Rows are
    sorted by expected churners (complaints x mean probability), highest first.
    """
    frame = pd.DataFrame({"cause": np.asarray(cause, dtype=object), "p": np.asarray(probability, dtype=float)})
    if outcome is not None:
        frame["y"] = np.asarray(outcome, dtype=float)
    if value is not None:
        frame["value"] = pd.to_numeric(pd.Series(np.asarray(value)), errors="coerce").fillna(0.0).to_numpy()
        frame["risk"] = frame["value"] * frame["p"]
    rows = []
    for name, part in frame.groupby("cause", sort=False):
        row: dict[str, Any] = {"cause": str(name), "complaints": int(len(part)),
                               "mean_churn_proba": float(part["p"].mean()),
                               "expected_churners": float(part["p"].sum())}
        if outcome is not None:
            row["churn_rate"] = float(part["y"].mean())
        if value is not None:
            row["value"] = float(part["value"].sum())
            row["value_at_risk"] = float(part["risk"].sum())
        rows.append(row)
    return sorted(rows, key=lambda r: -r["expected_churners"])


def _select_split(frame: pd.DataFrame, split_col: str | None, split: str | None) -> pd.DataFrame:
    if split_col is None:
        return frame
    require_columns(frame, {"split": (split_col, "--split-col")})
    chosen = frame[frame[split_col].astype(str) == str(split)]
    if chosen.empty:
        values = sorted(frame[split_col].dropna().astype(str).unique())[:10]
        raise InputError(f"no rows have {split_col} == {split!r}; values found: {values}. Pick one with --split.")
    return chosen


def evaluate(bundle: Bundle, frame: pd.DataFrame, *, label_col: str | None = None,
             churn_col: str | None = None, text_cols: Sequence[str] | None = None,
             split_col: str | None = None, split: str | None = "test",
             plots_dir: str | Path | None = None, value_col: str | None = None,
             precision: str = "auto") -> dict[str, Any]:
    """Evaluate every head of ``bundle`` whose target column is in ``frame``.

    Columns default to the ones the bundle was trained with. Returns a JSON-ready dict
    with one entry per head; with both heads, ``result["churn"]["by_cause"]`` gives the churn rate and
    mean churn probability per predicted cause (and the money at risk with ``value_col``).
    With ``plots_dir``, also writes PNG plots there (confusion, coverage, reliability).
    ``precision`` is the encoder's, resolved as by :func:`~complaintkit.scoring.score_file` (so
    the default measures what ``score`` produces) and recorded as ``result["precision"]``, with what
    ran it as ``result["encoder"]``.
    """
    precision = resolve_precision(precision)
    with run_settings(bundle.embedders, precision, RecentVectors()):
        result = _evaluate_heads(bundle, frame, label_col, churn_col, text_cols, split_col, split, value_col)
    result["precision"] = precision
    result["encoder"] = encoder_runtime(precision)
    if plots_dir is not None:
        from .plots import write_evaluation_plots

        result["plots"] = write_evaluation_plots(result, Path(plots_dir))
    return result


def _evaluate_heads(bundle: Bundle, frame: pd.DataFrame, label_col: str | None, churn_col: str | None,
                    text_cols: Sequence[str] | None, split_col: str | None, split: str | None,
                    value_col: str | None) -> dict[str, Any]:
    columns = bundle.metadata.get("columns", {})
    label_col = label_col or columns.get("label")
    churn_col = churn_col or columns.get("churn")
    frame = _select_split(frame, split_col, split)
    if value_col is not None:
        require_columns(frame, {"value": (value_col, "--value-col")})
    texts = join_text_columns(frame, list(text_cols or bundle.text_cols))
    result: dict[str, Any] = {}
    if bundle.root_cause is not None and label_col in frame.columns:
        labelled = frame[label_col].notna() & (frame[label_col].astype(str).str.strip() != "")
        proba = bundle.root_cause.predict_proba(texts[labelled])
        result["root_cause"] = root_cause_metrics(
            frame.loc[labelled, label_col].astype(str), proba, bundle.root_cause.classes_,
            bundle.review_threshold)
        if bundle.hierarchy:
            result["root_cause_parent"] = parent_metrics(
                frame.loc[labelled, label_col].astype(str), proba, bundle.root_cause.classes_, bundle.hierarchy)
        if "language" in frame.columns:
            result["root_cause_by_language"] = metrics_by_group(
                frame.loc[labelled, label_col].astype(str), proba, bundle.root_cause.classes_,
                frame.loc[labelled, "language"])
        if result["root_cause"]["unseen_labels"]:
            _logging.logger.warning("labels the model never saw (always counted wrong): %s",
                                    result["root_cause"]["unseen_labels"])
    if bundle.churn is not None and churn_col in frame.columns:
        known = frame[churn_col].notna()
        outcome = normalise_outcome(frame.loc[known, churn_col], churn_col)
        inputs = frame.loc[known].assign(text=texts[known])
        probability = bundle.churn.predict_proba(inputs)[:, 1]
        result["churn"] = churn_metrics(outcome, probability)
        if bundle.root_cause is not None:
            result["churn"]["by_cause"] = churn_by_cause(
                bundle.root_cause.predict(texts[known].tolist()), probability, outcome,
                frame.loc[known, value_col].to_numpy() if value_col else None)
    if not result:
        raise InputError(
            f"nothing to evaluate: the data has neither the label column {label_col!r} nor the "
            f"outcome column {churn_col!r} of the model; name them with --label-col / --churn-col."
        )
    return result
