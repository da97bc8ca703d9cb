"""Zero-shot that adapts: prototypes of the causes plus a linear head self-trained on unlabelled complaints.

A taxonomy gives each cause a description and example phrases; the company's own complaints
come without labels. :class:`SelfTrainedPrototypeClassifier` starts from the similarity of each
complaint to each cause's prototypes, takes the most confident complaints of each cause as
pseudo-labels, fits a class-balanced, strongly regularised logistic regression on them (and on
the prototypes), and repeats a few rounds with the mixture of both views. No evaluation label is
ever used: the only labelled rows are the taxonomy's phrases (and any labelled complaints the
caller passes).

Its probabilities are temperature-scaled on cross-fitted predictions: the temperature is chosen
so that, on the unlabelled rows, the mean top probability equals the estimated accuracy
(agreement of cross-fitted linear heads with the prototype view). This is an estimate made
without labels, recorded in ``calibration_``; read it as "how sure the model is", not as a
measured precision.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from scipy.optimize import brentq
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ..embedding import DEFAULT_MODEL, SentenceTransformerEmbedder
from ..exceptions import InputError
from ..explain import build_example_index, embed_for_head
from ..text import TextNormaliser, as_text_list
from .zero_shot import PrototypeClassifier, ZeroShotClassifier

# How much of the views' agreement above chance counts as accuracy (chosen on the airline train split's
# folds, docs/zero-shot-and-multilingual.md: 0.8 left the default head underconfident, 1.0 let the review
# rule fall below its precision in some folds).
AGREEMENT_SHRINK = 0.9


def is_unlabelled(y: Iterable[object]) -> np.ndarray:
    """True where a label is missing (``None``, NaN or blank): those rows are unlabelled.

    Examples
    --------
    >>> is_unlabelled(["a", None, "", float("nan"), "b"]).tolist()
    [False, True, True, True, False]
    """
    return np.asarray([v is None or (isinstance(v, float) and np.isnan(v)) or not str(v).strip()
                       for v in y], dtype=bool)


def _log_softmax(scores: np.ndarray) -> np.ndarray:
    shifted = scores - scores.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _softmax(scores: np.ndarray) -> np.ndarray:
    return np.exp(_log_softmax(scores))


def confident_per_class(proba: np.ndarray, share: float, min_per_class: int = 2) -> np.ndarray:
    """Positions of the most confident rows of each predicted class: its top ``share`` by margin.

    Taking a share of every class (rather than a global confidence cut) keeps causes that the
    prototypes score low but consistently, which a global cut would starve.

    Examples
    --------
    >>> p = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8], [0.45, 0.55]])
    >>> sorted(confident_per_class(p, 0.5, min_per_class=1).tolist())
    [0, 2]
    """
    predicted = proba.argmax(axis=1)
    top2 = np.sort(proba, axis=1)[:, -2:]
    margin = top2[:, 1] - top2[:, 0]
    chosen = []
    for k in np.unique(predicted):
        rows = np.flatnonzero(predicted == k)
        take = max(min_per_class, int(np.ceil(share * len(rows))))
        chosen.append(rows[np.argsort(-margin[rows], kind="stable")[:take]])
    return np.sort(np.concatenate(chosen)) if chosen else np.array([], dtype=int)


class SelfTrainedPrototypeClassifier(ClassifierMixin, BaseEstimator):
    """Prototype similarity + a linear head self-trained on confident pseudo-labels (vectors in, causes out).

    Parameters
    ----------
    temperature : float, default=0.02
        Softmax temperature of the prototype similarities (as :class:`PrototypeClassifier`).
    rounds : int, default=3
        Self-training rounds; round ``r`` takes the top ``shares[r]`` of each predicted cause.
    shares : tuple of float, default=(0.3, 0.5, 0.7)
        Share of each predicted cause's unlabelled rows used as pseudo-labels, per round (the
        last value is reused when ``rounds`` is larger).
    prototype_weight : float, default=0.5
        Weight of the prototype view in the mixture ``w·log p_prototype + (1-w)·log p_linear``.
    C : float, default=0.01
        Inverse regularisation of the logistic regression. Strong regularisation keeps the head
        close to a class-balanced mean of each cause's pseudo-labels (and prototypes), which
        trusts the noisy pseudo-labels less than a head that fits them closely (``C=1``).
    class_weight : {"balanced", None}, default="balanced"
        Class weights of the logistic regression: "balanced" weighs every cause alike, ``None``
        follows how often each cause is pseudo-labelled (frequent causes win more rows).
        With ``C=0.01`` "balanced" gave both more macro-F1 and more accuracy than ``None`` on
        airline tweets (docs/zero-shot-and-multilingual.md); with ``C=1`` it traded accuracy
        for macro-F1.
    labelled_weight : float, default=5.0
        Sample weight of labelled rows (the prototypes) relative to one pseudo-label.
    calibrate : bool, default=True
        Temper the final probabilities so that their mean top probability matches the accuracy
        estimated without labels (see the module docstring); ``False`` keeps temperature 1.
    seed : int, default=0
        Seed of the cross-fitting folds.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> centres = np.eye(3, 8)
    >>> X = np.vstack([centres, centres[rng.integers(0, 3, 60)] + rng.normal(0, 0.3, (60, 8))])
    >>> y = ["a", "b", "c"] + [None] * 60
    >>> head = SelfTrainedPrototypeClassifier().fit(X, y)
    >>> head.predict(centres * 2).tolist()
    ['a', 'b', 'c']
    """

    def __init__(self, temperature: float = 0.02, rounds: int = 3, shares: tuple[float, ...] = (0.3, 0.5, 0.7),
                 prototype_weight: float = 0.5, C: float = 0.01, class_weight: str | None = "balanced",
                 labelled_weight: float = 5.0, calibrate: bool = True, seed: int = 0) -> None:
        self.temperature = temperature
        self.rounds = rounds
        self.shares = shares
        self.prototype_weight = prototype_weight
        self.C = C
        self.class_weight = class_weight
        self.labelled_weight = labelled_weight
        self.calibrate = calibrate
        self.seed = seed

    def _check_params(self) -> None:
        if self.rounds < 0:
            raise ValueError(f"The 'rounds' parameter must be >= 0. Got {self.rounds!r} instead.")
        if not self.shares or not all(0 < s <= 1 for s in self.shares):
            raise ValueError(f"The 'shares' parameter must hold values in (0, 1]. Got {self.shares!r} instead.")
        if not 0 <= self.prototype_weight <= 1:
            raise ValueError(f"The 'prototype_weight' parameter must be in [0, 1]. Got {self.prototype_weight!r}.")

    def _prototype_log(self, X: np.ndarray) -> np.ndarray:
        """Log-probabilities of the prototype view, ``(n, n_classes)``."""
        return _log_softmax(self.prototypes_.decision_function(X) / self.temperature)

    def _linear(self, X: np.ndarray, y: np.ndarray, weight: np.ndarray) -> LogisticRegression:
        linear = LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=1000)
        return linear.fit(X, y, sample_weight=weight)

    def _linear_log(self, linear: LogisticRegression, X: np.ndarray) -> np.ndarray:
        """Log-probabilities of ``linear`` over ``classes_`` (a class it never saw scores very low)."""
        out = np.full((X.shape[0], len(self.classes_)), np.log(1e-6))
        out[:, np.searchsorted(self.classes_, linear.classes_)] = np.log(linear.predict_proba(X).clip(1e-6))
        return out

    def _mixture(self, prototype_log: np.ndarray, linear_log: np.ndarray,
                 linear_spread: float | None = None) -> np.ndarray:
        """``w·prototype + (1-w)·linear``, each view divided by its spread so that neither dominates by scale.

        ``linear_spread`` is the spread of another linear head than ``linear_`` (default: ``linear_``'s).
        """
        prototype_spread = self.view_spreads_[0]
        linear_spread = self.view_spreads_[1] if linear_spread is None else linear_spread
        return (self.prototype_weight * prototype_log / prototype_spread
                + (1 - self.prototype_weight) * linear_log / linear_spread)

    def fit(self, X: np.ndarray, y: Iterable[object]) -> SelfTrainedPrototypeClassifier:
        """Fit on vectors ``X`` whose labels ``y`` are causes (prototypes) or missing (unlabelled complaints)."""
        self._check_params()
        X = np.asarray(X, dtype=np.float32)
        y = np.asarray(list(y), dtype=object)
        unlabelled = is_unlabelled(y)
        if unlabelled.all():
            raise InputError("every row is unlabelled; the causes' prototypes (descriptions, examples) are needed.")
        X_lab, y_lab = X[~unlabelled], y[~unlabelled].astype(str)
        self.prototypes_ = PrototypeClassifier(temperature=self.temperature).fit(X_lab, y_lab)
        self.classes_ = self.prototypes_.classes_
        self.n_features_in_ = X.shape[1]
        self.linear_ = None
        self.temperature_scale_ = 1.0
        self.rounds_ = []
        U = X[unlabelled]
        if self.rounds == 0 or len(U) < 2 * len(self.classes_):
            self.calibration_ = {"method": "none", "reason": "no self-training: too few unlabelled rows"
                                 if self.rounds else "no self-training: rounds=0"}
            return self
        prototype_log = self._prototype_log(U)
        log_scores = prototype_log
        for r in range(self.rounds):
            share = self.shares[min(r, len(self.shares) - 1)]
            picked = confident_per_class(_softmax(log_scores), share)
            pseudo = self.classes_[log_scores[picked].argmax(axis=1)]
            self.linear_ = self._linear(np.vstack([X_lab, U[picked]]), np.concatenate([y_lab, pseudo]),
                                        np.concatenate([np.full(len(y_lab), self.labelled_weight),
                                                        np.ones(len(picked))]))
            previous = log_scores.argmax(axis=1)
            linear_log = self._linear_log(self.linear_, U)
            self.view_spreads_ = (float(prototype_log.std(axis=1).mean()), float(linear_log.std(axis=1).mean()))
            log_scores = self._mixture(prototype_log, linear_log)
            self.rounds_.append({"round": r + 1, "pseudo_labels": int(len(picked)),
                                 "changed": float((log_scores.argmax(axis=1) != previous).mean())})
        self.pseudo_label_counts_ = {str(c): int(n) for c, n in zip(*np.unique(pseudo, return_counts=True),
                                                                    strict=True)}
        if self.calibrate:
            self._calibrate(X_lab, y_lab, U, picked, pseudo, prototype_log)
        else:
            self.calibration_ = {"method": "none", "reason": "calibrate=False"}
        return self

    def _calibrate(self, X_lab: np.ndarray, y_lab: np.ndarray, U: np.ndarray, picked: np.ndarray,
                   pseudo: np.ndarray, prototype_log: np.ndarray) -> None:
        """Choose a temperature for the mixed scores from cross-fitted agreement (no labels used)."""
        in_fold = np.zeros(len(U), dtype=bool)
        in_fold[picked] = True
        oof_log = np.empty_like(prototype_log)
        held_out_linear = np.empty(len(U), dtype=int)
        folds = KFold(n_splits=5, shuffle=True, random_state=self.seed)
        label_of = dict(zip(picked.tolist(), pseudo.tolist(), strict=True))
        for train_rows, held_rows in folds.split(U):
            fit_rows = train_rows[in_fold[train_rows]]
            linear = self._linear(np.vstack([X_lab, U[fit_rows]]),
                                  np.concatenate([y_lab, [label_of[i] for i in fit_rows]]),
                                  np.concatenate([np.full(len(y_lab), self.labelled_weight),
                                                  np.ones(len(fit_rows))]))
            linear_log = self._linear_log(linear, U[held_rows])
            # Its own spread: a head fitted on fewer rows is more regularised, so its scores are smaller.
            oof_log[held_rows] = self._mixture(prototype_log[held_rows], linear_log,
                                               float(linear_log.std(axis=1).mean()))
            held_out_linear[held_rows] = linear_log.argmax(axis=1)
        # Two views that were not fitted on the row: the prototypes alone and the held-out linear head.
        agreement = float((held_out_linear == prototype_log.argmax(axis=1)).mean())
        # The agreement of two correlated views overstates accuracy; shrink it towards chance.
        chance = 1.0 / len(self.classes_)
        target = chance + AGREEMENT_SHRINK * (agreement - chance)

        def mean_top(scale: float) -> float:
            return float(_softmax(oof_log / scale).max(axis=1).mean() - target)

        low, high = 0.05, 50.0
        if mean_top(high) > 0:
            scale = high
        elif mean_top(low) < 0:
            scale = low
        else:
            scale = float(brentq(mean_top, low, high, xtol=1e-3))
        self.temperature_scale_ = scale
        self.calibration_ = {
            "method": "temperature, without labels",
            "rule": "one temperature chosen so that the mean top probability on the unlabelled rows equals the "
                    f"estimated accuracy: chance + {AGREEMENT_SHRINK} x (agreement of 5-fold cross-fitted linear "
                    "heads with the prototype view - chance)",
            "estimated_accuracy": round(target, 4), "views_agreement": round(agreement, 4),
            "temperature": round(scale, 4)}

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """Mixed log-scores of each row for each class, ``(n, n_classes)``."""
        check_is_fitted(self, "prototypes_")
        X = np.asarray(X, dtype=np.float32)
        prototype_log = self._prototype_log(X)
        if self.linear_ is None:
            return prototype_log
        return self._mixture(prototype_log, self._linear_log(self.linear_, X))

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Tempered softmax of :meth:`decision_function`."""
        return _softmax(self.decision_function(X) / self.temperature_scale_)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The most probable cause of each row."""
        return self.classes_[np.argmax(self.decision_function(X), axis=1)]


class AdaptiveZeroShotClassifier(ZeroShotClassifier):
    """Zero-shot root causes that adapt to a company's own unlabelled complaints.

    ``fit(X, y)`` takes the taxonomy's prototype texts with their cause ids *and* unlabelled
    complaints with a missing label (``None`` or ``""``), in any order; see
    :class:`SelfTrainedPrototypeClassifier` for what is learnt from them.

    Parameters
    ----------
    embedding_model, temperature, max_words_per_chunk, cache_dir, speakers, long_texts
        As for :class:`complaintkit.heads.ZeroShotClassifier`.
    rounds, shares, prototype_weight, C, calibrate, seed
        As for :class:`SelfTrainedPrototypeClassifier`.
    """

    def __init__(self, embedding_model: str = DEFAULT_MODEL, temperature: float = 0.02,
                 rounds: int = 3, shares: tuple[float, ...] = (0.3, 0.5, 0.7), prototype_weight: float = 0.5,
                 C: float = 0.01, calibrate: bool = True, seed: int = 0, max_words_per_chunk: int | None = 180,
                 cache_dir: str | None = None, speakers: tuple[str, ...] | None = None,
                 long_texts: str = "chunks") -> None:
        super().__init__(embedding_model=embedding_model, temperature=temperature, aggregate="centroid",
                         max_words_per_chunk=max_words_per_chunk, cache_dir=cache_dir, speakers=speakers,
                         long_texts=long_texts)
        self.rounds = rounds
        self.shares = shares
        self.prototype_weight = prototype_weight
        self.C = C
        self.calibrate = calibrate
        self.seed = seed

    def fit(self, X: Iterable[str], y: Iterable[object]) -> AdaptiveZeroShotClassifier:
        """Embed prototypes and unlabelled complaints ``X`` (labels ``y``, missing for complaints) and self-train."""
        texts, labels = as_text_list(X), list(y)
        if len(texts) != len(labels):
            raise InputError(f"got {len(texts)} texts but {len(labels)} labels; they must match "
                             "(a missing label marks an unlabelled complaint).")
        self.pipeline_ = Pipeline([
            ("normalise", TextNormaliser(speakers=self.speakers)),
            ("embedding", SentenceTransformerEmbedder(model=self.embedding_model,
                                                      max_words_per_chunk=self.max_words_per_chunk,
                                                      long_texts=self.long_texts, cache_dir=self.cache_dir)),
            ("classifier", SelfTrainedPrototypeClassifier(
                temperature=self.temperature, rounds=self.rounds, shares=self.shares,
                prototype_weight=self.prototype_weight, C=self.C, calibrate=self.calibrate, seed=self.seed)),
        ]).fit(texts, labels)
        self.classes_ = self.pipeline_.classes_
        self.n_features_in_ = 1
        given = np.flatnonzero(~is_unlabelled(labels))  # explanations point at the prototypes and labelled rows
        examples = [texts[i] for i in given]
        self.example_index_ = build_example_index([f"{labels[i]}:{i}" for i in given], examples,
                                                  [labels[i] for i in given], embed_for_head(self, examples))
        return self

    @property
    def calibration_(self) -> dict[str, object]:
        """How the probabilities were calibrated (method, rule, estimates)."""
        check_is_fitted(self, "pipeline_")
        return self.pipeline_.named_steps["classifier"].calibration_


def estimated_review_threshold(top_proba: np.ndarray, precision: float) -> float:
    """Lowest confidence whose auto-classified rows have a mean top probability of at least ``precision``.

    With calibrated probabilities the mean top probability of a set of rows estimates its
    accuracy; without labels this estimate is all there is. Returns 1.0 (review everything)
    when no cut reaches ``precision``.

    Examples
    --------
    >>> estimated_review_threshold(np.array([0.99, 0.95, 0.9, 0.6, 0.3]), 0.9)
    0.9
    >>> estimated_review_threshold(np.array([0.99, 0.95, 0.9, 0.6, 0.3]), 0.8)
    0.6
    >>> estimated_review_threshold(np.array([0.5, 0.4]), 0.9)
    1.0
    """
    ordered = np.sort(np.asarray(top_proba, dtype=float))[::-1]
    running = np.cumsum(ordered) / np.arange(1, len(ordered) + 1)
    reaching = np.flatnonzero(running >= precision)
    return float(ordered[reaching[-1]]) if len(reaching) else 1.0
