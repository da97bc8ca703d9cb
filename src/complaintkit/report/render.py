"""Rendering report data as a self-contained HTML file (inline CSS and SVG, no CDN)."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, select_autoescape

from ..io import write_table
from .charts import bar_chart


def _charts(data: dict[str, Any]) -> dict[str, str]:
    causes = data["causes"]
    charts = {"shares": bar_chart([c["cause"] for c in causes], [c["count"] for c in causes], "complaints")}
    if data.get("churn"):
        by_cause = sorted(data["churn"]["by_cause"], key=lambda c: -c["mean_churn"])
        charts["churn"] = bar_chart([c["cause"] for c in by_cause], [c["mean_churn"] for c in by_cause],
                                    "mean churn probability", percent=True)
    return charts


def render_html(data: dict[str, Any]) -> str:
    """The report as one HTML page that opens offline."""
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    template = env.from_string((files(__package__) / "template.html").read_text(encoding="utf-8"))
    css = (files(__package__) / "report.css").read_text(encoding="utf-8")
    return template.render(data=data, charts=_charts(data), css=css)


def cause_table(data: dict[str, Any]) -> pd.DataFrame:
    """One row per root cause with its count, share, confidence, review share and churn."""
    return pd.DataFrame([{k: v for k, v in c.items() if k != "examples"} for c in data["causes"]])


def write_report(data: dict[str, Any], out: str | Path, fmt: str = "html") -> Path:
    """Write ``data`` as HTML, Markdown, JSON or CSV (the cause table) to ``out``."""
    out = Path(out)
    if fmt == "csv":
        write_table(cause_table(data), out)
        return out
    if fmt == "json":
        text = json.dumps(data, indent=2)
    elif fmt == "md":
        lines = [f"# Root-cause report ({data['rows']:,} complaints)", "", *data["summary"], "",
                 _markdown_table(cause_table(data))]
        text = "\n".join(lines) + "\n"
    elif fmt == "html":
        text = render_html(data)
    else:
        raise ValueError(f"unknown report format {fmt!r}; expected html, md, json or csv.")
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)
    return out


def _markdown_table(frame: pd.DataFrame) -> str:
    def cell(value: Any) -> str:
        return f"{value:.3f}" if isinstance(value, float) else str(value)

    rows = [" | ".join(map(str, frame.columns)), " | ".join("---" for _ in frame.columns)]
    rows += [" | ".join(cell(v) for v in record) for record in frame.itertuples(index=False)]
    return "\n".join(f"| {row} |" for row in rows)
