"""Rendering report data as a self-contained HTML file (inline CSS and SVG, no CDN), Markdown, JSON or CSV."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, select_autoescape

from ..io import write_table
from .charts import bar_chart, heatmap, line_chart
from .formats import FORMATS
from .safe_cells import markdown_text


def _charts(data: dict[str, Any]) -> dict[str, Any]:
    causes = data["causes"]
    charts: dict[str, Any] = {
        "shares": bar_chart([c["cause"] for c in causes], [c["count"] for c in causes], "complaints")}
    if data.get("trends"):
        trends = data["trends"]
        charts["trends"] = line_chart(trends["periods"], trends["series"], f"complaints per {trends['frequency']}")
    if data.get("churn"):
        by_cause = data["churn"]["by_cause"]
        charts["churn"] = bar_chart([c["cause"] for c in by_cause], [c["mean_churn"] for c in by_cause],
                                    "mean churn probability", percent=True)
    if data.get("money"):
        money = data["money"]
        key = "at_risk" if money["weighted_by_churn"] else "value"
        charts["money"] = bar_chart([c["cause"] for c in money["by_cause"]], [c[key] for c in money["by_cause"]],
                                    f"{money['column']} at risk" if money["weighted_by_churn"] else money["column"])
    charts["segments"] = [heatmap(s["segments"], s["causes"], s["residuals"], s["shares"], s["threshold"])
                          for s in data.get("segments", [])]
    return charts


def render_html(data: dict[str, Any]) -> str:
    """The report as one HTML page that opens offline."""
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    template = env.from_string((files(__package__) / "template.html").read_text(encoding="utf-8"))
    css = (files(__package__) / "report.css").read_text(encoding="utf-8")
    return template.render(data=data, charts=_charts(data), css=css)


def cause_table(data: dict[str, Any]) -> pd.DataFrame:
    """One row per root cause: count, share, change, confidence, review share, churn and money."""
    money = {m["cause"]: m for m in (data.get("money") or {}).get("by_cause", [])}
    rows = []
    for c in data["causes"]:
        row = {k: v for k, v in c.items() if k != "examples"}
        if c["cause"] in money:
            row.update({f"money_{k}": v for k, v in money[c["cause"]].items() if k != "cause"})
        rows.append(row)
    return pd.DataFrame(rows)


def _markdown(data: dict[str, Any]) -> str:
    lines = [f"# Root-cause report ({data['rows']:,} complaints)", "",
             *[f"- {markdown_text(s)}" for s in data["summary"]], "",
             "## Causes", "", _markdown_table(cause_table(data))]
    for section in data.get("segments", []):
        lines += ["", f"## Segments by {markdown_text(section['column'])} (cells above z = {section['threshold']})",
                  ""]
        lines.append(_markdown_table(pd.DataFrame(section["highlights"])) if section["highlights"]
                     else "No segment stands out.")
    if data.get("emerging"):
        clusters = pd.DataFrame(data["emerging"]["clusters"])[["id", "status", "label", "size", "nearest_cause",
                                                                "growth"]]
        lines += ["", f"## Emerging issues ({data['emerging']['rule']})", "", _markdown_table(clusters)]
    if data.get("drift"):
        lines += ["", "## Drift (PSI)", "", _markdown_table(pd.DataFrame(data["drift"]["checks"]))]
    if data.get("label_issues"):
        issues = data["label_issues"]
        left_out = f"; {issues['rows_dropped']:,} left out of training" if issues.get("rows_dropped") else ""
        lines += ["", f"## Doubtful training labels ({issues['rows_flagged']:,} of {issues['rows_checked']:,} "
                      f"training rows{left_out})", "", _markdown_table(pd.DataFrame(issues["top"]))]
    if data["notes"]:
        lines += ["", "## Notes", "", *[f"- {markdown_text(n)}" for n in data["notes"]]]
    return "\n".join(lines) + "\n"


def write_report(data: dict[str, Any], out: str | Path, fmt: str = "html") -> Path:
    """Write ``data`` as HTML, Markdown, JSON or CSV (the cause table) to ``out``."""
    out = Path(out)
    public = {k: v for k, v in data.items() if not k.startswith("_")}
    if fmt == "csv":
        write_table(cause_table(public), out)  # formula cells neutralised by write_table
        return out
    if fmt == "json":
        text = json.dumps(public, indent=2)
    elif fmt == "md":
        text = _markdown(public)
    elif fmt == "html":
        text = render_html(public)
    else:
        raise ValueError(f"unknown report format {fmt!r}; expected one of {list(FORMATS)}.")
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)
    return out


def _markdown_table(frame: pd.DataFrame) -> str:
    def cell(value: Any) -> str:
        if isinstance(value, dict):
            return "; ".join(f"{k}: {cell(v)}" for k, v in value.items())
        return f"{value:.3f}" if isinstance(value, float) else markdown_text(value)

    frame = frame.drop(columns=[c for c in frame.columns if c in ("examples", "terms")])
    rows = [" | ".join(map(markdown_text, frame.columns)), " | ".join("---" for _ in frame.columns)]
    rows += [" | ".join(cell(v) for v in record) for record in frame.itertuples(index=False)]
    return "\n".join(f"| {row} |" for row in rows)
