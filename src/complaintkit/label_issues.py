"""Training rows whose label is probably wrong, found from out-of-fold probabilities.

The probabilities come from a multinomial logistic regression on the sentence embeddings the
root-cause head uses, refitted in cross-validation (each row is predicted by a model that did
not see it): cleanlab's usual recipe, which ranks doubtful labels better than the head's own
probabilities (a class-balanced SVM scaled by one temperature, built for balanced decisions;
see docs/doubtful-labels.md). cleanlab's confident learning (``cleanlab.filter.find_label_issues``,
Northcutt et al. 2021) estimates from them how many rows of each given label belong to another
class and flags that many, the least confident first; the list is ranked by the given label's
out-of-fold probability (self-confidence), lowest first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .redaction import redact

LABEL_ISSUES_FILE = "label_issues.csv"
LABEL_ISSUE_FOLDS = 3  # of the regression's out-of-fold probabilities (fewer when the rarest label has fewer rows)
METHOD = ("confident learning (cleanlab find_label_issues, prune_by_noise_rate) on out-of-fold probabilities of "
          "a logistic regression on the head's sentence embeddings, ranked by the given label's probability")

HEAD_METHOD = ("confident learning (cleanlab find_label_issues, prune_by_noise_rate) on the head's out-of-fold "
               "probabilities (it uses no sentence embedding), ranked by the given label's probability")


def _label_numbers(labels: Sequence[str], classes: Sequence[str]) -> np.ndarray:
    """Each given label's position in ``classes``."""
    return pd.Index(np.asarray(classes, dtype=object)).get_indexer(pd.Index(labels, dtype=object))


def embedding_oof_proba(vectors: np.ndarray, labels: Sequence[str], folds: int = LABEL_ISSUE_FOLDS, seed: int = 0,
                        class_weight: str | None = None) -> np.ndarray:
    """Out-of-fold class probabilities of a multinomial logistic regression on ``vectors``.

    Parameters
    ----------
    vectors : ndarray of shape (n_rows, n_dimensions)
        Sentence embeddings of the training rows.
    labels : sequence of str
        Given labels; every class needs at least ``folds`` rows.
    folds : int, default=3
    seed : int, default=0
        Shuffles the stratified folds.
    class_weight : {"balanced"} or None, default=None
        The regression's class weights; ``train`` leaves them equal, which ranks doubtful labels
        better for review (docs/doubtful-labels.md).

    Returns
    -------
    ndarray of shape (n_rows, n_classes)
        Columns in the sorted order of the classes (as a head's ``classes_``).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    regression = LogisticRegression(max_iter=1000, class_weight=class_weight)
    return cross_val_predict(regression, vectors, np.asarray(labels, dtype=object), cv=cv, method="predict_proba")


def find_label_issues(proba: np.ndarray, labels: Sequence[str], classes: Sequence[str], row_ids: Sequence[Any],
                      texts: Sequence[str] | None = None) -> pd.DataFrame:
    """The flagged rows, most doubtful first.

    Parameters
    ----------
    proba : ndarray of shape (n_rows, n_classes)
        Out-of-fold probabilities, columns in the order of ``classes``.
    labels : sequence of str
        Given labels.
    classes : sequence of str
    row_ids : sequence
        What identifies each row to the user (an id column, else the row number).
    texts : sequence of str or None, default=None
        Complaint texts, added with personal data masked.

    Returns
    -------
    DataFrame
        ``row_id``, ``given_label``, ``suggested_label`` (the most probable other class),
        ``suggested_proba`` and ``given_proba`` (out-of-fold), and ``text``; most doubtful first.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> truth = np.repeat([0, 1], 50)
    >>> proba = np.where(np.eye(2, dtype=bool)[truth], 0.9, 0.1) + rng.uniform(-0.05, 0.05, (100, 1)) * [1, -1]
    >>> labels = np.array(["a", "b"])[np.where(np.arange(100) % 25 == 0, 1 - truth, truth)]  # 4 wrong
    >>> find_label_issues(proba, labels, ["a", "b"], list(range(100)))["row_id"].sort_values().tolist()
    [0, 25, 50, 75]
    """
    from cleanlab.filter import find_label_issues as confident_learning

    given = _label_numbers(labels, classes)
    order = confident_learning(given, proba, filter_by="prune_by_noise_rate",
                               return_indices_ranked_by="self_confidence", n_jobs=1)
    return issue_rows(order, proba, labels, classes, row_ids, texts)


def issue_rows(order: np.ndarray, proba: np.ndarray, labels: Sequence[str], classes: Sequence[str],
               row_ids: Sequence[Any], texts: Sequence[str] | None = None) -> pd.DataFrame:
    """The rows numbered ``order`` (in that order) as :func:`find_label_issues` lists them."""
    classes = np.asarray(classes, dtype=object)
    given = _label_numbers(labels, classes)
    order = np.asarray(order, dtype=int)
    others = proba[order].copy()
    others[np.arange(len(order)), given[order]] = -np.inf
    suggested = others.argmax(axis=1)
    flagged = pd.DataFrame({
        "row_id": [row_ids[i] for i in order], "given_label": classes[given[order]],
        "suggested_label": classes[suggested], "suggested_proba": proba[order, suggested].round(4),
        "given_proba": proba[order, given[order]].round(4)})
    if texts is not None:
        flagged["text"] = [redact(str(texts[i])) for i in order]
    return flagged


DOUBT_SHARE_OF_CHANCE = 0.5
DOUBTFUL_RULE = ("rows whose given label's out-of-fold probability under the root-cause head is below half of chance "
                 "(0.5 / the number of labels), a label keeping at least 2 rows")


def doubtful_rows(proba: np.ndarray, labels: Sequence[str], classes: Sequence[str],
                  share_of_chance: float = DOUBT_SHARE_OF_CHANCE) -> np.ndarray:
    """Mask of the rows whose given label is less probable than ``share_of_chance`` / the number of classes.

    A label moved at random is about as probable as any wrong class; a correct but hard label
    usually stays above chance. A label never loses all but one of its rows: its least doubtful
    rows are kept until two remain.

    ``proba``, ``labels`` and ``classes`` are those of :func:`find_label_issues`.

    Examples
    --------
    >>> proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.1, 0.9], [0.05, 0.95], [0.8, 0.2]])
    >>> doubtful_rows(proba, ["a", "b", "a", "b", "a"], ["a", "b"]).tolist()
    [False, False, True, False, False]
    """
    given = _label_numbers(labels, classes)
    given_proba = proba[np.arange(len(given)), given]
    doubtful = given_proba < share_of_chance / proba.shape[1]
    for label in np.unique(given):
        rows = np.flatnonzero(given == label)
        kept = int((~doubtful[rows]).sum())
        if kept < 2:
            flagged = rows[doubtful[rows]]
            doubtful[flagged[np.argsort(-given_proba[flagged], kind="stable")[: 2 - kept]]] = False
    return doubtful


def with_dropped_rows(issues: pd.DataFrame, dropped: np.ndarray, proba: np.ndarray, labels: Sequence[str],
                      classes: Sequence[str], row_ids: Sequence[Any], texts: Sequence[str] | None = None
                      ) -> pd.DataFrame:
    """``issues`` with a ``dropped`` column (the row was left out of training), and the dropped rows it did not
    list appended, most doubtful first."""
    dropped_ids = {row_ids[i] for i in np.flatnonzero(dropped)}
    listed = set(issues["row_id"])
    missing = [i for i in np.flatnonzero(dropped) if row_ids[i] not in listed]
    given = _label_numbers(labels, classes)
    missing = sorted(missing, key=lambda i: proba[i, given[i]])
    table = pd.concat([issues, issue_rows(np.asarray(missing, dtype=int), proba, labels, classes, row_ids, texts)],
                      ignore_index=True)
    table.insert(table.columns.get_loc("given_proba") + 1, "dropped", table["row_id"].isin(dropped_ids))
    return table


def label_issues_summary(issues: pd.DataFrame, rows_checked: int, folds: int, method: str = METHOD) -> dict[str, Any]:
    """What the bundle's metadata records about ``issues``."""
    return {"file": LABEL_ISSUES_FILE, "rows_flagged": int(len(issues)), "rows_checked": int(rows_checked),
            "share_flagged": round(len(issues) / rows_checked, 4) if rows_checked else 0.0,
            "by_given_label": {str(k): int(v) for k, v in issues["given_label"].value_counts().head(20).items()},
            "method": method, "folds": folds}
