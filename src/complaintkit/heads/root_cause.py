"""Root-cause classifier: TF-IDF and sentence-embedding features, calibrated linear head."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC
from sklearn.utils.validation import check_is_fitted

from ..embedding import DEFAULT_MODEL, SentenceTransformerEmbedder
from ..exceptions import InputError
from ..text import TextNormaliser, as_text_list
from ._calibration import calibration_folds, calibration_method


class RootCauseClassifier(ClassifierMixin, BaseEstimator):
    """Predict a complaint's root cause from its text, with calibrated probabilities.

    Features are the sentence embedding (weighted by ``embedding_weight``) joined with
    word TF-IDF; the head is a class-balanced linear SVM calibrated by cross-validation.

    Parameters
    ----------
    embedding_model : str, default="all-MiniLM-L6-v2"
        Model alias or folder for :class:`SentenceTransformerEmbedder`.
    embedding_weight : float, default=2.0
        Scale of the embedding block relative to the TF-IDF block; 0 drops the embedding.
    use_tfidf : bool, default=True
        Add word uni- and bigram TF-IDF features.
    C : float, default=0.5
        Inverse regularisation strength of the linear SVM.
    calibration : {"auto", "sigmoid", "isotonic"}, default="auto"
        Probability calibration; "auto" picks isotonic from 1,000 training rows on.
    max_words_per_chunk : int or None, default=180
        Long texts are embedded in chunks of this many words and mean-pooled.
    cache_dir : str or None, default=None
        Embedding cache folder (see :class:`SentenceTransformerEmbedder`).
    random_state : int, default=0
        Seed of the SVM's coordinate descent, so refits are reproducible.
    speakers : tuple of str or None, default=None
        For transcripts, keep only these speakers' turns (e.g. ``("customer",)``).
    redact : sequence of str, default=()
        Kinds of personal data masked before embedding (see :func:`complaintkit.redaction.redact`).
    """

    def __init__(
        self,
        embedding_model: str = DEFAULT_MODEL,
        embedding_weight: float = 2.0,
        use_tfidf: bool = True,
        C: float = 0.5,
        calibration: str = "auto",
        max_words_per_chunk: int | None = 180,
        cache_dir: str | None = None,
        random_state: int = 0,
        speakers: tuple[str, ...] | None = None,
        redact: Sequence[str] = (),
    ) -> None:
        self.embedding_model = embedding_model
        self.embedding_weight = embedding_weight
        self.use_tfidf = use_tfidf
        self.C = C
        self.calibration = calibration
        self.max_words_per_chunk = max_words_per_chunk
        self.cache_dir = cache_dir
        self.random_state = random_state
        self.speakers = speakers
        self.redact = redact

    def _features(self) -> FeatureUnion:
        blocks, weights = [], {}
        if self.embedding_weight > 0:
            blocks.append(("embedding", SentenceTransformerEmbedder(
                model=self.embedding_model, max_words_per_chunk=self.max_words_per_chunk,
                cache_dir=self.cache_dir)))
            weights["embedding"] = float(self.embedding_weight)
        if self.use_tfidf:
            blocks.append(("tfidf", TfidfVectorizer(
                ngram_range=(1, 2), min_df=2, max_df=0.9, sublinear_tf=True, max_features=200_000)))
            weights["tfidf"] = 1.0
        if not blocks:
            raise ValueError("RootCauseClassifier needs embedding_weight > 0 or use_tfidf=True.")
        return FeatureUnion(blocks, transformer_weights=weights)

    def fit(self, X: Iterable[str], y: Iterable[str]) -> RootCauseClassifier:
        """Fit on texts ``X`` and root-cause labels ``y``."""
        texts = as_text_list(X)
        labels = np.asarray(y if hasattr(y, "__array__") else list(y))
        if len(texts) != len(labels):
            raise InputError(f"got {len(texts)} texts but {len(labels)} labels; they must match one to one.")
        if self.C <= 0:
            raise ValueError(f"The 'C' parameter of RootCauseClassifier must be > 0. Got {self.C!r} instead.")
        method = calibration_method(self.calibration, len(texts))
        folds = calibration_folds(labels)
        self.pipeline_ = Pipeline([
            ("normalise", TextNormaliser(speakers=self.speakers, redact=tuple(self.redact))),
            ("features", self._features()),
            ("classifier", CalibratedClassifierCV(
                LinearSVC(C=self.C, class_weight="balanced", random_state=self.random_state), method=method, cv=folds)),
        ])
        self.pipeline_.fit(texts, labels)
        self.classes_ = self.pipeline_.classes_
        self.n_features_in_ = 1
        return self

    def predict_proba(self, X: Iterable[str]) -> np.ndarray:
        """Calibrated probability of every class in ``classes_``, one row per text."""
        check_is_fitted(self, "pipeline_")
        return self.pipeline_.predict_proba(as_text_list(X))

    def predict(self, X: Iterable[str]) -> np.ndarray:
        """The most probable root cause of each text."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    @property
    def embedder_(self) -> SentenceTransformerEmbedder | None:
        """The fitted embedder inside the pipeline (``None`` when embeddings are off)."""
        check_is_fitted(self, "pipeline_")
        return dict(self.pipeline_.named_steps["features"].transformer_list).get("embedding")

    def __sklearn_tags__(self):  # noqa: D105
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags
