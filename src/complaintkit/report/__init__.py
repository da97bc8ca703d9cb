"""The root-cause report: aggregates of a scored table, rendered as one offline HTML file."""

from .aggregate import build_report
from .render import render_html, write_report

__all__ = ["build_report", "render_html", "write_report"]
