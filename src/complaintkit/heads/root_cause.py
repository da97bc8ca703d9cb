"""Root-cause classifier: TF-IDF and sentence-embedding features, calibrated linear head."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC
from sklearn.utils.validation import check_is_fitted

from ..embedding import DEFAULT_MODEL, SentenceTransformerEmbedder
from ..exceptions import InputError
from ..text import TextNormaliser, as_text_list
from ._base import TextPipelineMixin
from ._calibration import calibration_folds, calibration_method
from .char_ngrams import CharNgramTfidfVectorizer


class RootCauseClassifier(TextPipelineMixin, ClassifierMixin, BaseEstimator):
    """Predict a complaint's root cause from its text, with calibrated probabilities.

    Features are the sentence embedding (weighted by ``embedding_weight``) joined with word
    and character TF-IDF; the head is a class-balanced linear SVM whose ``C`` is chosen by
    cross-validated macro-F1, calibrated on out-of-fold decisions (the final SVM is fitted on
    every training row).

    Parameters
    ----------
    embedding_model : str, default="all-MiniLM-L6-v2"
        Model alias or folder for :class:`SentenceTransformerEmbedder`.
    embedding_weight : float, default=1.0
        Scale of the embedding block relative to the TF-IDF blocks; 0 drops the embedding.
    use_tfidf : bool, default=True
        Add word uni-/bigram and character 2-5-gram TF-IDF features.
    C : float or "auto", default="auto"
        Inverse regularisation strength of the linear SVM; "auto" picks from ``C_grid`` by
        3-fold cross-validated macro-F1 on the training rows.
    C_grid : tuple of float, default=(0.3, 1.0, 3.0)
        Candidates for ``C="auto"``.
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
        embedding_weight: float = 1.0,
        use_tfidf: bool = True,
        C: float | str = "auto",
        C_grid: tuple[float, ...] = (0.3, 1.0, 3.0),
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
        self.C_grid = C_grid
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
            blocks.append(("chars", CharNgramTfidfVectorizer(
                analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True, max_features=300_000)))
            weights.update(tfidf=1.0, chars=1.0)
        if not blocks:
            raise ValueError("RootCauseClassifier needs embedding_weight > 0 or use_tfidf=True.")
        return FeatureUnion(blocks, transformer_weights=weights)

    def fit(self, X: Iterable[str], y: Iterable[str]) -> RootCauseClassifier:
        """Fit on texts ``X`` and root-cause labels ``y``."""
        texts = as_text_list(X)
        labels = np.asarray(y if hasattr(y, "__array__") else list(y))
        if len(texts) != len(labels):
            raise InputError(f"got {len(texts)} texts but {len(labels)} labels; they must match one to one.")
        if self.C != "auto" and not (isinstance(self.C, int | float) and self.C > 0):
            raise ValueError(f"The 'C' parameter of RootCauseClassifier must be > 0 or 'auto'. Got {self.C!r} instead.")
        method = calibration_method(self.calibration, len(texts))
        folds = calibration_folds(labels)
        normaliser = TextNormaliser(speakers=self.speakers, redact=tuple(self.redact)).fit(texts)
        features = self._features()
        matrix = features.fit_transform(normaliser.transform(texts))
        self.cv_macro_f1_ = self._cross_validate(matrix, labels, folds) if self.C == "auto" else {}
        self.C_ = max(self.cv_macro_f1_, key=self.cv_macro_f1_.get) if self.cv_macro_f1_ else float(self.C)
        # Shuffled folds: tables sorted by date or source would otherwise calibrate on unlike rows.
        calibration_cv = StratifiedKFold(folds, shuffle=True, random_state=self.random_state)
        classifier = CalibratedClassifierCV(self._svm(self.C_), method=method, cv=calibration_cv, ensemble=False)
        classifier.fit(matrix, labels)
        self.pipeline_ = Pipeline([("normalise", normaliser), ("features", features), ("classifier", classifier)])
        self.classes_ = classifier.classes_
        self.n_features_in_ = 1
        return self

    def _svm(self, C: float) -> LinearSVC:
        return LinearSVC(C=C, class_weight="balanced", random_state=self.random_state, max_iter=5000)

    def _cross_validate(self, matrix: object, labels: np.ndarray, folds: int) -> dict[float, float]:
        """Mean macro-F1 of each candidate C over stratified folds of the (already featurised) rows."""
        splits = list(StratifiedKFold(min(3, folds), shuffle=True, random_state=self.random_state).split(
            np.zeros(len(labels)), labels))
        scores = {}
        for C in self.C_grid:
            scores[float(C)] = float(np.mean([
                f1_score(labels[test], self._svm(C).fit(matrix[train], labels[train]).predict(matrix[test]),
                         average="macro", zero_division=0)
                for train, test in splits]))
        return scores



    @property
    def embedder_(self) -> SentenceTransformerEmbedder | None:
        """The fitted embedder inside the pipeline (``None`` when embeddings are off)."""
        check_is_fitted(self, "pipeline_")
        return dict(self.pipeline_.named_steps["features"].transformer_list).get("embedding")

