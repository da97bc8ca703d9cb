"""What a bundle's ``metadata.json`` may hold, checked before any of it is used.

A bundle may come from anywhere: every value read from it is checked for type and size, and
every file it names must be a regular file inside the bundle folder.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

from ..exceptions import BundleError
from .folder import METADATA

MAX_METADATA_BYTES = 32 * 1024 * 1024
MAX_ARTIFACT_BYTES = 4 * 1024 ** 3
_SHA256 = re.compile(r"[0-9a-f]{64}")


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _is_str_map(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# key → (check, what it should be); keys not listed are kept but never read by complaintkit's code paths
_FIELDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "format_version": (lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer"),
    "artifacts": (lambda v: isinstance(v, dict) and bool(v), "an object of file name → SHA-256"),
    "name": (lambda v: isinstance(v, str), "a string"),
    "kind": (lambda v: isinstance(v, str), "a string"),
    "saved_at": (lambda v: isinstance(v, str), "a string"),
    "columns": (lambda v: isinstance(v, dict) and _is_str_list(v.get("text", [])), "an object whose text is a "
                "list of column names"),
    "hierarchy": (_is_str_map, "an object of label → parent label"),
    "review": (lambda v: isinstance(v, dict) and _is_number(v.get("threshold", 0.0))
               and 0.0 <= v.get("threshold", 0.0) <= 1.0, "an object whose threshold is a number in [0, 1]"),
    "versions": (_is_str_map, "an object of library → version string"),
    "notes": (_is_str_list, "a list of strings"),
    "redaction": (lambda v: isinstance(v, dict) and (v.get("kinds") is None or _is_str_list(v["kinds"])),
                  "an object whose kinds is a list of strings"),
    **{key: (lambda v: isinstance(v, dict), "an object") for key in (
        "config", "heads", "training_data", "training_profile", "embedding_model", "metrics", "metrics_split")},
}


def read_metadata(root: Path) -> dict[str, Any]:
    """Read and check ``root/metadata.json``; raise a one-line :class:`BundleError` on anything unexpected."""
    path = root / METADATA
    if not path.is_file():
        raise BundleError(f"{str(root)!r} is not a complaintkit bundle: {METADATA} is missing or not a file.")
    if path.stat().st_size > MAX_METADATA_BYTES:
        raise BundleError(f"{str(path)!r} is {path.stat().st_size} bytes, more than the {MAX_METADATA_BYTES} a "
                          "bundle's metadata may be; the bundle is damaged.")
    try:
        metadata = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        reason = getattr(exc, "msg", None) or type(exc).__name__
        raise BundleError(f"{str(path)!r} is not valid JSON ({reason}); the bundle is damaged.") from None
    if not isinstance(metadata, dict):
        raise BundleError(f"{str(path)!r} holds no JSON object; the bundle is damaged.")
    for key, (check, expected) in _FIELDS.items():
        if key in metadata and not check(metadata[key]):
            raise BundleError(f"{str(path)!r}: {key!r} should be {expected}, found "
                              f"{type(metadata[key]).__name__}; the bundle is damaged.")
    return metadata


def check_artifacts(root: Path, artifacts: dict[str, Any]) -> None:
    """Raise unless every artifact is a relative path inside ``root`` with a SHA-256, to a regular file.

    Absolute names, ``..`` or empty parts (``../x``, ``/dev/zero``), symlinks leaving the folder,
    devices and FIFOs are refused before anything is opened. Sub-folders (a fine-tuned ``encoder/``) are fine.
    """
    for name, digest in artifacts.items():
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            raise BundleError(f"bundle {str(root)!r}: the SHA-256 of {name!r} in {METADATA} is not 64 hex digits; "
                              "the bundle is damaged.")
        parts = name.split("/")
        if (PurePosixPath(name).is_absolute() or any(part in ("", ".", "..") for part in parts) or "\\" in name
                or len(name) > 255):
            raise BundleError(f"bundle {str(root)!r} names the file {name[:80]!r} in {METADATA}; expected file "
                              "names relative to the bundle folder, without '..'. Refusing to load it.")
        file = root / name
        if os.path.lexists(file):
            if not file.resolve().is_relative_to(root.resolve()):
                raise BundleError(f"bundle file {str(file)!r} links outside the bundle folder; refusing to load it.")
            mode = file.stat().st_mode
            if not stat.S_ISREG(mode):
                raise BundleError(f"bundle file {str(file)!r} is not a regular file; refusing to load it.")
            if file.stat().st_size > MAX_ARTIFACT_BYTES:
                raise BundleError(f"bundle file {str(file)!r} is larger than {MAX_ARTIFACT_BYTES} bytes; the "
                                  "bundle is damaged.")
