"""The bundle shipped with a Spark job: zipped on the driver, unpacked and verified on each executor.

The driver zips the bundle folder (its ``metadata.json`` and every file it lists, including a
few-label bundle's ``encoder/`` folder and a fast tier's ``static/`` table) under a name made of
the SHA-256 of its recorded file hashes, and adds it to the job (``SparkContext.addFile``). Each
executor unpacks it into its own work folder and loads it with :meth:`Bundle.load`, which checks
every file against its recorded SHA-256 and the installed MiniLM against the hash the bundle was
trained with; the name is checked against the hashes too, so a different bundle cannot stand in.
Each Python worker loads it once (:func:`shipped_bundle` is cached by that name).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..exceptions import BundleError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from ..bundle import Bundle

_PREFIX = "complaintkit-bundle-"
METADATA = "metadata.json"


def artifacts_digest(artifacts: dict[str, str]) -> str:
    """A short SHA-256 over a bundle's recorded file hashes: the name it is shipped under."""
    return hashlib.sha256(json.dumps(artifacts, sort_keys=True).encode()).hexdigest()[:20]


def bundle_archive(bundle_dir: str | Path, folder: str | Path) -> Path:
    """Zip bundle ``bundle_dir`` into ``folder`` as ``complaintkit-bundle-<digest>.zip`` (kept if already there)."""
    bundle_dir = Path(bundle_dir)
    artifacts = json.loads((bundle_dir / METADATA).read_text()).get("artifacts") or {}
    archive = Path(folder) / f"{_PREFIX}{artifacts_digest(artifacts)}.zip"
    if archive.exists():
        return archive
    archive.parent.mkdir(parents=True, exist_ok=True)
    partial = archive.with_name(f".{archive.name}.{os.getpid()}")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_STORED) as zipped:
        for name in [METADATA, *sorted(artifacts)]:
            zipped.write(bundle_dir / name, name)
    os.replace(partial, archive)
    return archive


def ship_bundle(spark: SparkSession, bundle_dir: str | Path) -> str:
    """Add bundle ``bundle_dir`` to ``spark``'s jobs; return the file name executors find it under.

    The archive is built once per bundle content in the driver's temporary folder, so a
    session that scores several files adds the same file once.
    """
    archive = bundle_archive(bundle_dir, Path(tempfile.gettempdir()) / f"complaintkit-ship-{os.getuid()}")
    spark.sparkContext.addFile(str(archive))
    return archive.name


def unpack_bundle(archive: Path, into: Path) -> Path:
    """Unpack ``archive`` (made by :func:`bundle_archive`) into ``into``/<its name>; return that folder.

    Raises
    ------
    BundleError
        If the recorded hashes inside do not match the archive's name.
    """
    target = into / archive.name.removesuffix(".zip")
    if not (target / METADATA).exists():
        partial = into / f".{target.name}.{os.getpid()}"
        shutil.rmtree(partial, ignore_errors=True)
        with zipfile.ZipFile(archive) as zipped:
            zipped.extractall(partial)
        try:
            os.replace(partial, target)
        except OSError:  # another worker of this executor unpacked it first
            shutil.rmtree(partial, ignore_errors=True)
    artifacts = json.loads((target / METADATA).read_text()).get("artifacts") or {}
    if f"{_PREFIX}{artifacts_digest(artifacts)}" != target.name:
        raise BundleError(f"the shipped bundle {archive.name!r} lists other file hashes than it was shipped "
                          "with; it was changed in transit. Rerun the job.")
    return target


@functools.lru_cache(maxsize=2)
def shipped_bundle(name: str) -> Bundle:
    """The bundle shipped as ``name`` (:func:`ship_bundle`), verified and loaded once per Python worker."""
    from pyspark import SparkFiles

    from ..bundle import Bundle

    archive = Path(SparkFiles.get(name))
    return Bundle.load(unpack_bundle(archive, Path(SparkFiles.getRootDirectory())))


@functools.lru_cache(maxsize=2)
def cached_embedder(model: str) -> Any:
    """The embedding model ``model`` (installed on the worker), loaded once per Python worker."""
    from ..embedding import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(model=model).fit()
