"""The scikit-learn estimator contract, checked with text inputs for every complaintkit estimator.

scikit-learn's common checks skip estimators that take strings, so these are the same checks
written with complaint texts: not fitted → NotFittedError, clone, idempotent fit, pickle round
trip, and predictions that do not depend on row order or batching.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import check_estimator

from complaintkit.embedding import SentenceTransformerEmbedder
from complaintkit.heads import ChurnClassifier, RootCauseClassifier, ZeroShotClassifier
from complaintkit.heads.char_ngrams import CharNgramTfidfVectorizer
from complaintkit.heads.zero_shot import PrototypeClassifier
from complaintkit.text import TextNormaliser


def _texts(frame: pd.DataFrame) -> list[str]:
    return frame["text"].tolist()


def _table(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[["text", "tenure", "plan"]].reset_index(drop=True)


# id → (estimator, inputs from the synthetic frame, target column or None, output method)
CASES: dict[str, tuple[Callable[[], object], Callable, str | None, str]] = {
    "root_cause_tfidf": (lambda: RootCauseClassifier(embedding_weight=0, C=1.0), _texts, "cause", "predict_proba"),
    "churn_tfidf": (lambda: ChurnClassifier(embedding_weight=0, numeric_cols=("tenure",), categorical_cols=("plan",)),
                    _table, "churned", "predict_proba"),
    "zero_shot": (lambda: ZeroShotClassifier(), _texts, "cause", "predict_proba"),
    "embedder": (lambda: SentenceTransformerEmbedder(), _texts, None, "transform"),
    "normaliser": (lambda: TextNormaliser(), _texts, None, "transform"),
    "char_ngrams": (lambda: CharNgramTfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4)), _texts, None,
                    "transform"),
}
SLOW_CASES = {"root_cause_with_embeddings": (lambda: RootCauseClassifier(C=1.0, embedding_weight=1.0), _texts,
                                             "cause", "predict_proba")}
ALL_CASES = [*[pytest.param(v, id=k) for k, v in CASES.items()],
             *[pytest.param(v, id=k, marks=pytest.mark.slow) for k, v in SLOW_CASES.items()]]


def _dense(values: object) -> np.ndarray:
    if hasattr(values, "toarray"):
        values = values.toarray()
    return np.asarray(values)


def _output(estimator: object, method: str, X: object) -> np.ndarray:
    result = getattr(estimator, method)(X)
    return _dense(result) if method != "transform" or not isinstance(result, list) else np.asarray(result, dtype=object)


def _rows(X: object, index: np.ndarray) -> object:
    return X.iloc[index].reset_index(drop=True) if isinstance(X, pd.DataFrame) else [X[i] for i in index]


def _fit(estimator: object, X: object, y: object) -> object:
    return estimator.fit(X, y) if y is not None else estimator.fit(X)


def _same(a: np.ndarray, b: np.ndarray) -> None:
    if a.dtype.kind in "fc":
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    else:
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("case", ALL_CASES)
def test_estimator_contract_with_text_inputs(case: tuple, synthetic_frame: pd.DataFrame) -> None:
    make, inputs, target, method = case
    X = inputs(synthetic_frame)
    y = synthetic_frame[target].to_numpy() if target else None
    estimator = make()

    if method != "transform" or not isinstance(estimator, TextNormaliser):  # stateless: usable unfitted
        with pytest.raises(NotFittedError):
            getattr(estimator, method)(X)
    if y is not None:
        with pytest.raises(NotFittedError):
            estimator.predict(X)
        with pytest.raises(ValueError, match="y"):
            clone(estimator).fit(X, None)

    twin = clone(estimator)
    assert twin is not estimator and twin.get_params() == estimator.get_params()

    fitted = _fit(estimator, X, y)
    assert fitted is estimator
    first = _output(fitted, method, X)
    assert len(first) == len(synthetic_frame)
    _same(_output(_fit(fitted, X, y), method, X), first)  # fitting again changes nothing
    _same(_output(_fit(twin, X, y), method, X), first)  # nor does fitting a clone
    _same(_output(pickle.loads(pickle.dumps(fitted)), method, X), first)

    order = np.random.default_rng(0).permutation(len(synthetic_frame))
    _same(_output(fitted, method, _rows(X, order)), first[order])
    halves = [np.arange(0, 5), np.arange(5, len(synthetic_frame))]
    _same(np.concatenate([_output(fitted, method, _rows(X, part)) for part in halves]), first)

    if y is not None:
        assert set(np.unique(fitted.predict(X))) <= set(fitted.classes_)
        assert 0.0 <= fitted.score(X, y) <= 1.0


def test_churn_classes_come_from_y(synthetic_frame: pd.DataFrame) -> None:
    X = _table(synthetic_frame)
    words = ChurnClassifier(embedding_weight=0, numeric_cols=("tenure",)).fit(X, synthetic_frame["churned"])
    assert words.classes_.tolist() == ["no", "yes"]
    assert set(words.predict(X)) <= {"no", "yes"}
    numbers = synthetic_frame["churned"].map({"no": 0, "yes": 1})
    ints = ChurnClassifier(embedding_weight=0, numeric_cols=("tenure",)).fit(X, numbers)
    assert ints.classes_.tolist() == [0, 1]
    np.testing.assert_allclose(ints.predict_proba(X), words.predict_proba(X))
    assert words.score(X, synthetic_frame["churned"]) == ints.score(X, numbers)
    assert "random_state" in ChurnClassifier().get_params()


def test_root_cause_head_indexes_its_examples_in_fit(synthetic_frame: pd.DataFrame) -> None:
    head = RootCauseClassifier(C=1.0, embedding_weight=1.0)
    head.fit(_texts(synthetic_frame), synthetic_frame["cause"], example_ids=synthetic_frame["id"])
    assert len(head.example_index_) == len(synthetic_frame)
    assert head.example_index_.ids.tolist() == synthetic_frame["id"].tolist()
    assert RootCauseClassifier(embedding_weight=0, C=1.0).fit(
        _texts(synthetic_frame), synthetic_frame["cause"]).example_index_ is None


def test_prototype_classifier_passes_scikit_learns_checks() -> None:
    check_estimator(PrototypeClassifier())
