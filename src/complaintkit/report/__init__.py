"""The root-cause report: aggregates of a scored table, rendered as one offline HTML file."""

from .aggregate import build_report
from .drift import training_profile
from .emerging import load_state, save_state
from .render import render_html, write_report
from .run import report_file

__all__ = ["build_report", "load_state", "render_html", "report_file", "save_state", "training_profile",
           "write_report"]
