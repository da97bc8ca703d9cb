import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import cross_val_score

from complaintkit import RootCauseClassifier
from complaintkit.exceptions import InputError


def test_fit_predict_proba_on_synthetic(synthetic_frame: pd.DataFrame) -> None:
    clf = RootCauseClassifier().fit(synthetic_frame["text"], synthetic_frame["cause"])
    proba = clf.predict_proba(["I was billed twice this month", "the internet is down again"])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert list(clf.predict(["I was billed twice this month", "the internet is down again"])) == [
        "billing_error", "service_failure"]


def test_is_a_scikit_learn_estimator_that_cross_validates(synthetic_frame: pd.DataFrame) -> None:
    clf = RootCauseClassifier(C=1.0)
    assert clone(clf).get_params()["C"] == 1.0
    scores = cross_val_score(clf, synthetic_frame["text"].tolist(), synthetic_frame["cause"], cv=3)
    assert scores.mean() > 0.6


def test_tfidf_only_and_embedding_only_variants(synthetic_frame: pd.DataFrame) -> None:
    for params in ({"embedding_weight": 0.0}, {"use_tfidf": False}):
        clf = RootCauseClassifier(**params).fit(synthetic_frame["text"], synthetic_frame["cause"])
        assert clf.predict_proba(["rude agent"]).shape == (1, 3)


def test_same_data_and_seed_give_identical_predictions(synthetic_frame: pd.DataFrame) -> None:
    a = RootCauseClassifier().fit(synthetic_frame["text"], synthetic_frame["cause"])
    b = RootCauseClassifier().fit(synthetic_frame["text"], synthetic_frame["cause"])
    np.testing.assert_array_equal(a.predict_proba(synthetic_frame["text"]), b.predict_proba(synthetic_frame["text"]))


def test_a_single_class_is_refused() -> None:
    with pytest.raises(InputError, match="at least two classes"):
        RootCauseClassifier().fit(["a", "b"], ["x", "x"])


def test_mismatched_lengths_are_refused() -> None:
    with pytest.raises(InputError, match="3 texts but 2 labels"):
        RootCauseClassifier().fit(["a", "b", "c"], ["x", "y"])
