"""What the text heads share: prediction over a fitted ``pipeline_`` that reads raw texts."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ..text import as_text_list, string_input_tags


class TextPipelineMixin:
    """``predict_proba``/``predict`` of a classifier whose fitted ``pipeline_`` takes raw texts."""

    def predict_proba(self, X: Iterable[str]) -> np.ndarray:
        """Probability of every class in ``classes_``, one row per text."""
        check_is_fitted(self, "pipeline_")
        return self.pipeline_.predict_proba(as_text_list(X))

    def predict(self, X: Iterable[str]) -> np.ndarray:
        """The most probable class of each text."""
        probabilities = self.predict_proba(X)  # raises NotFittedError before fit
        return self.classes_[np.argmax(probabilities, axis=1)]

    def __sklearn_tags__(self):  # noqa: D105
        return string_input_tags(super().__sklearn_tags__())
