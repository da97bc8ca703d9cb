"""The columns complaintkit writes, by name and type: shared by scoring, customers and the report.

Readers of a scored table (the report, customer aggregation) and its writer (scoring) name
every column through this module, so a rename happens in one place.
"""

from __future__ import annotations

ROW = "row_number"  # the input row, counted from 0 in file order
REASON = "reject_reason"  # why a row was rejected (rejects file only)
CAUSE = "root_cause"  # the most probable root cause
CONFIDENCE = "root_cause_proba"  # its probability
PARENT = "root_cause_parent"  # its parent in the label hierarchy, when the bundle has one
REVIEW = "needs_review"  # confidence below the bundle's review threshold
CHURN = "churn_proba"  # probability that the customer churns
LANGUAGE = "language"  # detected language (with --language)
TRUNCATED = "text_truncated"  # the text was cut at --max-chars (with --too-long truncate)
EMBEDDING = "embedding"  # a list of floats (the embed command)
TOP_K = 3  # root causes ranked per row: root_cause, root_cause_2, root_cause_3


def ranked_cause(k: int) -> tuple[str, str]:
    """The label and probability columns of the ``k``-th most probable cause (``k`` from 1)."""
    suffix = "" if k == 1 else f"_{k}"
    return f"{CAUSE}{suffix}", f"{CAUSE}{suffix}_proba"


PREDICTION_TYPES = {  # column → pandas dtype kind in a scored table
    CAUSE: "object", CONFIDENCE: "float64", PARENT: "object", REVIEW: "bool", CHURN: "float64",
    LANGUAGE: "object", TRUNCATED: "bool",
}
