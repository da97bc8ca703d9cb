"""PNG plots of evaluation results (matplotlib, no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ._figures import new_figure, save_figure
from .io import atomic_write

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PLOT_FILES = {"confusion": "confusion.png", "coverage": "coverage.png", "reliability": "reliability.png"}


def _save(fig: Figure, path: Path) -> str:
    with atomic_write(path) as partial:  # never a half-written PNG under the final name
        save_figure(fig, partial, dpi=110, format="png")
    return str(path)


def confusion_plot(confusion: dict[str, Any], path: Path) -> str:
    """Row-normalised confusion matrix heatmap."""
    labels = confusion["labels"]
    matrix = np.asarray(confusion["matrix"], dtype=float)
    shares = matrix / matrix.sum(axis=1, keepdims=True).clip(min=1)
    size = max(5.0, 0.45 * len(labels))
    fig, ax = new_figure(figsize=(size + 1, size))
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if len(labels) <= 20:
        for (i, j), count in np.ndenumerate(matrix):
            if count:
                ax.text(j, i, int(count), ha="center", va="center", fontsize=7,
                        color="white" if shares[i, j] > 0.5 else "black")
    fig.colorbar(image, ax=ax, fraction=0.046, label="share of true class")
    return _save(fig, path)


def coverage_plot(curve: list[dict[str, float]], path: Path) -> str:
    """Accuracy of auto-classified complaints against the share auto-classified."""
    fig, ax = new_figure(figsize=(5, 4))
    ax.plot([r["coverage"] for r in curve], [r["accuracy"] for r in curve], marker="o")
    for r in curve:
        ax.annotate(f"≥{r['threshold']:.2f}", (r["coverage"], r["accuracy"]), fontsize=7,
                    textcoords="offset points", xytext=(4, 4))
    ax.set_xlabel("coverage (share auto-classified)")
    ax.set_ylabel("accuracy of auto-classified")
    ax.grid(alpha=0.3)
    return _save(fig, path)


def reliability_plot(table: list[dict[str, float]], path: Path) -> str:
    """Reliability diagram: observed churn rate against mean predicted probability per bin."""
    fig, (top, bottom) = new_figure(2, 1, figsize=(5, 5.5), height_ratios=[3, 1], sharex=True)
    mean = [r["mean_probability"] for r in table]
    top.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    top.plot(mean, [r["observed_rate"] for r in table], marker="o", label="model")
    top.set_ylabel("observed churn rate")
    top.set_xlim(0, 1)
    top.set_ylim(0, 1)
    top.legend(loc="upper left", fontsize=8)
    top.grid(alpha=0.3)
    bottom.bar([(r["bin_low"] + r["bin_high"]) / 2 for r in table], [r["rows"] for r in table],
               width=0.9 * (table[0]["bin_high"] - table[0]["bin_low"]) if table else 0.1, color="tab:blue")
    bottom.set_xlabel("predicted churn probability")
    bottom.set_ylabel("rows")
    return _save(fig, path)


def write_evaluation_plots(result: dict[str, Any], folder: Path) -> dict[str, str]:
    """Write the plots that ``result`` allows into ``folder``; return their paths by name."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    if "root_cause" in result:
        written["confusion"] = confusion_plot(result["root_cause"]["confusion"], folder / PLOT_FILES["confusion"])
        written["coverage"] = coverage_plot(result["root_cause"]["coverage_curve"], folder / PLOT_FILES["coverage"])
    if "churn" in result:
        written["reliability"] = reliability_plot(result["churn"]["reliability"], folder / PLOT_FILES["reliability"])
    return written
