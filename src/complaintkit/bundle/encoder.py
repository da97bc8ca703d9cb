"""Fine-tuned encoders inside a bundle folder.

A head whose embedder runs a fine-tuned encoder (a folder written by
:func:`complaintkit.fine_tuning.fine_tune_encoder`) is saved with a copy of that folder under
``encoder/`` in the bundle; the embedder's ``model`` is stored as ``bundle:encoder``, so the
bundle is relocatable and its bytes do not depend on where the encoder was trained. Every
encoder file is listed with its SHA-256 among the bundle's artifacts, so loading refuses a
changed file. The weights are safetensors; nothing is pickled.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ..embedding import SentenceTransformerEmbedder, resolve_model_path
from ..exceptions import BundleError
from ..fine_tuning import MARKER

PREFIX = "bundle:"
FOLDER = "encoder"


def is_fine_tuned(embedder: SentenceTransformerEmbedder) -> bool:
    """Whether ``embedder`` runs an encoder fine-tuned by complaintkit (outside any bundle)."""
    if str(embedder.model).startswith(PREFIX):
        return False
    try:
        return (resolve_model_path(embedder.model) / MARKER).exists()
    except Exception:  # an alias whose package is missing: not ours to copy
        return False


@contextlib.contextmanager
def packed_encoders(embedders: Sequence[SentenceTransformerEmbedder], staging: Path) -> Iterator[dict[str, Any]]:
    """Copy fine-tuned encoders into ``staging`` and point their embedders there while the block runs.

    Yields the fine-tuning settings of the copied encoder (empty when there is none). One
    encoder per bundle; embedders that share it share the copy.
    """
    tuned = [e for e in embedders if is_fine_tuned(e)]
    sources = {str(resolve_model_path(e.model)) for e in tuned}
    if len(sources) > 1:
        raise BundleError(f"a bundle holds one fine-tuned encoder; its heads use {len(sources)}: {sorted(sources)}.")
    originals = [e.model for e in tuned]
    info: dict[str, Any] = {}
    if sources:
        source = Path(sources.pop())
        shutil.copytree(source, staging / FOLDER)
        info = json.loads((source / MARKER).read_text())
        for embedder in tuned:
            embedder.model = PREFIX + FOLDER
    try:
        yield info
    finally:
        for embedder, model in zip(tuned, originals, strict=True):
            embedder.model = model


def encoder_files(staging: Path) -> list[str]:
    """Paths (relative to the bundle, ``/``-separated, sorted) of the files of a packed encoder."""
    folder = staging / FOLDER
    return sorted(p.relative_to(staging).as_posix() for p in folder.rglob("*") if p.is_file())


def unpack_encoders(embedders: Sequence[SentenceTransformerEmbedder], root: Path) -> None:
    """Point embedders stored with ``bundle:<folder>`` at that folder inside bundle ``root``."""
    for embedder in embedders:
        model = str(embedder.model)
        if model.startswith(PREFIX):
            folder = (root / model[len(PREFIX):]).resolve()
            if not folder.is_relative_to(root.resolve()) or not folder.is_dir():
                raise BundleError(f"bundle {str(root)!r} refers to the encoder folder {model[len(PREFIX):]!r}, "
                                  "which it does not hold; re-copy or re-train the bundle.")
            embedder.model = str(folder)
