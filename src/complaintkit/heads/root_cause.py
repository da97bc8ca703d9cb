"""Root-cause classifier: TF-IDF and sentence-embedding features, calibrated linear head."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from scipy import sparse
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
from ..explain import build_example_index, embed_for_head
from ..text import TextNormaliser, as_text_list
from ._base import TextPipelineMixin
from .calibration import CALIBRATION_METHODS, calibration_folds, calibration_method
from .char_ngrams import CharNgramTfidfVectorizer


def _check_auto_or_positive(name: str, value: object, zero_allowed: bool = False) -> None:
    if value == "auto" or (isinstance(value, int | float) and (value > 0 or (zero_allowed and value == 0))):
        return
    bound = ">= 0" if zero_allowed else "> 0"
    raise ValueError(f"The {name!r} parameter of RootCauseClassifier must be {bound} or 'auto'. Got {value!r} instead.")


def _scale_columns(matrix: sparse.spmatrix, columns: np.ndarray, weight: float) -> sparse.csr_matrix:
    """``matrix`` with the masked columns multiplied by ``weight``."""
    return sparse.csr_matrix(matrix) @ sparse.diags(np.where(columns, weight, 1.0)).tocsr()


class RootCauseClassifier(TextPipelineMixin, ClassifierMixin, BaseEstimator):
    """Predict a complaint's root cause from its text, with calibrated probabilities.

    Features are the sentence embedding (weighted by ``embedding_weight``) joined with word
    and character TF-IDF; the head is a class-balanced linear SVM. The embedding weight and
    ``C`` are chosen together by cross-validated macro-F1, and the SVM is calibrated on
    out-of-fold decisions (the final SVM is fitted on every training row).

    Parameters
    ----------
    embedding_model : str, default="all-MiniLM-L6-v2"
        Model alias or folder for :class:`SentenceTransformerEmbedder`.
    embedding_weight : float or "auto", default="auto"
        Scale of the embedding block relative to the TF-IDF blocks; 0 drops the embedding;
        "auto" picks from ``embedding_weight_grid`` by 3-fold cross-validated macro-F1.
    embedding_weight_grid : tuple of float, default=(1.0, 2.0)
        Candidates for ``embedding_weight="auto"``.
    use_tfidf : bool, default=True
        Add word uni-/bigram and character 2-5-gram TF-IDF features.
    C : float or "auto", default="auto"
        Inverse regularisation strength of the linear SVM; "auto" picks from ``C_grid`` by
        3-fold cross-validated macro-F1 on the training rows.
    C_grid : tuple of float, default=(0.1, 0.3, 1.0)
        Candidates for ``C="auto"``.
    calibration : {"auto", "temperature", "sigmoid", "isotonic"}, default="auto"
        Probability calibration; "auto" is temperature scaling, which leaves the SVM's
        class-balanced decisions unchanged (isotonic and sigmoid calibrate each class on its
        own and can move decisions towards frequent classes).
    max_words_per_chunk : int or None, default=180
        Long texts are embedded in chunks of this many words and mean-pooled.
    cache_dir : str or None, default=None
        Embedding cache folder (see :class:`SentenceTransformerEmbedder`).
    random_state : int, default=0
        Seed of the SVM's coordinate descent and of the folds, so refits are reproducible.
    speakers : tuple of str or None, default=None
        For transcripts, keep only these speakers' turns (e.g. ``("customer",)``).
    redact : sequence of str, default=()
        Kinds of personal data masked before embedding (see :func:`complaintkit.redaction.redact`).

    Attributes
    ----------
    classes_ : ndarray
        The root-cause labels, in the column order of ``predict_proba``.
    C_, embedding_weight_ : float
        The settings used by the final SVM.
    cv_macro_f1_ : list of dict
        Cross-validated macro-F1 of every candidate (empty when nothing was searched).
    calibration_ : str
        The calibration method used ("auto" resolved).
    pipeline_ : Pipeline
        Text normaliser, feature union and calibrated SVM.
    example_index_ : ExampleIndex or None
        The training texts and embeddings behind ``score --explain`` (``None`` without embeddings).
    """

    def __init__(
        self,
        embedding_model: str = DEFAULT_MODEL,
        embedding_weight: float | str = "auto",
        embedding_weight_grid: tuple[float, ...] = (1.0, 2.0),
        use_tfidf: bool = True,
        C: float | str = "auto",
        C_grid: tuple[float, ...] = (0.1, 0.3, 1.0),
        calibration: str = "auto",
        max_words_per_chunk: int | None = 180,
        cache_dir: str | None = None,
        random_state: int = 0,
        speakers: tuple[str, ...] | None = None,
        redact: Sequence[str] = (),
    ) -> None:
        self.embedding_model = embedding_model
        self.embedding_weight = embedding_weight
        self.embedding_weight_grid = embedding_weight_grid
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
        """The feature blocks, the embedding at weight 1 (``fit`` sets its chosen weight)."""
        blocks, weights = [], {}
        if self.embedding_weight == "auto" or self.embedding_weight > 0:
            blocks.append(("embedding", SentenceTransformerEmbedder(
                model=self.embedding_model, max_words_per_chunk=self.max_words_per_chunk,
                cache_dir=self.cache_dir)))
            weights["embedding"] = 1.0
        if self.use_tfidf:
            blocks.append(("tfidf", TfidfVectorizer(
                ngram_range=(1, 2), min_df=2, max_df=0.9, sublinear_tf=True, max_features=200_000)))
            blocks.append(("chars", CharNgramTfidfVectorizer(
                analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True, max_features=300_000)))
            weights.update(tfidf=1.0, chars=1.0)
        if not blocks:
            raise ValueError("RootCauseClassifier needs embedding_weight > 0 or use_tfidf=True.")
        return FeatureUnion(blocks, transformer_weights=weights)

    def fit(self, X: Iterable[str], y: Iterable[str], example_ids: Iterable[object] | None = None
            ) -> RootCauseClassifier:
        """Fit on texts ``X`` and root-cause labels ``y``.

        ``example_ids`` name the training texts in explanations (default: their positions);
        with embeddings on, the texts become ``example_index_`` (see :mod:`complaintkit.explain`).
        """
        if y is None:
            raise ValueError("RootCauseClassifier.fit needs y, the root-cause label of each text; got None.")
        texts = as_text_list(X)
        labels = np.asarray(y if hasattr(y, "__array__") else list(y))
        if len(texts) != len(labels):
            raise InputError(f"got {len(texts)} texts but {len(labels)} labels; they must match one to one.")
        _check_auto_or_positive("C", self.C)
        _check_auto_or_positive("embedding_weight", self.embedding_weight, zero_allowed=True)
        method = calibration_method(self.calibration, "temperature", CALIBRATION_METHODS)
        folds = calibration_folds(labels)
        normaliser = TextNormaliser(speakers=self.speakers, redact=tuple(self.redact)).fit(texts)
        features = self._features()
        unweighted = features.fit_transform(normaliser.transform(texts))
        embedding_columns = self._embedding_columns(features, unweighted.shape[1])
        weights = self.embedding_weight_grid if self.embedding_weight == "auto" else (self.embedding_weight,)
        Cs = self.C_grid if self.C == "auto" else (self.C,)
        self.cv_macro_f1_ = (self._cross_validate(unweighted, embedding_columns, labels, folds, weights, Cs)
                             if len(weights) * len(Cs) > 1 else [])
        best = (max(self.cv_macro_f1_, key=lambda row: row["macro_f1"]) if self.cv_macro_f1_
                else {"embedding_weight": weights[0], "C": Cs[0]})
        self.C_, self.embedding_weight_ = float(best["C"]), float(best["embedding_weight"])
        self.calibration_ = method
        if embedding_columns.any():
            features.set_params(transformer_weights={**features.transformer_weights,
                                                     "embedding": self.embedding_weight_})
        matrix = _scale_columns(unweighted, embedding_columns, self.embedding_weight_)
        # Shuffled folds: tables sorted by date or source would otherwise calibrate on unlike rows.
        calibration_cv = StratifiedKFold(folds, shuffle=True, random_state=self.random_state)
        classifier = CalibratedClassifierCV(self._svm(self.C_), method=method, cv=calibration_cv, ensemble=False)
        classifier.fit(matrix, labels)
        self.pipeline_ = Pipeline([("normalise", normaliser), ("features", features), ("classifier", classifier)])
        self.classes_ = classifier.classes_
        self.n_features_in_ = 1
        vectors = embed_for_head(self, texts)
        ids = list(example_ids) if example_ids is not None else list(range(len(texts)))
        self.example_index_ = (None if vectors is None else
                               build_example_index(ids, texts, labels.tolist(), vectors, seed=self.random_state))
        return self

    def _svm(self, C: float) -> LinearSVC:
        return LinearSVC(C=C, class_weight="balanced", random_state=self.random_state, max_iter=5000)

    @staticmethod
    def _embedding_columns(features: FeatureUnion, n_columns: int) -> np.ndarray:
        """Boolean mask of the embedding block's columns (the union's first block)."""
        mask = np.zeros(n_columns, dtype=bool)
        embedder = dict(features.transformer_list).get("embedding")
        if embedder is not None:
            mask[:embedder.n_features_out_] = True
        return mask

    def _cross_validate(self, unweighted: sparse.csr_matrix, embedding_columns: np.ndarray, labels: np.ndarray,
                        folds: int, weights: Sequence[float], Cs: Sequence[float]) -> list[dict[str, float]]:
        """Mean macro-F1 over stratified folds of every (embedding weight, C) candidate."""
        splits = list(StratifiedKFold(min(3, folds), shuffle=True, random_state=self.random_state).split(
            np.zeros(len(labels)), labels))
        scores = []
        for weight in weights:
            matrix = _scale_columns(unweighted, embedding_columns, weight)
            for C in Cs:
                f1 = np.mean([
                    f1_score(labels[test], self._svm(C).fit(matrix[train], labels[train]).predict(matrix[test]),
                             average="macro", zero_division=0)
                    for train, test in splits])
                scores.append({"embedding_weight": float(weight), "C": float(C), "macro_f1": float(f1)})
        return scores

    def decision_function(self, X: Iterable[str]) -> np.ndarray:
        """The SVM's uncalibrated decision values, one row per text (one column per class, or one for two classes)."""
        check_is_fitted(self, "pipeline_")
        features = self.pipeline_[:-1].transform(as_text_list(X))
        return self.pipeline_.named_steps["classifier"].calibrated_classifiers_[0].estimator.decision_function(features)

    @property
    def embedder_(self) -> SentenceTransformerEmbedder | None:
        """The fitted embedder inside the pipeline (``None`` when embeddings are off)."""
        check_is_fitted(self, "pipeline_")
        return dict(self.pipeline_.named_steps["features"].transformer_list).get("embedding")

