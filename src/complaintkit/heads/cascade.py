"""The fast tier: a cheap head for the rows it is sure of, the full head for the rest."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.validation import check_is_fitted

from ..embedding.static import STATIC_PREFIX
from ..exceptions import InputError
from ..text import as_text_list, string_input_tags
from .root_cause import FOLD_TOL, TEXT_BLOCKS, RootCauseClassifier


def choose_threshold(confidence: np.ndarray, fast: np.ndarray, full: np.ndarray, labels: np.ndarray,
                     max_f1_loss: float, min_agreement: float = 0.0) -> tuple[float, float]:
    """Lowest confidence threshold whose cascade keeps macro-F1 within ``max_f1_loss`` of ``full`` and
    gives the ``full`` prediction on at least ``min_agreement`` of the rows.

    Rows at or above the threshold take the ``fast`` prediction, the others the ``full`` one.
    Returns the threshold (``inf``: every row goes to the full head) and the cascade's macro-F1.
    """
    target = f1_score(labels, full, average="macro", zero_division=0) - max_f1_loss
    for threshold in np.unique(np.quantile(confidence, np.linspace(0, 1, 201))):
        cascade = np.where(confidence >= threshold, fast, full)
        if np.mean(cascade == full) < min_agreement:
            continue
        f1 = f1_score(labels, cascade, average="macro", zero_division=0)
        if f1 >= target:
            return float(threshold), float(f1)
    return float("inf"), float(f1_score(labels, full, average="macro", zero_division=0))


class CascadeRootCauseClassifier(ClassifierMixin, BaseEstimator):
    """Root causes from a fast head where it is confident, from the full head elsewhere.

    The fast head is a :class:`RootCauseClassifier` on TF-IDF and a static embedding distilled
    from the transformer (:class:`~complaintkit.embedding.static.StaticEmbedder`), with the full
    head's chosen ``C`` and embedding weight and its fitted TF-IDF blocks, and a final SVM that stops
    where its calibration folds do (``tol=FOLD_TOL``); its encoder is about a hundred times cheaper. Rows
    whose fast calibrated confidence is below ``threshold_`` are escalated to the full head. The
    threshold is the lowest that keeps the cascade's out-of-fold macro-F1 within ``max_f1_loss``
    of the full head's, on the training rows, and its answers the full head's on at least
    ``min_agreement`` of them.

    Parameters
    ----------
    full : RootCauseClassifier
        The full head; used as is when already fitted (the settings it chose are kept for the
        out-of-fold predictions), else cloned and fitted.
    max_f1_loss : float, default=0.01
        Out-of-fold macro-F1 the cascade may lose against the full head.
    min_agreement : float, default=0.0
        Share of the training rows on which the cascade's out-of-fold answer must be the full
        head's (0.99: at most one row in a hundred answered differently).
    folds : int, default=3
        Folds of the full head's out-of-fold predictions when it is given fitted and they are not
        passed to ``fit`` (the fast head's come from its calibration folds).
    random_state : int, default=0
        Seed of those folds.

    Attributes
    ----------
    full_, fast_ : RootCauseClassifier
        The fitted heads.
    threshold_ : float
        Fast-head confidence at or above which its prediction is kept (``inf``: never).
    oof_ : dict
        Out-of-fold macro-F1 of the full head, the fast head and the cascade, the share of rows
        escalated and the cascade's agreement with the full head, at ``threshold_``.
    """

    def __init__(self, full: RootCauseClassifier | None = None, max_f1_loss: float = 0.01, min_agreement: float = 0.0,
                 folds: int = 3, random_state: int = 0) -> None:
        self.full = full
        self.max_f1_loss = max_f1_loss
        self.min_agreement = min_agreement
        self.folds = folds
        self.random_state = random_state

    def fit(self, X: Iterable[str], y: Iterable[str],
            full_oof_proba: np.ndarray | None = None) -> CascadeRootCauseClassifier:
        """Fit the fast head (and the full head unless fitted) and choose the threshold.

        The fast head's out-of-fold probabilities are those of its calibration folds
        (``held_out_proba_``). ``full_oof_proba`` are the given, fitted full head's out-of-fold
        probabilities on these rows when already computed, as training does for the ``needs_review``
        threshold; they are computed here otherwise (``folds`` shuffled folds, ``random_state``).
        A given full head fitted with ``keep_text_block_outputs=True`` lends the fast head its TF-IDF
        outputs on these rows, which are then dropped from it.
        """
        if not 0 <= self.max_f1_loss < 1:
            raise ValueError(f"The 'max_f1_loss' parameter must be in [0, 1). Got {self.max_f1_loss!r} instead.")
        if not 0 <= self.min_agreement <= 1:
            raise ValueError(f"The 'min_agreement' parameter must be in [0, 1]. Got {self.min_agreement!r} instead.")
        texts = as_text_list(X)
        labels = np.asarray(y if hasattr(y, "__array__") else list(y))
        if len(texts) != len(labels):
            raise InputError(f"got {len(texts)} texts but {len(labels)} labels; they must match one to one.")
        full = self.full if self.full is not None else RootCauseClassifier()
        if not hasattr(full, "pipeline_"):
            full = clone(full).fit(texts, labels, keep_text_block_outputs=True)
        # The full head's chosen settings and fitted TF-IDF blocks (with their outputs on these rows when it kept
        # them): no second search, vocabulary or TF-IDF pass is paid for, and a bundle stores the blocks once.
        outputs = getattr(full, "text_block_outputs_", {})
        text_blocks = {name: (block, outputs[name]) if name in outputs else block
                       for name, block in full.pipeline_.named_steps["features"].transformer_list
                       if name in TEXT_BLOCKS}
        # Its final SVM stops where the calibration folds' do: the threshold is chosen on those folds' answers.
        fast = clone(full).set_params(embedding_model=STATIC_PREFIX + full.embedding_model, C=full.C_,
                                      embedding_weight=full.embedding_weight_, tol=FOLD_TOL)
        fast.fit(texts, labels, fitted_text_blocks=text_blocks)
        vars(full).pop("text_block_outputs_", None)  # kept for the fast head only: as large as the training features
        fast.example_index_ = None  # explanations read the full head's; the bundle need not carry a second
        if full is not self.full:  # fitted here, on these rows
            full_oof_proba = full.held_out_proba_
        elif full_oof_proba is None:
            folds = int(min(self.folds, np.unique(labels, return_counts=True)[1].min()))
            cv = StratifiedKFold(max(2, folds), shuffle=True, random_state=self.random_state)
            full_oof_proba = full.out_of_fold_proba(texts, labels, cv)
        proba = {"fast": fast.held_out_proba_, "full": np.asarray(full_oof_proba)}
        classes = full.classes_
        predicted = {name: classes[p.argmax(axis=1)] for name, p in proba.items()}
        confidence = proba["fast"].max(axis=1)
        self.threshold_, cascade_f1 = choose_threshold(confidence, predicted["fast"], predicted["full"], labels,
                                                       self.max_f1_loss, self.min_agreement)
        kept = confidence >= self.threshold_
        self.oof_ = {"full_macro_f1": float(f1_score(labels, predicted["full"], average="macro", zero_division=0)),
                     "fast_macro_f1": float(f1_score(labels, predicted["fast"], average="macro", zero_division=0)),
                     "cascade_macro_f1": cascade_f1, "escalated": float(np.mean(~kept)),
                     "agreement": float(np.mean(~kept | (predicted["fast"] == predicted["full"]))),
                     "folds": fast.held_out_folds_}
        self.full_, self.fast_ = full, fast
        self.classes_ = classes
        self.n_features_in_ = 1
        return self

    def escalated(self, X: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
        """The fast head's probabilities for ``X`` and the mask of rows it hands to the full head."""
        check_is_fitted(self, "threshold_")
        proba = self.fast_.predict_proba(as_text_list(X))
        return proba, proba.max(axis=1) < self.threshold_

    def predict_proba(self, X: Iterable[str]) -> np.ndarray:
        """Calibrated probabilities: the fast head's, or the full head's for escalated rows."""
        texts = as_text_list(X)
        proba, escalate = self.escalated(texts)
        if escalate.any():
            proba[escalate] = self.full_.predict_proba([texts[i] for i in np.flatnonzero(escalate)])
        return proba

    def __setstate__(self, state: dict) -> None:
        state.setdefault("min_agreement", 0.0)  # cascades saved before the agreement floor existed
        super().__setstate__(state)

    def predict(self, X: Iterable[str]) -> np.ndarray:
        """The most probable class of each text."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    # What explanations, the example index and the bundle read: the full head's.
    @property
    def pipeline_(self):
        check_is_fitted(self, "full_")
        return self.full_.pipeline_

    @property
    def pipelines_(self) -> list:
        """Both heads' fitted pipelines (the bundle prepares every TF-IDF vocabulary for saving)."""
        check_is_fitted(self, "full_")
        return [self.full_.pipeline_, self.fast_.pipeline_]

    @property
    def embedder_(self):
        return self.full_.embedder_

    @property
    def example_index_(self):
        return getattr(self.full_, "example_index_", None)

    def __sklearn_tags__(self):  # noqa: D105
        return string_input_tags(super().__sklearn_tags__())


def full_head(head: Any) -> Any:
    """The head that answers every row with the full model: a cascade's ``full_``, any other head itself.

    Nothing is copied or changed: the cascade keeps answering as before wherever it is used.

    Examples
    --------
    >>> head = RootCauseClassifier()
    >>> full_head(head) is head
    True
    """
    return head.full_ if isinstance(head, CascadeRootCauseClassifier) else head
