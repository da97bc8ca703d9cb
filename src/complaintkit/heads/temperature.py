"""Temperature scaling: one number that makes a classifier's probabilities match its held-out accuracy."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar
from sklearn.base import BaseEstimator, ClassifierMixin, clone


def fit_temperature(proba: np.ndarray, y: np.ndarray, classes: np.ndarray) -> float:
    """The temperature ``T`` minimising the log-loss of ``softmax(log(proba) / T)`` on held-out rows.

    ``proba`` are held-out probabilities (columns follow ``classes``) of the rows labelled ``y``.
    ``T`` > 1 flattens over-confident probabilities, ``T`` < 1 sharpens under-confident ones.

    Examples
    --------
    >>> proba = np.array([[0.99, 0.01], [0.99, 0.01], [0.01, 0.99], [0.01, 0.99]])
    >>> fit_temperature(proba, np.array(["a", "b", "b", "a"]), np.array(["a", "b"])) > 10  # half wrong
    True
    """
    truth = np.searchsorted(np.asarray(classes, dtype=object), np.asarray(y, dtype=object))

    def loss(log_t: float) -> float:
        scaled = scale_probabilities(proba, float(np.exp(log_t)))
        return float(-np.mean(np.log(np.clip(scaled[np.arange(len(truth)), truth], 1e-12, 1.0))))

    return float(np.exp(minimize_scalar(loss, bounds=(-4.0, 4.0), method="bounded").x))


def scale_probabilities(proba: np.ndarray, temperature: float) -> np.ndarray:
    """``softmax(log(proba) / temperature)``, row by row.

    Examples
    --------
    >>> scale_probabilities(np.array([[0.8, 0.2]]), 2.0).round(3).tolist()
    [[0.667, 0.333]]
    """
    scaled = np.log(np.clip(np.asarray(proba, dtype=float), 1e-12, 1.0)) / temperature
    scaled -= scaled.max(axis=1, keepdims=True)
    scaled = np.exp(scaled)
    return scaled / scaled.sum(axis=1, keepdims=True)


class TemperatureScaledClassifier(ClassifierMixin, BaseEstimator):
    """A classifier whose probabilities are ``softmax(log(p) / temperature)`` of ``estimator``'s ``p``.

    ``temperature`` is given (chosen on held-out predictions, e.g. by :func:`fit_temperature`);
    ``fit`` fits a clone of ``estimator``. The predicted classes do not depend on it.

    Parameters
    ----------
    estimator : classifier with ``predict_proba``
    temperature : float, default=1.0

    Attributes
    ----------
    estimator_ : the fitted clone
    classes_ : ndarray
    """

    def __init__(self, estimator: Any = None, temperature: float = 1.0) -> None:
        self.estimator = estimator
        self.temperature = temperature

    def fit(self, X: Any, y: Any) -> TemperatureScaledClassifier:
        """Fit a clone of ``estimator`` on ``X``, ``y``."""
        if not self.temperature > 0:
            raise ValueError(f"The 'temperature' parameter must be > 0. Got {self.temperature!r} instead.")
        self.estimator_ = clone(self.estimator).fit(X, y)
        self.classes_ = self.estimator_.classes_
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Temperature-scaled probabilities, one column per class of ``classes_``."""
        return scale_probabilities(self.estimator_.predict_proba(X), self.temperature)

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row."""
        return self.classes_[self.predict_proba(X).argmax(axis=1)]
