"""A bundle folder on disk: written in a staging folder and swapped into place, and every file
checked against the SHA-256 recorded when it was saved."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from .. import _logging
from ..exceptions import BundleError

METADATA = "metadata.json"


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def staging_prefix(target: Path) -> str:
    """Name prefix of the staging folders of a save to ``target``."""
    return f".{target.name}.staging-"


def remove_stale_staging(target: Path) -> None:
    """Delete staging folders left by killed saves of ``target`` (their process is gone)."""
    prefix = staging_prefix(target)
    for folder in target.parent.glob(f"{prefix}*"):
        pid = folder.name[len(prefix):].split("-", 1)[0]
        if pid.isdigit() and not _process_alive(int(pid)):
            _logging.logger.info("removing %s, left by an interrupted save", folder)
            shutil.rmtree(folder, ignore_errors=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def swap_into_place(staging: Path, target: Path) -> None:
    """Replace ``target`` (if any) by the finished ``staging`` folder."""
    if target.exists():
        old = target.with_name(f".{target.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
        os.replace(staging, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, target)


def verify_artifacts(root: Path, artifacts: dict[str, str]) -> None:
    """Raise :class:`BundleError` unless every file in ``artifacts`` exists with its recorded SHA-256."""
    if not artifacts:
        raise BundleError(f"bundle {str(root)!r} lists no artifacts in {METADATA}; it is damaged.")
    for name, expected in artifacts.items():
        file = root / name
        if not file.exists():
            raise BundleError(f"bundle {str(root)!r} is missing {name}; re-copy or re-train the bundle.")
        actual = file_sha256(file)
        if actual != expected:
            raise modified_error(file, actual, expected)


def modified_error(file: Path, actual: str, expected: str) -> BundleError:
    """The error for a bundle file whose SHA-256 ``actual`` is not the ``expected`` one of ``metadata.json``."""
    return BundleError(f"bundle file {str(file)!r} was modified: SHA-256 {actual[:12]}… does not match "
                       f"{expected[:12]}… in {METADATA}. Refusing to load it; re-train or restore the bundle.")
