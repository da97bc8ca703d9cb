"""Why a complaint got its root cause: the nearest labelled examples and the terms that pushed it.

A root-cause head fitted by ``complaintkit train`` carries an :class:`ExampleIndex` of its
training complaints (float16 unit vectors, at most ``MAX_EXAMPLES`` rows) as ``example_index_``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .redaction import redact

MAX_EXAMPLES = 10_000
MAX_EXAMPLE_CHARS = 300


@dataclass
class ExampleIndex:
    """Labelled examples and their embeddings, for nearest-neighbour look-ups.

    Attributes
    ----------
    ids, texts, labels : numpy arrays of str
        One entry per example; texts are cut to ``MAX_EXAMPLE_CHARS`` characters.
    vectors : numpy array of float16, shape (n, dimension)
        Unit-length embeddings of the examples.
    """

    ids: np.ndarray
    texts: np.ndarray
    labels: np.ndarray
    vectors: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    def nearest(self, queries: np.ndarray, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
        """Positions and cosine similarities of the ``k`` examples closest to each unit query vector.

        Examples
        --------
        >>> index = build_example_index(["a", "b", "c"], ["x", "y", "z"], ["p", "q", "p"],
        ...                             np.array([[1, 0], [0, 1], [0.6, 0.8]]))
        >>> index.nearest(np.array([[0.0, 1.0]]), k=2)[0].tolist()
        [[1, 2]]
        """
        k = min(k, len(self))
        similarity = np.asarray(queries, dtype=np.float32) @ self.vectors.astype(np.float32).T
        top = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(similarity, top, axis=1), axis=1, kind="stable")
        positions = np.take_along_axis(top, order, axis=1)
        return positions, np.take_along_axis(similarity, positions, axis=1)


def build_example_index(ids: Sequence[Any], texts: Sequence[str], labels: Sequence[Any], vectors: np.ndarray,
                        max_examples: int = MAX_EXAMPLES, seed: int = 0) -> ExampleIndex:
    """An :class:`ExampleIndex` of at most ``max_examples`` rows (a seeded random sample beyond that)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True).clip(min=1e-12)
    keep = np.arange(len(vectors))
    if len(keep) > max_examples:
        keep = np.sort(np.random.default_rng(seed).choice(keep, max_examples, replace=False))
    return ExampleIndex(ids=np.asarray([str(ids[i]) for i in keep], dtype=object),
                        texts=np.asarray([str(texts[i])[:MAX_EXAMPLE_CHARS] for i in keep], dtype=object),
                        labels=np.asarray([str(labels[i]) for i in keep], dtype=object),
                        vectors=vectors[keep].astype(np.float16))


def embed_for_head(head: Any, texts: Sequence[str]) -> np.ndarray | None:
    """The embeddings ``head`` sees for ``texts`` (after its normalisation), or ``None`` if it uses none."""
    embedder = head.embedder_
    if embedder is None:
        return None
    return embedder.transform(head.pipeline_.named_steps["normalise"].transform(list(texts)))


def _tfidf_weights(head: Any) -> tuple[Any, np.ndarray, np.ndarray] | None:
    """The TF-IDF vectoriser of a root-cause head, its classes and the per-class weights of its terms."""
    features = head.pipeline_.named_steps.get("features")
    blocks = dict(getattr(features, "transformer_list", []))
    if "tfidf" not in blocks:
        return None
    offset = blocks["embedding"].n_features_out_ if "embedding" in blocks else 0
    calibrated = head.pipeline_.named_steps["classifier"]
    coef = np.mean([c.estimator.coef_ for c in calibrated.calibrated_classifiers_], axis=0)
    weight = (features.transformer_weights or {}).get("tfidf", 1.0)
    coef = coef[:, offset:] * weight
    if coef.shape[0] == 1:  # binary: one row scores the second class
        coef = np.vstack([-coef[0], coef[0]])
    return blocks["tfidf"], np.asarray(calibrated.classes_, dtype=object), coef


def top_terms(head: Any, texts: Sequence[str], predicted: Sequence[str], n: int = 5) -> list[str]:
    """For each text, the ``n`` terms whose TF-IDF weight × class coefficient pushed most toward ``predicted``.

    Returned as ``"term1, term2, …"``; empty strings for heads without TF-IDF features.
    """
    found = _tfidf_weights(head)
    if found is None:
        return [""] * len(texts)
    vectoriser, classes, coef = found
    position = {c: i for i, c in enumerate(classes)}
    matrix = vectoriser.transform(head.pipeline_.named_steps["normalise"].transform(list(texts))).tocsr()
    vocabulary = vectoriser.get_feature_names_out()
    result = []
    for row, label in enumerate(predicted):
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        columns = matrix.indices[start:end]
        contribution = matrix.data[start:end] * coef[position[label], columns]
        best = np.argsort(-contribution, kind="stable")[:n]
        result.append(", ".join(vocabulary[columns[i]] for i in best if contribution[i] > 0))
    return result


def explain_frame(head: Any, texts: pd.Series, predicted: pd.Series, k: int = 3, n_terms: int = 5) -> pd.DataFrame:
    """Explanation columns for ``texts`` predicted as ``predicted`` (same index).

    ``similar_{i}_id`` / ``_label`` / ``_text`` / ``_similarity`` for the ``k`` nearest training
    examples (when the head has an example index) and ``top_terms`` (when it has TF-IDF features).
    Example texts are masked with the head's ``redact`` kinds.
    """
    out = pd.DataFrame(index=texts.index)
    index: ExampleIndex | None = getattr(head, "example_index_", None)
    kinds = tuple(getattr(head, "redact", ()) or ())  # bundles saved before texts were masked when stored
    if index is not None and len(index):
        positions, similarity = index.nearest(embed_for_head(head, texts.tolist()), k)
        for i in range(positions.shape[1]):
            out[f"similar_{i + 1}_id"] = index.ids[positions[:, i]]
            out[f"similar_{i + 1}_label"] = index.labels[positions[:, i]]
            out[f"similar_{i + 1}_text"] = [redact(text, kinds) if kinds else text
                                            for text in index.texts[positions[:, i]]]
            out[f"similar_{i + 1}_similarity"] = similarity[:, i].round(4)
    out["top_terms"] = top_terms(head, texts.tolist(), predicted.tolist(), n_terms)
    return out
