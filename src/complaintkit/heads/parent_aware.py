"""A linear SVM that scores each label together with its parent label (issue within product)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.svm import LinearSVC
from sklearn.utils.validation import check_is_fitted


class ParentAwareLinearSVC(ClassifierMixin, BaseEstimator):
    """Class-balanced linear SVMs on the labels and on their parents; a label's score adds its parent's.

    The parent of each label comes from ``hierarchy`` (labels missing from it are their own
    parent). Two one-vs-rest SVMs are fitted on the same features, one on the labels and one on
    the parents; the decision value of a label is its own plus its parent's, so that evidence for
    the product (many rows) helps choose among that product's issues (few rows each).

    Parameters
    ----------
    C : float, default=0.3
        Inverse regularisation strength of both SVMs.
    hierarchy : sequence of (label, parent) pairs or None, default=None
        Every label with its parent, sorted by label. Integer-coded labels (as
        ``CalibratedClassifierCV`` passes them) index this sequence.
    random_state : int, default=0
        Seed of the SVMs' coordinate descent.
    tol : float, default=1e-4
        Stopping tolerance of both SVMs.

    Attributes
    ----------
    classes_ : ndarray
        The labels, in the column order of ``decision_function``.
    labels_svm_, parents_svm_ : LinearSVC
        The two fitted SVMs.
    parent_columns_ : ndarray of int
        For each label, the column of its parent in ``parents_svm_``'s decision values.
    """

    tol = 1e-4  # what SVMs saved before the parameter existed stopped at

    def __init__(self, C: float = 0.3, hierarchy: Sequence[tuple[str, str]] | None = None,
                 random_state: int = 0, tol: float = 1e-4) -> None:
        self.C = C
        self.hierarchy = hierarchy
        self.random_state = random_state
        self.tol = tol

    def _svm(self) -> LinearSVC:
        return LinearSVC(C=self.C, class_weight="balanced", random_state=self.random_state, max_iter=5000,
                         tol=self.tol)

    def fit(self, X: object, y: object, sample_weight: object = None) -> ParentAwareLinearSVC:
        """Fit both SVMs on features ``X`` and labels ``y`` (each row's loss scaled by ``sample_weight``, if given)."""
        labels = np.asarray(y)
        pairs = list(self.hierarchy or [])
        by_name = dict(pairs)

        coded = labels.dtype.kind in "iu" and not {str(label) for label in np.unique(labels)} <= set(by_name)

        def parent(label: object) -> str:
            if coded and 0 <= int(label) < len(pairs):
                return pairs[int(label)][1]
            return by_name.get(str(label), str(label))

        self.labels_svm_ = self._svm().fit(X, labels, sample_weight=sample_weight)
        self.classes_ = self.labels_svm_.classes_
        parents = np.asarray([parent(label) for label in labels], dtype=object)
        if len(self.classes_) < 3 or len(np.unique(parents)) in (1, len(self.classes_)):
            # one parent for all, or one label per parent: the parents cannot help tell the labels apart
            self.parents_svm_, self.parent_columns_ = None, np.zeros(len(self.classes_), dtype=int)
            return self
        self.parents_svm_ = self._svm().fit(X, parents, sample_weight=sample_weight)
        index = {name: i for i, name in enumerate(self.parents_svm_.classes_)}
        self.parent_columns_ = np.asarray([index[parent(c)] for c in self.classes_])
        return self

    def decision_function(self, X: object) -> np.ndarray:
        """Each label's decision value plus its parent's, one column per label in ``classes_``."""
        check_is_fitted(self, "labels_svm_")
        scores = self.labels_svm_.decision_function(X)
        if self.parents_svm_ is None:
            return scores
        parent_scores = self.parents_svm_.decision_function(X)
        if parent_scores.ndim == 1:  # two parents: one column, positive for the second
            parent_scores = np.column_stack([-parent_scores, parent_scores])
        return scores + parent_scores[:, self.parent_columns_]

    def predict(self, X: object) -> np.ndarray:
        """The label with the highest combined decision value."""
        return self.classes_[self.decision_function(X).argmax(axis=1)]
