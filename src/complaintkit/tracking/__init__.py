"""Experiment tracking: a training run logged to MLflow, with the bundle as a pyfunc model.

MLflow is imported only when a run is logged (``pip install 'complaintkit[mlflow]'``).
"""

from .mlflow_run import TRACKING_URI_ENV, log_training_run, tracking_requested

__all__ = ["TRACKING_URI_ENV", "log_training_run", "tracking_requested"]
