"""The parent-aware SVM: a label's score adds its parent's, so that product evidence picks among its issues."""

from __future__ import annotations

import numpy as np
from sklearn.calibration import CalibratedClassifierCV

from complaintkit.heads.parent_aware import ParentAwareLinearSVC


def _issues_within_products(seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[tuple[str, str]]]:
    """Synthetic features: dimension 0 tells the product apart, dimension 1 (weakly) the issue within it."""
    rng = np.random.default_rng(seed)
    parents = {"late fee": "card", "late payment": "loan", "wrong balance": "loan", "wrong charge": "card"}
    X, y = [], []
    for issue, product in parents.items():
        for _ in range(40):
            X.append([(1.0 if product == "card" else -1.0) + rng.normal(0, 0.6),
                      (0.5 if issue in ("late fee", "wrong balance") else -0.5) + rng.normal(0, 0.6)])
            y.append(issue)
    return np.asarray(X), np.asarray(y, dtype=object), sorted(parents.items())


def test_scores_add_the_parent_score_and_predictions_stay_labels() -> None:
    X, y, parents = _issues_within_products()
    head = ParentAwareLinearSVC(C=1.0, hierarchy=parents).fit(X, y)
    parents = dict(parents)
    scores = head.decision_function(X)
    own = head.labels_svm_.decision_function(X)
    parent = head.parents_svm_.decision_function(X)
    parent = np.column_stack([-parent, parent])  # two parents: card, loan
    card = list(head.parents_svm_.classes_).index("card")
    for column, label in enumerate(head.classes_):
        expected = own[:, column] + parent[:, card if parents[label] == "card" else 1 - card]
        np.testing.assert_allclose(scores[:, column], expected)
    assert set(head.predict(X)) <= set(parents)
    assert (head.predict(X) == y).mean() > 0.5


def test_without_parents_it_is_the_plain_svm() -> None:
    X, y, _ = _issues_within_products()
    head = ParentAwareLinearSVC(C=1.0).fit(X, y)
    assert head.parents_svm_ is None
    np.testing.assert_allclose(head.decision_function(X), head.labels_svm_.decision_function(X))


def test_it_calibrates_like_a_linear_svm() -> None:
    X, y, parents = _issues_within_products()
    calibrated = CalibratedClassifierCV(ParentAwareLinearSVC(hierarchy=parents), method="temperature",
                                        cv=3, ensemble=False).fit(X, y)
    proba = calibrated.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    inner = calibrated.calibrated_classifiers_[0].estimator  # fitted on integer-coded labels
    assert inner.parents_svm_ is not None and set(inner.parents_svm_.classes_) == {"card", "loan"}
    np.testing.assert_array_equal(proba.argmax(axis=1), inner.predict(X))


def test_sample_weights_reach_both_svms() -> None:
    X, y, parents = _issues_within_products()
    plain = ParentAwareLinearSVC(C=1.0, hierarchy=parents).fit(X, y)
    ones = ParentAwareLinearSVC(C=1.0, hierarchy=parents).fit(X, y, sample_weight=np.ones(len(y)))
    np.testing.assert_allclose(ones.decision_function(X), plain.decision_function(X))
    card_only = np.asarray([1.0 if dict(parents)[label] == "card" else 1e-3 for label in y])
    weighted = ParentAwareLinearSVC(C=1.0, hierarchy=parents).fit(X, y, sample_weight=card_only)
    assert not np.allclose(weighted.labels_svm_.coef_, plain.labels_svm_.coef_)
    assert not np.allclose(weighted.parents_svm_.coef_, plain.parents_svm_.coef_)


def test_the_tolerance_reaches_both_svms_and_old_saves_stop_where_they_did() -> None:
    X, y, parents = _issues_within_products()
    head = ParentAwareLinearSVC(C=1.0, hierarchy=parents, tol=1e-2).fit(X, y)
    assert head.labels_svm_.tol == head.parents_svm_.tol == 1e-2
    state = ParentAwareLinearSVC(C=1.0, hierarchy=parents).__getstate__()
    state.pop("tol")  # saved before the parameter existed
    old = ParentAwareLinearSVC.__new__(ParentAwareLinearSVC)
    old.__setstate__(state)
    assert old.get_params()["tol"] == 1e-4 and old.fit(X, y).labels_svm_.tol == 1e-4
