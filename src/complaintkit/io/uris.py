"""Locations written as URIs (``s3a://bucket/x``, ``hdfs://nn/x``, ``file:///x``) next to local paths."""

from __future__ import annotations

import re
from pathlib import Path

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:(//|/)")


def is_uri(location: str | Path) -> bool:
    """Whether ``location`` is a URI with a scheme (``s3a://b/x``, ``file:///x``) rather than a local path."""
    return isinstance(location, str) and bool(_SCHEME.match(location))


def to_uri(location: str | Path) -> str:
    """``location`` as a URI: URIs unchanged, local paths as absolute ``file://`` URIs."""
    if is_uri(location):
        return str(location)
    return Path(location).absolute().as_uri()


def uri_name(uri: str) -> str:
    """The last segment of ``uri`` (``s3a://b/in/new.csv`` → ``new.csv``)."""
    return uri.rstrip("/").rsplit("/", 1)[-1]
