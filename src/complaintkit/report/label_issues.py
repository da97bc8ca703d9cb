"""The report's section on doubtful training labels, read from the bundle's ``label_issues.csv``."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import pandas as pd

from .. import _logging
from ..bundle import METADATA
from ..bundle.folder import modified_error
from ..bundle.metadata_schema import read_metadata
from ..exceptions import BundleError
from ..label_issues import LABEL_ISSUES_FILE

TOP = 20
TEXT_CHARS = 240


def label_issues_section(model: str | Path, top: int = TOP) -> dict[str, Any] | None:
    """The ``top`` most doubtful training labels of the bundle at ``model`` and their counts.

    ``None`` when the bundle has no ``label_issues.csv`` (trained before it was written,
    zero-shot, or churn only). Texts are already masked in the file; they are cut here.

    The file is read only when ``metadata.json`` lists it, and its bytes must have the SHA-256
    recorded there (hashed and parsed from one read), as :meth:`~complaintkit.bundle.Bundle.load`
    checks the heads.

    Raises
    ------
    BundleError
        If the file was changed after training.
    """
    path = Path(model) / LABEL_ISSUES_FILE
    metadata = read_metadata(Path(model))
    expected = metadata.get("artifacts", {}).get(LABEL_ISSUES_FILE)
    if expected is None:
        if path.is_file():
            _logging.logger.warning("%s is not listed in the bundle's %s (not written by training): left out of "
                                    "the report", path, METADATA)
        return None
    if not path.is_file():
        raise BundleError(f"bundle {str(model)!r} is missing {LABEL_ISSUES_FILE}; re-copy or re-train the bundle.")
    content = path.read_bytes()
    actual = hashlib.sha256(content).hexdigest()
    if actual != expected:
        raise modified_error(path, actual, expected)
    issues = pd.read_csv(io.BytesIO(content), dtype={"row_id": str, "given_label": str, "suggested_label": str,
                                                      "text": str}, keep_default_na=False)
    summary = metadata.get("label_issues", {})
    shown = issues.head(top).copy()
    if "text" in shown.columns:
        shown["text"] = shown["text"].str.slice(0, TEXT_CHARS)
    dropped = issues["dropped"].astype(str).str.lower().eq("true") if "dropped" in issues else None
    flagged = issues if dropped is None else issues.head(int(summary.get("rows_flagged", len(issues))))
    return {"rows_flagged": int(len(flagged)), "rows_checked": summary.get("rows_checked"),
            "rows_dropped": None if dropped is None else int(dropped.sum()),
            "method": summary.get("method", ""), "file": str(path),
            "pairs": [{"given_label": g, "suggested_label": s, "rows": int(n)} for (g, s), n in
                      flagged.groupby(["given_label", "suggested_label"]).size().nlargest(5).items()],
            "top": shown.to_dict(orient="records")}
