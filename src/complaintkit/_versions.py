"""Versions of complaintkit and the libraries a bundle depends on."""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version

LIBRARIES = ("complaintkit", "scikit-learn", "sentence-transformers", "torch", "numpy", "pandas", "joblib", "skops")


def library_versions() -> dict[str, str]:
    """Installed versions of :data:`LIBRARIES` and Python."""
    found = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found
