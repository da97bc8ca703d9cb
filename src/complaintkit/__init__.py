"""complaintkit: complaint texts → embeddings → root cause and churn likelihood → reports.

Importing the package does no work: each name below is imported from its module on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._lazy import lazy_exports

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


_exported, _dir = lazy_exports(__name__, {
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


def __getattr__(name: str) -> Any:
    if name == "__version__":  # read on first use: importlib.metadata is slow to import
        from importlib.metadata import PackageNotFoundError, version

        try:
            value = version("complaintkit")
        except PackageNotFoundError:  # running from a source tree without installing
            value = "0.0.0"
        globals()["__version__"] = value
        return value
    return _exported(name)


__getattr__.exports = _exported.exports  # read by the import-graph test
