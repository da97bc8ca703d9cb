"""Charts of the report as inline SVG strings (matplotlib, no JavaScript, no network)."""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

COLOUR = "#3b6ea8"


def _svg(fig: plt.Figure) -> str:
    buffer = io.StringIO()
    fig.tight_layout()
    fig.savefig(buffer, format="svg")
    plt.close(fig)
    svg = buffer.getvalue()
    return svg[svg.index("<svg"):]


def bar_chart(labels: Sequence[str], values: Sequence[float], xlabel: str, percent: bool = False) -> str:
    """Horizontal bars, largest at the top, as an SVG string."""
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(labels) + 1.0))
    positions = range(len(labels))[::-1]
    ax.barh(list(positions), values, color=COLOUR)
    ax.set_yticks(list(positions), labels, fontsize=9)
    ax.set_xlabel(xlabel)
    for y, v in zip(positions, values, strict=True):
        ax.text(v, y, f" {v:.0%}" if percent else f" {v:,.0f}", va="center", fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    ax.margins(x=0.15)
    return _svg(fig)
