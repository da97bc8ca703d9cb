"""The report's section on doubtful training labels, read from the bundle's ``label_issues.csv``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from ..bundle import METADATA
from ..label_issues import LABEL_ISSUES_FILE

TOP = 20
TEXT_CHARS = 240


def label_issues_section(model: str | Path, top: int = TOP) -> dict[str, Any] | None:
    """The ``top`` most doubtful training labels of the bundle at ``model`` and their counts.

    ``None`` when the bundle has no ``label_issues.csv`` (trained before it was written,
    zero-shot, or churn only). Texts are already masked in the file; they are cut here.
    """
    path = Path(model) / LABEL_ISSUES_FILE
    if not path.is_file():
        return None
    issues = pd.read_csv(path, dtype={"row_id": str, "given_label": str, "suggested_label": str, "text": str},
                         keep_default_na=False)
    summary = json.loads((Path(model) / METADATA).read_text(encoding="utf-8")).get("label_issues", {})
    shown = issues.head(top).copy()
    if "text" in shown.columns:
        shown["text"] = shown["text"].str.slice(0, TEXT_CHARS)
    return {"rows_flagged": int(len(issues)), "rows_checked": summary.get("rows_checked"),
            "method": summary.get("method", ""), "file": str(path),
            "pairs": [{"given_label": g, "suggested_label": s, "rows": int(n)} for (g, s), n in
                      issues.groupby(["given_label", "suggested_label"]).size().nlargest(5).items()],
            "top": shown.to_dict(orient="records")}
