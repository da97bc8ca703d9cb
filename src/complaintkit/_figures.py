"""Matplotlib figures that touch no global state: no pyplot, no backend switch, no rcParams edits."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def new_figure(*args: Any, figsize: tuple[float, float], **subplots: Any) -> tuple[Figure, Any]:
    """A figure of ``figsize`` inches and its axes (``Figure.subplots(*args, **subplots)``)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=figsize)
    return figure, figure.subplots(*args, **subplots)


def save_figure(figure: Figure, target: Any, **savefig: Any) -> None:
    """Lay out ``figure`` and save it to ``target``; SVG text stays text (smaller, selectable)."""
    import matplotlib

    figure.tight_layout()
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        figure.savefig(target, **savefig)
