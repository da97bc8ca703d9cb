"""Churn classifier: the complaint's embedding plus optional structured customer columns."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion, Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from sklearn.utils.validation import check_is_fitted

from ..embedding import DEFAULT_MODEL, SentenceTransformerEmbedder
from ..exceptions import InputError
from ..text import TextNormaliser
from .calibration import calibration_folds, calibration_method
from .features import to_numeric, to_string
from .vocabulary import WordTfidfVectorizer

TEXT = "text"
_TRUE = {"1", "1.0", "yes", "y", "true", "t", "churn", "churned"}
_FALSE = {"0", "0.0", "no", "n", "false", "f", "stay", "stayed", "retained"}
# Isotonic steps tie many customers on smaller tables and blunt the ranking within a company
# (Reclame Aqui, 4.4k rows: within-company ROC-AUC 0.636 isotonic vs 0.659 sigmoid).
ISOTONIC_FROM = 10_000


def auto_calibration(n_rows: int) -> str:
    """The churn head's ``calibration="auto"``: isotonic from ``ISOTONIC_FROM`` rows on, sigmoid below."""
    return "isotonic" if n_rows >= ISOTONIC_FROM else "sigmoid"


def normalise_outcome(values: Iterable[object], column: str = "churn") -> np.ndarray:
    """Map an outcome column (0/1, yes/no, true/false, any case) to a 0/1 int array.

    Raises
    ------
    InputError
        Naming the values that are none of these, or the missing ones.
    """
    series = pd.Series(list(values), dtype="object")
    text = series.map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip().lower())
    bad = sorted(set(text[~text.isin(_TRUE | _FALSE)]))
    if bad:
        shown = ", ".join(repr(b) for b in bad[:5]) + (" ..." if len(bad) > 5 else "")
        raise InputError(
            f"the outcome column {column!r} must hold 0/1, yes/no or true/false; found {shown} "
            f"in {int((~text.isin(_TRUE | _FALSE)).sum())} rows. Recode those rows or drop them."
        )
    return text.isin(_TRUE).to_numpy(dtype=int)


def _as_frame(X: pd.DataFrame | Iterable[str]) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        return X
    return pd.DataFrame({TEXT: list(X)})


# The names bundles saved before complaintkit.heads.features existed use (keep them importable).
_to_numeric = to_numeric
_to_string = to_string


class ChurnClassifier(ClassifierMixin, BaseEstimator):
    """Predict the probability that a complaining customer churns.

    ``X`` is a DataFrame with a ``text`` column plus the structured columns named in
    ``numeric_cols`` and ``categorical_cols`` (or just a sequence of texts). The text gives
    its sentence embedding (scaled by ``embedding_weight``) and, with ``use_tfidf``, word
    TF-IDF features; a class-balanced logistic regression over all blocks is calibrated by
    cross-validation.

    Parameters
    ----------
    embedding_model : str, default="all-MiniLM-L6-v2"
        Model alias or folder for :class:`SentenceTransformerEmbedder`.
    numeric_cols, categorical_cols : sequence of str, default=()
        Structured columns joined to the text features.
    C : float, default=1.0
        Inverse regularisation strength of the logistic regression.
    embedding_weight : float, default=1.0
        Scale of the embedding block relative to the TF-IDF block; 0 drops the embedding.
    use_tfidf : bool, default=True
        Add word uni- and bigram TF-IDF features of the text.
    calibration : {"auto", "sigmoid", "isotonic"}, default="auto"
        Probability calibration by shuffled stratified cross-validation (unshuffled folds of
        a table sorted by company or date calibrate on rows unlike the test rows); "auto"
        picks isotonic from 10,000 training rows on, sigmoid below (it keeps the ranking).
    cache_dir : str or None, default=None
        Embedding cache folder.
    redact : sequence of str, default=()
        Kinds of personal data masked before embedding (see :func:`complaintkit.redaction.redact`).
    random_state : int, default=0
        Seed of the shuffled calibration folds.
    precision : {"fp32", "bf16", "int8"}, default="fp32"
        The encoder's precision while fitting; scoring chooses its own.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        The outcome labels as given in ``y``: the one meaning "stayed", then the one meaning
        "churned" (``predict_proba``'s columns, ``predict``'s values).
    """

    precision = "fp32"  # what heads saved before the parameter existed were fitted in

    def __init__(
        self,
        embedding_model: str = DEFAULT_MODEL,
        numeric_cols: Sequence[str] = (),
        categorical_cols: Sequence[str] = (),
        C: float = 1.0,
        embedding_weight: float = 1.0,
        use_tfidf: bool = True,
        calibration: str = "auto",
        cache_dir: str | None = None,
        redact: Sequence[str] = (),
        random_state: int = 0,
        precision: str = "fp32",
    ) -> None:
        self.embedding_model = embedding_model
        self.numeric_cols = numeric_cols
        self.categorical_cols = categorical_cols
        self.C = C
        self.embedding_weight = embedding_weight
        self.use_tfidf = use_tfidf
        self.calibration = calibration
        self.cache_dir = cache_dir
        self.redact = redact
        self.random_state = random_state
        self.precision = precision

    def _text_features(self) -> FeatureUnion:
        blocks, weights = [], {}
        if self.embedding_weight > 0:
            blocks.append(("embedding", SentenceTransformerEmbedder(model=self.embedding_model,
                                                                    cache_dir=self.cache_dir,
                                                                    precision=self.precision)))
            weights["embedding"] = float(self.embedding_weight)
        if self.use_tfidf:
            blocks.append(("tfidf", WordTfidfVectorizer(ngram_range=(1, 2), min_df=2, max_df=0.9,
                                                        sublinear_tf=True, max_features=100_000)))
            weights["tfidf"] = 1.0
        if not blocks:
            raise ValueError("ChurnClassifier needs embedding_weight > 0 or use_tfidf=True.")
        return FeatureUnion(blocks, transformer_weights=weights)

    def _columns(self) -> ColumnTransformer:
        blocks = [(TEXT, make_pipeline(TextNormaliser(redact=tuple(self.redact)), self._text_features()), TEXT)]
        if self.numeric_cols:
            blocks.append(("numeric", make_pipeline(
                FunctionTransformer(to_numeric, feature_names_out="one-to-one"),
                SimpleImputer(strategy="median", keep_empty_features=True), StandardScaler()),
                list(self.numeric_cols)))
        if self.categorical_cols:
            blocks.append(("categorical", make_pipeline(
                FunctionTransformer(to_string, feature_names_out="one-to-one"),
                OneHotEncoder(handle_unknown="ignore", min_frequency=5)), list(self.categorical_cols)))
        return ColumnTransformer(blocks, sparse_threshold=1.0)

    def fit(self, X: pd.DataFrame | Iterable[str], y: Iterable[object]) -> ChurnClassifier:
        """Fit on complaints ``X`` and outcomes ``y`` (0/1, yes/no or true/false)."""
        if y is None:
            raise ValueError("ChurnClassifier.fit needs y, the churn outcome of each complaint (0/1, yes/no or "
                             "true/false); got None.")
        frame = _as_frame(X)
        raw = pd.Series(list(y), dtype=object)
        target = normalise_outcome(raw)
        if len(frame) != len(target):
            raise InputError(f"got {len(frame)} rows but {len(target)} outcomes; they must match one to one.")
        if self.C <= 0:
            raise ValueError(f"The 'C' parameter of ChurnClassifier must be > 0. Got {self.C!r} instead.")
        method = calibration_method(self.calibration, auto_calibration(len(frame)))
        self.pipeline_ = Pipeline([
            ("columns", self._columns()),
            ("classifier", CalibratedClassifierCV(
                LogisticRegression(C=self.C, solver="liblinear", class_weight="balanced"),
                method=method, cv=StratifiedKFold(calibration_folds(target), shuffle=True,
                                                  random_state=self.random_state))),
        ])
        self.pipeline_.fit(frame, target)
        self.classes_ = _outcome_labels(raw, target)
        self.n_features_in_ = frame.shape[1]
        return self

    def predict_proba(self, X: pd.DataFrame | Iterable[str]) -> np.ndarray:
        """Columns: probability of staying, probability of churning."""
        check_is_fitted(self, "pipeline_")
        return self.pipeline_.predict_proba(_as_frame(X))

    def predict(self, X: pd.DataFrame | Iterable[str]) -> np.ndarray:
        """``classes_[1]`` (churned) where the churn probability is at least 0.5, else ``classes_[0]``."""
        churned = self.predict_proba(X)[:, 1] >= 0.5  # raises NotFittedError before fit
        return self.classes_[churned.astype(int)]

    def score(self, X: pd.DataFrame | Iterable[str], y: Iterable[object], sample_weight: object = None) -> float:
        """Accuracy of :meth:`predict` on outcomes ``y``, in any of the accepted spellings."""
        predicted = normalise_outcome(self.predict(X))
        return float(accuracy_score(normalise_outcome(y), predicted, sample_weight=sample_weight))

    def __sklearn_tags__(self):  # noqa: D105
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True  # a sequence of texts, or a DataFrame with a text column
        tags.input_tags.one_d_array = True
        tags.input_tags.categorical = bool(self.categorical_cols)
        tags.input_tags.allow_nan = True  # missing structured values are imputed
        tags.classifier_tags.multi_class = False
        return tags


def _outcome_labels(raw: pd.Series, target: np.ndarray) -> np.ndarray:
    """``[label meaning stayed, label meaning churned]`` as spelled in ``raw`` (the first of each, sorted)."""
    labels = []
    for value in (0, 1):
        spelled = sorted(raw[target == value].unique(), key=str)
        labels.append(spelled[0] if spelled else value)
    return np.asarray([label.item() if isinstance(label, np.generic) else label for label in labels])
