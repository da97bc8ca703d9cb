"""Sentence embeddings as a scikit-learn transformer.

The transformer model itself is never pickled: a fitted embedder keeps the model's name or
path and the SHA-256 of its files, and loads the weights lazily, once per process.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .. import _logging
from ..text import as_text_list, check_long_texts, string_input_tags, text_windows
from .cache import EmbeddingCache, RecentVectors, default_cache_dir
from .models import DEFAULT_MODEL, load_sentence_transformer, model_fingerprint, resolve_model_path
from .onnx_encoder import DEFAULT_RECIPE
from .precision import check_precision, default_batch_size

SLICE_TEXTS = 4096  # texts encoded per call: the unit of progress updates


class SentenceTransformerEmbedder(TransformerMixin, BaseEstimator):
    """Turn texts into L2-normalised sentence embeddings.

    Texts longer than ``max_words_per_chunk`` words are split into chunks that are
    embedded separately and mean-pooled (then re-normalised), instead of being truncated
    at the encoder's token limit; ``long_texts`` can embed one window of them instead.

    Parameters
    ----------
    model : str, default="all-MiniLM-L6-v2"
        An alias from ``MODEL_ALIASES`` or the path of a sentence-transformers folder.
    batch_size : int or None, default=None
        Texts per forward pass; ``None``: the precision's own (:func:`~complaintkit.embedding.default_batch_size`:
        16 for the int8 graph on CPUs with AVX-512 VNNI, else 64).
    max_words_per_chunk : int or None, default=180
        Chunk length for long texts; ``None`` truncates at the encoder's limit instead.
    long_texts : {"chunks", "head", "head_tail"}, default="chunks"
        How a text longer than ``max_words_per_chunk`` words is embedded: "chunks", every chunk,
        mean-pooled; "head", its first chunk only; "head_tail", its first and last
        ``max_words_per_chunk / 2`` words as one window (one forward pass per text, as short texts).
        Vectors of different policies are cached apart. Ignored when ``max_words_per_chunk`` is None.
    cache : bool, default=True
        Keep embeddings in an on-disk cache keyed by model hash, settings and text.
    cache_dir : str or None, default=None
        Cache folder; ``None`` means :func:`default_cache_dir`.
    precision : {"fp32", "bf16", "int8"}, default="fp32"
        The encoder's precision ("bf16": bf16 autocast, fast only on CPUs with native bf16
        matmul; "int8": an int8 ONNX Runtime graph of the encoder, built once into the cache folder,
        fast with AVX2); their vectors are cached apart from fp32 ones.

    Examples
    --------
    >>> emb = SentenceTransformerEmbedder().fit(["my bill is wrong"])
    >>> emb.transform(["my bill is wrong", "the line is down"]).shape
    (2, 384)
    """

    __module__ = "complaintkit.embedding"  # its public name, which saved bundles record
    precision = "fp32"  # what embedders saved before the parameter existed run in
    long_texts = "chunks"  # how embedders saved before the parameter existed embed long texts

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        batch_size: int | None = None,
        max_words_per_chunk: int | None = 180,
        long_texts: str = "chunks",
        cache: bool = True,
        cache_dir: str | None = None,
        precision: str = "fp32",
    ) -> None:
        self.model = model
        self.batch_size = batch_size
        self.max_words_per_chunk = max_words_per_chunk
        self.long_texts = long_texts
        self.cache = cache
        self.cache_dir = cache_dir
        self.precision = precision

    def fit(self, X: Iterable[str] | None = None, y: object = None) -> SentenceTransformerEmbedder:
        """Resolve the model and record its fingerprint and output size."""
        if self.batch_size is not None and (not isinstance(self.batch_size, int) or self.batch_size < 1):
            raise ValueError(f"The 'batch_size' parameter must be None or a positive int. "
                             f"Got {self.batch_size!r} instead.")
        if self.max_words_per_chunk is not None and self.max_words_per_chunk < 8:
            raise ValueError(
                "The 'max_words_per_chunk' parameter must be None or an int >= 8. "
                f"Got {self.max_words_per_chunk!r} instead."
            )
        check_long_texts(self.long_texts)
        check_precision(self.precision)
        path = resolve_model_path(self.model)
        self.model_sha256_ = model_fingerprint(path)
        encoder = load_sentence_transformer(str(path))
        self.n_features_out_ = int(encoder.get_embedding_dimension())
        self.max_seq_length_ = int(encoder.max_seq_length)
        return self

    def _keys(self, texts: Sequence[str]) -> list[bytes]:
        # fp32 keys stay as they were; int8 vectors are keyed by the ONNX graph's recipe (older graphs' are not reused)
        precision = {"fp32": "", "int8": f"int8-onnx-{DEFAULT_RECIPE.key}"}.get(self.precision, self.precision)
        # chunk-pooled keys stay as they were; one-window policies add theirs (none is needed without chunks)
        policy = "" if self.long_texts == "chunks" or self.max_words_per_chunk is None else f"|{self.long_texts}"
        settings = f"{self.model_sha256_}|{self.max_words_per_chunk}|{precision}{policy}".encode()
        return [hashlib.sha256(settings + t.encode("utf-8", "surrogatepass")).digest()[:20] for t in texts]

    def transform(self, X: Iterable[str]) -> np.ndarray:
        """Return a ``(n_texts, n_features_out_)`` float32 array of unit vectors."""
        check_is_fitted(self, "model_sha256_")
        texts = as_text_list(X)
        keys = self._keys(texts)
        unique = dict(zip(keys, texts, strict=True))
        recent: RecentVectors | None = self.__dict__.get("_recent")
        found = recent.get(list(unique)) if recent is not None else {}
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
        if recent is not None:
            recent.put((k, found[k]) for k in unique)
        if not keys:
            return np.zeros((0, self.n_features_out_), dtype=np.float32)
        return np.vstack([found[k] for k in keys]).astype(np.float32, copy=False)

    def _embed(self, texts: list[str]) -> np.ndarray:
        if self.max_words_per_chunk is None:
            chunks, owners = texts, np.arange(len(texts))
        else:
            pieces = [text_windows(t, self.max_words_per_chunk, self.long_texts) for t in texts]
            chunks = [c for p in pieces for c in p]
            owners = np.repeat(np.arange(len(texts)), [len(p) for p in pieces])
        _logging.logger.debug("embedding %d texts as %d chunks", len(texts), len(chunks))
        import torch

        # Slices of a fixed size whatever the terminal, so the vectors never depend on how progress is shown.
        step = SLICE_TEXTS
        encode, parts = self._encode_function(), []
        with (torch.autocast("cpu", dtype=torch.bfloat16, enabled=check_precision(self.precision) == "bf16"),
              _logging.progress(len(chunks), "embedding", "chunks", quiet=len(chunks) <= step) as bar):
            for start in range(0, len(chunks), step):
                parts.append(encode(chunks[start : start + step]).astype(np.float32, copy=False))
                bar.update(len(parts[-1]))
        vectors = np.vstack(parts) if parts else np.zeros((0, self.n_features_out_), dtype=np.float32)
        if len(chunks) == len(texts):
            return vectors
        pooled = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
        np.add.at(pooled, owners, vectors)
        pooled /= np.linalg.norm(pooled, axis=1, keepdims=True).clip(min=1e-12)
        return pooled

    def _encode_function(self) -> Callable[[list[str]], np.ndarray]:
        """Texts → unit vectors: the int8 ONNX graph for "int8", else sentence-transformers' ``encode``."""
        path = resolve_model_path(self.model)
        batch_size = self.batch_size or default_batch_size(self.precision)
        if self.precision == "int8":
            from .onnx_encoder import encode_int8

            return functools.partial(encode_int8, path, batch_size=batch_size, cache_dir=self.cache_dir)
        encoder = load_sentence_transformer(str(path))
        return functools.partial(encoder.encode, batch_size=batch_size, normalize_embeddings=True,
                                 convert_to_numpy=True, show_progress_bar=False)

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        check_is_fitted(self, "n_features_out_")
        return np.asarray([f"embedding{i}" for i in range(self.n_features_out_)], dtype=object)

    def __setstate__(self, state: dict) -> None:  # noqa: D105
        # Embedders saved before the per-precision default stored 64, the one default then (nothing set another).
        if state.get("batch_size") == 64:
            state["batch_size"] = None
        super().__setstate__(state)

    def __getstate__(self) -> dict:  # noqa: D105
        state = dict(super().__getstate__())  # a copy: object.__getstate__ gives the live __dict__
        state.pop("_recent", None)  # a run's in-memory vectors are never saved
        return state

    def __sklearn_tags__(self):  # noqa: D105
        tags = string_input_tags(super().__sklearn_tags__())
        tags.non_deterministic = False
        return tags


@contextmanager
def run_settings(embedders: Iterable[SentenceTransformerEmbedder], precision: str = "fp32",
                 recent: RecentVectors | None = None) -> Iterator[None]:
    """Within the block ``embedders`` run in ``precision`` and share ``recent`` vectors; restored after.

    Parameters
    ----------
    embedders : iterable of SentenceTransformerEmbedder
        Typically :attr:`complaintkit.bundle.Bundle.embedders`.
    precision : {"fp32", "bf16", "int8"}, default="fp32"
    recent : RecentVectors or None, default=None
        An in-memory store the embedders share (e.g. one per scored chunk), or none.
    """
    check_precision(precision)
    embedders = list(embedders)
    saved = [(e.precision, e.__dict__.get("_recent")) for e in embedders]
    for embedder in embedders:
        embedder.precision = precision
        embedder.__dict__["_recent"] = recent
    try:
        yield
    finally:
        for embedder, (old_precision, old_recent) in zip(embedders, saved, strict=True):
            embedder.precision = old_precision
            if old_recent is None:
                embedder.__dict__.pop("_recent", None)
            else:
                embedder.__dict__["_recent"] = old_recent
