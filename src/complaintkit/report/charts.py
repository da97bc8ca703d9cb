"""Charts of the report as inline SVG strings (matplotlib, no JavaScript, no network)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .._figures import new_figure, save_figure
from .safe_cells import chart_text

if TYPE_CHECKING:
    from matplotlib.figure import Figure

COLOUR = "#3b6ea8"
PALETTE = ["#3b6ea8", "#e07b39", "#4a9c5d", "#c44e52", "#8172b2", "#937860", "#9aa3ad"]


def _svg(fig: Figure) -> str:
    buffer = io.StringIO()
    save_figure(fig, buffer, format="svg")
    svg = buffer.getvalue()
    return svg[svg.index("<svg"):]


def bar_chart(labels: Sequence[str], values: Sequence[float], xlabel: str, percent: bool = False) -> str:
    """Horizontal bars, first label at the top, as an SVG string."""
    fig, ax = new_figure(figsize=(7, 0.35 * len(labels) + 1.0))
    positions = range(len(labels))[::-1]
    ax.barh(list(positions), values, color=COLOUR)
    ax.set_yticks(list(positions), [chart_text(label) for label in labels], fontsize=9)
    ax.set_xlabel(chart_text(xlabel))
    for y, v in zip(positions, values, strict=True):
        ax.text(v, y, f" {v:.0%}" if percent else f" {v:,.0f}", va="center", fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    ax.margins(x=0.15)
    return _svg(fig)


def line_chart(periods: Sequence[str], series: dict[str, Sequence[int]], ylabel: str) -> str:
    """One line per series over ``periods`` (ISO dates), legend on the right."""
    fig, ax = new_figure(figsize=(9, 3.6))
    x = np.array(periods, dtype="datetime64[D]")
    for colour, (name, values) in zip(PALETTE, series.items(), strict=False):
        ax.plot(x, values, label=chart_text(name), color=colour, linewidth=1.6, marker="o" if len(x) <= 40 else None,
                markersize=3)
    ax.set_ylabel(chart_text(ylabel))
    if len(x) <= 16:  # one tick per period, never hours between days
        ax.set_xticks(x, [str(p) for p in periods])
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.autofmt_xdate()
    return _svg(fig)


def heatmap(rows: Sequence[str], cols: Sequence[str], residuals: Sequence[Sequence[float]],
            shares: Sequence[Sequence[float]], threshold: float) -> str:
    """Cells coloured by standardised residual (red: above expectation), labelled with the share."""
    values = np.asarray(residuals, float)
    limit = max(float(np.abs(values).max()), threshold, 1.0)
    fig, ax = new_figure(figsize=(1.0 + 0.75 * len(cols), 0.9 + 0.32 * len(rows)))
    image = ax.imshow(values, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
    ax.set_xticks(range(len(cols)), [chart_text(c)[:22] for c in cols], rotation=40, ha="right", fontsize=8)
    ax.set_yticks(range(len(rows)), [chart_text(r)[:32] for r in rows], fontsize=8)
    for i, row in enumerate(np.asarray(shares, float)):
        for j, share in enumerate(row):
            flagged = values[i, j] > threshold
            ax.text(j, i, f"{share:.0%}", ha="center", va="center", fontsize=7,
                    fontweight="bold" if flagged else "normal", color="white" if abs(values[i, j]) > limit * 0.6
                    else "#1d2733")
    fig.colorbar(image, ax=ax, shrink=0.8, label="standardised residual")
    return _svg(fig)
