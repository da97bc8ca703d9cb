"""A static sentence embedding distilled from the transformer: a lookup table, for the fast tier.

The recipe is Model2Vec's (Tulkens and van Dongen, 2024): every token of the transformer's
vocabulary is passed through the transformer on its own, between the separator tokens, and the
mean of the outputs is that token's vector; the table is reduced by PCA and each row weighted by
a smooth inverse frequency estimated from the token's rank (Zipf's law). A text's vector is the
mean of its tokens' rows, L2-normalised: a tokenizer call and a sparse product, with no
transformer at encoding time. The table is built offline from the local model (a minute on two
cores) and kept in the embedding cache folder; ``complaintkit build-static`` builds it ahead. A
saved bundle carries a copy of the tables its heads use, which its embedders read instead.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .. import _logging
from ..text import as_text_list, string_input_tags
from .cache import default_cache_dir
from .embedder import SentenceTransformerEmbedder
from .models import DEFAULT_MODEL, load_sentence_transformer, model_fingerprint, resolve_model_path

STATIC_PREFIX = "static:"  # an embedding model named "static:<model>" is the static table of <model>
STATIC_DIMS = 256
SIF_COEFFICIENT = 1e-4
_UNUSED_TOKEN = re.compile(r"\[unused\d+\]")
_RECIPE = "model2vec-mean-sep-id-cls|pca|zipf-sif|v1"


def distil_static_table(model_path: str | os.PathLike, dims: int = STATIC_DIMS,
                        sif_coefficient: float = SIF_COEFFICIENT, batch_size: int = 1024,
                        max_tokens: int | None = None) -> np.ndarray:
    """The ``(vocabulary size, dims)`` float32 table of the sentence-transformers model at ``model_path``.

    Rows of tokens that never appear in text (``[unused…]``, padding) are zero; so are the rows
    past ``max_tokens`` when it is given (a quick, partial table for tests).
    """
    import torch
    from sklearn.decomposition import PCA

    encoder = load_sentence_transformer(str(model_path))
    transformer = encoder[0].auto_model
    tokenizer = encoder.tokenizer
    vocab = tokenizer.get_vocab()
    size = max(vocab.values()) + 1
    tokens = [""] * size
    for token, index in vocab.items():
        tokens[index] = token
    distilled = size if max_tokens is None else min(size, max_tokens)
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    ids = torch.arange(distilled)
    # Model2Vec found [SEP] token [CLS] (the markers reversed) works best.
    stacked = torch.stack([torch.full_like(ids, sep), ids, torch.full_like(ids, cls)], dim=1)
    rows = []
    with torch.inference_mode():
        for start in range(0, distilled, batch_size):
            batch = stacked[start:start + batch_size]
            out = transformer(input_ids=batch, attention_mask=torch.ones_like(batch),
                              token_type_ids=torch.zeros_like(batch)).last_hidden_state
            rows.append(out.float().mean(dim=1).numpy())
    raw = np.concatenate(rows).astype(np.float64)
    kept = np.array([bool(t) and not _UNUSED_TOKEN.fullmatch(t) and i != tokenizer.pad_token_id
                     for i, t in enumerate(tokens[:distilled])])
    reduced = PCA(n_components=dims, svd_solver="full").fit_transform(raw[kept])
    inverse_rank = 1.0 / np.arange(2, kept.sum() + 2)
    reduced *= (sif_coefficient / (sif_coefficient + inverse_rank / inverse_rank.sum()))[:, None]
    table = np.zeros((size, dims), dtype=np.float32)
    table[np.flatnonzero(kept)] = reduced
    return table


def static_table_path(model_sha256: str, dims: int, cache_dir: str | os.PathLike | None = None) -> Path:
    """Where the table of the model with fingerprint ``model_sha256`` is kept."""
    recipe = hashlib.sha256(f"{_RECIPE}|{dims}|{SIF_COEFFICIENT}".encode()).hexdigest()[:8]
    return Path(cache_dir or default_cache_dir()) / "static" / f"{model_sha256[:16]}-{dims}-{recipe}.npy"


def build_static_table(model: str = DEFAULT_MODEL, dims: int = STATIC_DIMS,
                       cache_dir: str | os.PathLike | None = None, overwrite: bool = False) -> Path:
    """Distil the static table of ``model`` into the cache folder (unless there already); return its path."""
    model_path = resolve_model_path(model)
    target = static_table_path(model_fingerprint(model_path), dims, cache_dir)
    if target.exists() and not overwrite:
        return target
    _logging.logger.info("distilling a %d-dimensional static embedding from %s (once; kept in %s)",
                         dims, model, target.parent)
    table = distil_static_table(model_path, dims)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        np.save(handle, table)
    os.replace(tmp, target)
    return target


def _load_table(path: Path) -> np.ndarray:
    stat = path.stat()  # a file replaced in place (a bundle saved again) is read again
    return _read_table(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4)
def _read_table(path: str, mtime_ns: int, size: int) -> np.ndarray:
    return np.load(path, mmap_mode=None)


@functools.lru_cache(maxsize=4)
def _load_tokenizer(model_path: str):
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(Path(model_path) / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def make_embedder(model: str, max_words_per_chunk: int | None = 180, cache_dir: str | None = None,
                  precision: str = "fp32", long_texts: str = "chunks"):
    """The embedder of a head: :class:`StaticEmbedder` for ``"static:<model>"``, else the transformer's
    (run in ``precision``, long texts embedded as ``long_texts`` says)."""
    if model.startswith(STATIC_PREFIX):
        return StaticEmbedder(model=model[len(STATIC_PREFIX):], cache_dir=cache_dir)
    return SentenceTransformerEmbedder(model=model, max_words_per_chunk=max_words_per_chunk, long_texts=long_texts,
                                       cache_dir=cache_dir, precision=precision)


class StaticEmbedder(TransformerMixin, BaseEstimator):
    """Turn texts into L2-normalised static embeddings (mean of distilled token vectors).

    About 100 times faster than the transformer on short texts, with no length limit (a long
    text is the mean of all its tokens); less accurate on its own, so the fast tier uses it
    with TF-IDF features and hands uncertain rows to the transformer.

    Parameters
    ----------
    model : str, default="all-MiniLM-L6-v2"
        The transformer (alias or sentence-transformers folder) the table is distilled from.
    dims : int, default=256
        Columns of the table (PCA components).
    cache_dir : str or None, default=None
        Folder of the table; ``None`` means :func:`~complaintkit.embedding.default_cache_dir`.

    Attributes
    ----------
    model_sha256_ : str
        SHA-256 of the transformer's files.
    n_features_out_ : int
        Columns of the vectors (``dims``).
    table_path_ : str or None
        The table file read instead of the cache folder's (a bundle's copy, set when the bundle
        is loaded); ``None``: the cache folder's, built there when missing.

    Examples
    --------
    >>> emb = StaticEmbedder().fit()  # doctest: +SKIP
    >>> emb.transform(["my bill is wrong"]).shape  # doctest: +SKIP
    (1, 256)
    """

    def __init__(self, model: str = DEFAULT_MODEL, dims: int = STATIC_DIMS, cache_dir: str | None = None) -> None:
        self.model = model
        self.dims = dims
        self.cache_dir = cache_dir

    def fit(self, X: Iterable[str] | None = None, y: object = None) -> StaticEmbedder:
        """Build (or find) the table and record the fingerprints of the model and the table."""
        if not isinstance(self.dims, int) or not 8 <= self.dims <= 384:
            raise ValueError(f"The 'dims' parameter must be an int in [8, 384]. Got {self.dims!r} instead.")
        build_static_table(self.model, self.dims, self.cache_dir)
        self.model_sha256_ = model_fingerprint(resolve_model_path(self.model))
        self.n_features_out_ = self.dims
        self.table_path_ = None
        return self

    def table_file(self) -> Path:
        """The table file :meth:`transform` reads: :attr:`table_path_`, else the cache folder's (built if missing)."""
        check_is_fitted(self, "model_sha256_")
        if self.table_path_ is not None:
            return Path(self.table_path_)
        path = static_table_path(self.model_sha256_, self.dims, self.cache_dir)
        if not path.exists():
            build_static_table(self.model, self.dims, self.cache_dir)
        return path

    def _table(self) -> np.ndarray:
        path = self.table_file()
        if not path.is_file():
            raise FileNotFoundError(f"the static embedding table {str(path)!r} (the 'table_path_' of this "
                                    "StaticEmbedder) does not exist; load its bundle with Bundle.load, or set "
                                    "'table_path_' to None to use the cache folder's table.")
        return _load_table(path)

    def transform(self, X: Iterable[str]) -> np.ndarray:
        """Return a ``(n_texts, dims)`` float32 array of unit vectors (zeros for texts with no token)."""
        check_is_fitted(self, "model_sha256_")
        texts = as_text_list(X)
        table = self._table()
        if not texts:
            return np.zeros((0, self.dims), dtype=np.float32)
        encodings = _load_tokenizer(str(resolve_model_path(self.model))).encode_batch(texts, add_special_tokens=False)
        lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(texts))
        columns = np.fromiter((i for e in encodings for i in e.ids), dtype=np.int64, count=int(lengths.sum()))
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        counts = sparse.csr_matrix((np.ones(len(columns), dtype=np.float32), columns, indptr),
                                   shape=(len(texts), table.shape[0]))
        vectors = np.asarray(counts @ table, dtype=np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True).clip(min=1e-12)
        return vectors

    def __setstate__(self, state: dict) -> None:
        if "model_sha256_" in state:  # fitted before bundles carried their tables: the cache folder's
            state.setdefault("table_path_", None)
        super().__setstate__(state)

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        check_is_fitted(self, "n_features_out_")
        return np.asarray([f"static{i}" for i in range(self.n_features_out_)], dtype=object)

    def __sklearn_tags__(self):  # noqa: D105
        tags = string_input_tags(super().__sklearn_tags__())
        tags.non_deterministic = False
        return tags
