"""Zero-shot root causes: similarity of a complaint to each cause's description and examples."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.pipeline import Pipeline
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ..embedding import DEFAULT_MODEL, SentenceTransformerEmbedder
from ..exceptions import InputError
from ..explain import build_example_index, embed_for_head
from ..text import TextNormaliser, as_text_list
from ._base import TextPipelineMixin


class PrototypeClassifier(ClassifierMixin, BaseEstimator):
    """Softmax over the cosine similarity of unit vectors to each class's prototypes.

    Fitting only stores the prototypes: nothing is learnt from labelled complaints, so
    the probabilities are not calibrated; ``temperature`` only sets how peaked they are.

    Parameters
    ----------
    temperature : float, default=0.02
        Softmax temperature applied to cosine similarities.
    aggregate : {"centroid", "max"}, default="centroid"
        Similarity to a class: to the normalised mean of its prototypes, or to its closest prototype.

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]])
    >>> PrototypeClassifier().fit(X, ["a", "a", "b"]).predict(np.array([[0.3, 0.95], [1.0, 0.1]])).tolist()
    ['b', 'a']
    """

    def __init__(self, temperature: float = 0.02, aggregate: str = "centroid") -> None:
        self.temperature = temperature
        self.aggregate = aggregate

    def fit(self, X: np.ndarray, y: Iterable[str]) -> PrototypeClassifier:
        """Store the unit-normalised prototypes ``X`` (one row each) of classes ``y``."""
        if not isinstance(self.temperature, int | float) or self.temperature <= 0:
            raise ValueError(f"The 'temperature' parameter must be > 0. Got {self.temperature!r} instead.")
        if self.aggregate not in {"centroid", "max"}:
            raise ValueError(f"The 'aggregate' parameter must be 'centroid' or 'max'. Got {self.aggregate!r} instead.")
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32])
        check_classification_targets(y)
        self.classes_, self.prototype_class_ = np.unique(y, return_inverse=True)
        self.prototypes_ = X / np.linalg.norm(X, axis=1, keepdims=True).clip(min=1e-12)
        centroids = np.vstack([self.prototypes_[self.prototype_class_ == k].mean(axis=0)
                               for k in range(len(self.classes_))])
        self.centroids_ = centroids / np.linalg.norm(centroids, axis=1, keepdims=True).clip(min=1e-12)
        return self

    def similarity(self, X: np.ndarray) -> np.ndarray:
        """Cosine similarity of each row of ``X`` (unit vectors) to each class, ``(n, n_classes)``."""
        check_is_fitted(self, "centroids_")
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        if self.aggregate == "centroid":
            return X @ self.centroids_.T
        similarity = X @ self.prototypes_.T
        return np.column_stack([similarity[:, self.prototype_class_ == k].max(axis=1)
                                for k in range(len(self.classes_))])

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """:meth:`similarity`; for two classes, one column: the second class's minus the first's."""
        scores = self.similarity(X)
        return scores[:, 1] - scores[:, 0] if scores.shape[1] == 2 else scores

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Softmax of the similarities divided by ``temperature``."""
        scores = self.similarity(X) / self.temperature
        scores -= scores.max(axis=1, keepdims=True)
        weights = np.exp(scores)
        return weights / weights.sum(axis=1, keepdims=True)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The most similar class of each row."""
        similarity = self.similarity(X)  # raises NotFittedError before fit
        return self.classes_[np.argmax(similarity, axis=1)]


class ZeroShotClassifier(TextPipelineMixin, ClassifierMixin, BaseEstimator):
    """Predict root causes from their descriptions and example phrases, with no labelled complaints.

    ``fit`` takes the prototype texts of each cause (see
    :meth:`complaintkit.taxonomy.Taxonomy.prototype_table`), not labelled complaints.

    Parameters
    ----------
    embedding_model : str, default="all-MiniLM-L6-v2"
        Model alias or folder; use ``"multilingual"`` for complaints in several languages.
    temperature, aggregate
        See :class:`PrototypeClassifier`.
    max_words_per_chunk, cache_dir, speakers, long_texts
        As for :class:`complaintkit.heads.RootCauseClassifier`.
    """

    long_texts = "chunks"  # how heads saved before the parameter existed embed long texts

    def __init__(self, embedding_model: str = DEFAULT_MODEL, temperature: float = 0.02,
                 aggregate: str = "centroid", max_words_per_chunk: int | None = 180,
                 cache_dir: str | None = None, speakers: tuple[str, ...] | None = None,
                 long_texts: str = "chunks") -> None:
        self.embedding_model = embedding_model
        self.temperature = temperature
        self.aggregate = aggregate
        self.max_words_per_chunk = max_words_per_chunk
        self.cache_dir = cache_dir
        self.speakers = speakers
        self.long_texts = long_texts

    def fit(self, X: Iterable[str], y: Iterable[str],
            example_ids: Iterable[object] | None = None) -> ZeroShotClassifier:
        """Embed the prototype texts ``X`` of causes ``y``; they are also its ``example_index_``.

        ``example_ids`` name the prototypes in explanations (default ``"<cause>:<position>"``).
        """
        if y is None:
            raise ValueError("ZeroShotClassifier.fit needs y, the cause of each prototype text; got None.")
        texts, labels = as_text_list(X), list(y)
        if len(texts) != len(labels):
            raise InputError(f"got {len(texts)} prototype texts but {len(labels)} cause ids; they must match.")
        self.pipeline_ = Pipeline([
            ("normalise", TextNormaliser(speakers=self.speakers)),
            ("embedding", SentenceTransformerEmbedder(model=self.embedding_model,
                                                      max_words_per_chunk=self.max_words_per_chunk,
                                                      long_texts=self.long_texts, cache_dir=self.cache_dir)),
            ("classifier", PrototypeClassifier(temperature=self.temperature, aggregate=self.aggregate)),
        ]).fit(texts, labels)
        self.classes_ = self.pipeline_.classes_
        self.n_features_in_ = 1
        ids = list(example_ids) if example_ids is not None else [f"{label}:{i}" for i, label in enumerate(labels)]
        self.example_index_ = build_example_index(ids, texts, labels, embed_for_head(self, texts))
        return self



    @property
    def embedder_(self) -> SentenceTransformerEmbedder:
        """The fitted embedder inside the pipeline."""
        check_is_fitted(self, "pipeline_")
        return self.pipeline_.named_steps["embedding"]

