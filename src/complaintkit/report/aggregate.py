"""Aggregates of a scored table. Reads only the scored rows, never the model."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import InputError
from ..io import require_columns
from ..redaction import redact

CAUSE = "root_cause"
CONFIDENCE = "root_cause_proba"
CHURN = "churn_proba"
REVIEW = "needs_review"
TEXT_GUESSES = ("text", "narrative", "complaint", "body", "message", "transcript")


def guess_text_column(scored: pd.DataFrame) -> str | None:
    """The column most likely to hold the complaint text: a known name, else the longest strings."""
    for name in TEXT_GUESSES:
        if name in scored.columns:
            return name
    strings = [c for c in scored.columns if scored[c].dtype == object and not c.startswith(CAUSE)]
    if not strings:
        return None
    lengths = {c: scored[c].dropna().astype(str).str.len().mean() for c in strings}
    best = max(lengths, key=lambda c: lengths[c])
    return best if lengths[best] >= 40 else None


def coerce_scored_types(scored: pd.DataFrame) -> pd.DataFrame:
    """Give the prediction columns numeric/boolean types (CSV input arrives as strings)."""
    scored = scored.copy()
    for column in scored.columns:
        if column.endswith("_proba"):
            scored[column] = pd.to_numeric(scored[column], errors="coerce")
    if REVIEW in scored and scored[REVIEW].dtype != bool:
        scored[REVIEW] = scored[REVIEW].astype(str).str.lower().isin({"true", "1", "1.0"})
    return scored


def _excerpt(text: object, limit: int) -> str:
    text = redact(" ".join(str(text).split()))
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + " …"


def _examples(group: pd.DataFrame, text_col: str | None, n: int, limit: int) -> list[dict[str, Any]]:
    if text_col is None:
        return []
    top = group.nlargest(n, CONFIDENCE) if CONFIDENCE in group else group.head(n)
    return [{"text": _excerpt(row[text_col], limit),
             "confidence": float(row[CONFIDENCE]) if CONFIDENCE in row else None}
            for _, row in top.iterrows()]


def _summary(causes: list[dict[str, Any]], churn: dict[str, Any] | None) -> list[str]:
    lines = []
    top = causes[:3]
    lines.append("The biggest root causes are " + ", ".join(
        f"{c['cause']} ({c['share']:.0%})" for c in top) + ".")
    if churn and churn.get("by_cause"):
        worst = max(churn["by_cause"], key=lambda c: c["mean_churn"])
        lines.append(f"Customers complaining about {worst['cause']} are the most likely to leave "
                     f"(mean churn probability {worst['mean_churn']:.0%} vs {churn['mean']:.0%} overall).")
    return lines


def build_report(scored: pd.DataFrame, *, text_col: str | None = None, examples: int = 3,
                 excerpt_chars: int = 400) -> dict[str, Any]:
    """Compute every section of the report that the columns of ``scored`` allow.

    Returns a JSON-ready dict; sections that cannot be computed are listed in ``notes``.
    """
    require_columns(scored, {"predicted root cause": (CAUSE, "complaintkit score")})
    if scored.empty:
        raise InputError("the scored table has no rows; score some complaints first.")
    scored = coerce_scored_types(scored)
    if text_col is not None:
        require_columns(scored, {"text": (text_col, "--text-col")})
    text_col = text_col or guess_text_column(scored)
    notes = []
    if text_col is None:
        notes.append("No text column found: example complaints are omitted (name one with --text-col).")
    counts = scored[CAUSE].value_counts()
    causes = []
    for cause, count in counts.items():
        group = scored[scored[CAUSE] == cause]
        causes.append({
            "cause": str(cause), "count": int(count), "share": float(count / len(scored)),
            "mean_confidence": float(group[CONFIDENCE].mean()) if CONFIDENCE in group else None,
            "needs_review_share": float(group[REVIEW].mean()) if REVIEW in group else None,
            "mean_churn": float(group[CHURN].mean()) if CHURN in group else None,
            "examples": _examples(group, text_col, examples, excerpt_chars),
        })
    churn = None
    if CHURN in scored:
        churn = {"mean": float(scored[CHURN].mean()),
                 "by_cause": [{"cause": c["cause"], "mean_churn": c["mean_churn"], "count": c["count"]}
                              for c in causes],
                 "high_risk_share": float((scored[CHURN] >= 0.5).mean())}
    else:
        notes.append("No churn probabilities in the scored table: the churn section is omitted.")
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "rows": int(len(scored)),
        "text_column": text_col,
        "needs_review_share": float(scored[REVIEW].mean()) if REVIEW in scored else None,
        "causes": causes,
        "churn": churn,
        "summary": _summary(causes, churn),
        "notes": notes,
        "mean_confidence": float(np.mean(scored[CONFIDENCE])) if CONFIDENCE in scored else None,
    }
