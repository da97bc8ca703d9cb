"""Static embedding tables inside a bundle folder.

A head with a :class:`~complaintkit.embedding.static.StaticEmbedder` (the fast tier's) is saved
with a copy of its table under ``static/`` in the bundle; the embedder's ``table_path_`` is
stored as ``bundle:static/<file>``, so the bundle is relocatable, and loading points it at the
copy: a scoring host never distils the table nor needs it in its cache. Every table is listed
with its SHA-256 among the bundle's artifacts, so loading refuses a changed file. Tables are
``.npy`` arrays, read without pickle.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

from ..embedding.static import StaticEmbedder
from ..exceptions import BundleError
from .encoder import PREFIX

FOLDER = "static"


@contextlib.contextmanager
def packed_static_tables(embedders: Sequence[StaticEmbedder], staging: Path) -> Iterator[list[str]]:
    """Copy the embedders' tables into ``staging`` and point the embedders there while the block runs.

    Yields the copied files' paths relative to the bundle (``/``-separated, sorted); embedders that
    share a table share the copy.
    """
    originals = [e.table_path_ for e in embedders]
    names = set()
    try:
        for embedder in embedders:
            source = embedder.table_file()
            if not source.is_file():
                raise BundleError(f"the static embedding table {str(source)!r} of a head does not exist; set the "
                                  "embedder's 'table_path_' to None to use the cache folder's table, then save again.")
            name = f"{FOLDER}/{source.name}"
            if name not in names:
                (staging / FOLDER).mkdir(exist_ok=True)
                shutil.copyfile(source, staging / name)
                names.add(name)
            embedder.table_path_ = PREFIX + name
        yield sorted(names)
    finally:
        for embedder, original in zip(embedders, originals, strict=True):
            embedder.table_path_ = original


def unpack_static_tables(embedders: Sequence[StaticEmbedder], root: Path, artifacts: dict[str, str]) -> None:
    """Point embedders stored with ``bundle:<file>`` at that file inside bundle ``root``.

    The file must be one of the bundle's ``artifacts`` (whose hashes were checked).
    """
    for embedder in embedders:
        stored = embedder.table_path_
        if stored is None:  # saved before bundles carried their tables: the cache folder's
            continue
        name = stored[len(PREFIX):] if isinstance(stored, str) and stored.startswith(PREFIX) else None
        file = (root / name).resolve() if name else None
        if file is None or name not in artifacts or not file.is_relative_to(root.resolve()) or not file.is_file():
            raise BundleError(f"bundle {str(root)!r} refers to the static embedding table {str(stored)[:80]!r}, "
                              f"expected one of its own files ('{PREFIX}{FOLDER}/<file>'); re-copy or re-train "
                              "the bundle.")
        embedder.table_path_ = str(file)
