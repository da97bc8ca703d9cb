"""The ``mlflow.pyfunc`` model of a bundle: it loads the bundle folder logged with the run.

The folder holds the fitted heads (skops) and the metadata; the transformer is found by name
and checked by hash when the bundle loads, as everywhere else: it is never pickled.
"""

from __future__ import annotations

from typing import Any

import mlflow.pyfunc
import pandas as pd

from ..bundle import Bundle

BUNDLE_ARTIFACT = "bundle"


class ComplaintkitModel(mlflow.pyfunc.PythonModel):
    """Scores a DataFrame (or a list of texts) with :meth:`Bundle.predict`: the prediction columns, row by row."""

    def load_context(self, context: Any) -> None:  # noqa: D102
        self.bundle = Bundle.load(context.artifacts[BUNDLE_ARTIFACT])

    def predict(self, context, model_input, params=None):  # noqa: D102  (no type hints: MLflow reads them as a schema)
        if not isinstance(model_input, pd.DataFrame):  # a list or Series of texts
            model_input = [str(text) for text in model_input]
        return self.bundle.predict(model_input)
