"""What ``GET /v1/model`` says about the loaded bundle."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from .._versions import library_versions
from ..bundle import Bundle
from ..heads.cascade import CascadeRootCauseClassifier
from .limits import ServeLimits


def model_info(bundle: Bundle, limits: ServeLimits, precision: str, cascade: str = "on") -> dict[str, Any]:
    """Labels, held-out metrics, versions and file hashes of ``bundle``, and the service's settings.

    ``scoring_cascade`` is ``cascade`` ("on": the fast head answers the rows it is sure of, "off": the
    full head every row) for a bundle trained with a scoring cascade, ``None`` for one without.

    Examples
    --------
    >>> from complaintkit import Bundle
    >>> info = model_info(Bundle(metadata={"name": "demo"}, path="models/demo"), ServeLimits(), "fp32")
    >>> info["name"], info["limits"]["max_texts"], info["scoring_cascade"]
    ('demo', 1000, None)
    """
    meta = bundle.metadata
    heads = meta.get("heads", {})
    return {
        "name": meta.get("name"),
        "heads": sorted(heads),
        "labels": heads.get("root_cause", {}).get("labels", []),
        "columns": meta.get("columns", {}),
        "review_threshold": bundle.review_threshold,
        "metrics": meta.get("metrics", {}),
        "metrics_split": meta.get("metrics_split"),
        "format_version": meta.get("format_version"),
        "saved_at": meta.get("saved_at"),
        "versions": {"bundle": meta.get("versions", {}), "service": library_versions()},
        "hashes": {"artifacts": meta.get("artifacts", {}),
                   "embedding_model": meta.get("embedding_model", {}).get("sha256"),
                   "training_data": meta.get("training_data", {}).get("sha256")},
        "encoder_precision": precision,
        "scoring_cascade": cascade if isinstance(bundle.root_cause, CascadeRootCauseClassifier) else None,
        "limits": asdict(limits),
    }
