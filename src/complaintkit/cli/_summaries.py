"""One-line summaries of metrics with their intervals, shared by the commands that print them."""

from __future__ import annotations

from typing import Any

_NAMES = {"macro_f1": "macro-F1", "accuracy": "accuracy", "roc_auc": "ROC-AUC", "pr_auc": "PR-AUC"}


def with_interval(name: str, value: float, interval: list[float] | None) -> str:
    """``"macro-F1 0.734 (95% CI 0.690-0.776)"``, without the bracket when there is no interval."""
    shown = f"{_NAMES.get(name, name)} {value:.3f}"
    return f"{shown} (95% CI {interval[0]:.3f}-{interval[1]:.3f})" if interval else shown


def quality_line(quality: dict[str, Any] | None) -> str:
    """The training run's quality figure in one line (see :func:`complaintkit.training.quality_summary`)."""
    if not quality:
        return ("quality: no held-out split and no cross-validated figure for this bundle; "
                "run complaintkit evaluate on labelled rows it was not trained on.")
    figures = ", ".join(with_interval(k, quality[k], quality["ci"].get(k)) for k in quality["ci"])
    head = quality["head"].replace("_", " ")
    return f"{quality['kind']} {head} ({quality['rows']} rows): {figures}"
