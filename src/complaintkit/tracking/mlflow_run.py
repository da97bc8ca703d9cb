"""Log a trained bundle to MLflow: parameters, metrics with intervals, plots, the bundle, a pyfunc model."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from .. import __version__, _logging
from ..bundle import Bundle
from ..exceptions import InputError

TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"
DEFAULT_EXPERIMENT = "complaintkit"


def tracking_requested(flag: bool) -> bool:
    """Whether to log to MLflow: asked for with ``flag``, or ``$MLFLOW_TRACKING_URI`` is set."""
    return flag or bool(os.environ.get(TRACKING_URI_ENV))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _interval(value: Any) -> tuple[float, float] | None:
    if isinstance(value, list | tuple) and len(value) == 2 and all(_is_number(v) for v in value):
        return float(value[0]), float(value[1])
    return None


def training_params(metadata: dict[str, Any]) -> dict[str, str]:
    """The training options, chosen settings, encoder and data fingerprints as MLflow parameters.

    Examples
    --------
    >>> training_params({"config": {"label_col": "cause", "text_cols": ["a", "b"]}})
    {'label_col': 'cause', 'text_cols': 'a,b'}
    """
    params: dict[str, Any] = dict(metadata.get("config", {}))
    for head, values in metadata.get("heads", {}).items():
        params.update({f"{head}.{k}": v for k, v in values.get("chosen", {}).items() if k != "cv_macro_f1"})
    model, data = metadata.get("embedding_model", {}), metadata.get("training_data", {})
    params.update({"embedding_model.sha256": model.get("sha256"), "training_data.sha256": data.get("sha256"),
                   "training_data.rows_used": data.get("rows_used")} if model or data else {})
    return {k: ",".join(map(str, v)) if isinstance(v, list | tuple) else str(v) for k, v in params.items()}


def training_metrics(metadata: dict[str, Any]) -> dict[str, float]:
    """Every scalar held-out metric, interval bounds (``name_ci_low``/``_ci_high``), the chosen setting's
    cross-validated macro-F1 and the doubtful-label counts.

    Intervals are taken wherever the metadata has them: a ``ci`` mapping of name → [low, high]
    or a ``*_ci`` key holding [low, high].

    Examples
    --------
    >>> training_metrics({"metrics": {"churn": {"roc_auc": 0.7, "ci": {"roc_auc": [0.6, 0.8]}}}})
    {'churn.roc_auc': 0.7, 'churn.roc_auc_ci_low': 0.6, 'churn.roc_auc_ci_high': 0.8}
    """
    metrics: dict[str, float] = {}
    for head, values in metadata.get("metrics", {}).items():
        for key, value in values.items():
            if _is_number(value):
                metrics[f"{head}.{key}"] = float(value)
            intervals = value.items() if key == "ci" and isinstance(value, dict) else [(key.removesuffix("_ci"), value)]
            for name, bounds in intervals:
                if (key == "ci" or key.endswith("_ci")) and (pair := _interval(bounds)):
                    metrics[f"{head}.{name}_ci_low"], metrics[f"{head}.{name}_ci_high"] = pair
    for head, values in metadata.get("heads", {}).items():
        grid = values.get("chosen", {}).get("cv_macro_f1") or []  # one row per setting tried
        scores = [row["macro_f1"] for row in grid if isinstance(row, dict) and _is_number(row.get("macro_f1"))]
        if scores:
            metrics[f"{head}.cv_macro_f1"] = float(max(scores))  # the chosen setting's
    issues = metadata.get("label_issues", {})
    metrics.update({f"label_issues.{k}": float(issues[k]) for k in ("rows_flagged", "share_flagged") if k in issues})
    return metrics


def log_training_run(bundle: Bundle, *, experiment: str = DEFAULT_EXPERIMENT, model_name: str | None = None,
                     tracking_uri: str | None = None) -> str:
    """Log ``bundle`` (a saved one) as an MLflow run and return the run id.

    The run gets the parameters of :func:`training_params`, the metrics of
    :func:`training_metrics`, the evaluation plots (``plots/``), the bundle folder
    (``bundle/``) and an ``mlflow.pyfunc`` model (``model``) that loads that folder and
    scores a DataFrame (input columns + prediction columns, as ``score``). With
    ``model_name`` the model is registered under that name.

    Parameters
    ----------
    bundle : Bundle
        A saved bundle (``bundle.path`` set).
    experiment : str, default="complaintkit"
    model_name : str or None, default=None
        Registered model name; ``None`` logs the model without registering it.
    tracking_uri : str or None, default=None
        ``None`` uses ``$MLFLOW_TRACKING_URI`` or MLflow's default.

    Raises
    ------
    InputError
        If MLflow is not installed or the bundle was never saved.
    """
    try:
        import mlflow
    except ImportError:
        raise InputError("MLflow tracking needs mlflow; pip install 'complaintkit[mlflow]'.") from None
    from ..plots import write_evaluation_plots
    from .pyfunc import BUNDLE_ARTIFACT

    if bundle.path is None:
        raise InputError("log_training_run needs a saved bundle (Bundle.save or Bundle.load).")
    if tracking_uri:
        mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment(experiment)
    metadata = bundle.metadata
    with mlflow.start_run(run_name=metadata.get("name")) as run:
        mlflow.set_tags({"complaintkit.version": __version__, "complaintkit.bundle": str(bundle.path)})
        mlflow.log_params(training_params(metadata))
        mlflow.log_metrics(training_metrics(metadata))
        with tempfile.TemporaryDirectory() as folder:
            plots = write_evaluation_plots(metadata.get("metrics", {}), Path(folder))
            if plots:
                mlflow.log_artifacts(folder, artifact_path="plots")
        mlflow.log_artifacts(str(bundle.path), artifact_path=BUNDLE_ARTIFACT)
        mlflow.pyfunc.log_model(name="model", python_model=str(Path(__file__).with_name("pyfunc_model.py")),
                                artifacts={BUNDLE_ARTIFACT: str(bundle.path)},
                                pip_requirements=[f"complaintkit=={__version__}"],
                                registered_model_name=model_name)
    _logging.logger.info("logged MLflow run %s (experiment %r, tracking URI %s)", run.info.run_id, experiment,
                         mlflow.get_tracking_uri())
    return run.info.run_id
