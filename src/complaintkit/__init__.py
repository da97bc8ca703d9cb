"""complaintkit: complaint texts → embeddings → root cause and churn likelihood → reports.

Importing the package does no work: each name below is imported from its module on first use.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from ._lazy import lazy_exports

try:
    __version__ = version("complaintkit")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0"

if TYPE_CHECKING:
    from .bundle import Bundle


def load(path: Any, trust: bool = False) -> Bundle:
    """Load the bundle in folder ``path`` (see :meth:`complaintkit.bundle.Bundle.load`).

    Examples
    --------
    >>> bundle = complaintkit.load("models/cfpb")  # doctest: +SKIP
    >>> bundle.predict(["I was charged twice"])  # doctest: +SKIP
    """
    from .bundle import Bundle

    return Bundle.load(path, trust=trust)


__getattr__, _dir = lazy_exports(__name__, {
    "Bundle": ".bundle",
    "ChurnClassifier": ".heads",
    "RootCauseClassifier": ".heads",
    "SentenceTransformerEmbedder": ".embedding",
    "TrainConfig": ".config",
    "aggregate_customers": ".customers",
    "build_report": ".report",
    "evaluate": ".evaluation",
    "read_table": ".io",
    "score_file": ".scoring",
    "score_frame": ".scoring",
    "train": ".training",
    "write_report": ".report",
})
__all__ = [*_dir(), "__version__", "load"]
