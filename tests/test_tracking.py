"""MLflow tracking against a local file store (offline): what a training run logs, and its pyfunc model."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from complaintkit.cli import main
from complaintkit.tracking import log_training_run
from complaintkit.tracking.mlflow_run import training_metrics

mlflow = pytest.importorskip("mlflow")


@pytest.fixture
def store(tmp_path, monkeypatch) -> str:
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 asks to opt in to the file store
    uri = (tmp_path / "mlruns").as_uri()
    yield uri
    mlflow.set_tracking_uri(None)


def test_a_run_logs_params_metrics_plots_the_bundle_and_a_registered_model(store, trained_bundle, synthetic_frame):
    run_id = log_training_run(trained_bundle, experiment="tests", model_name="synthetic", tracking_uri=store)
    client = mlflow.MlflowClient(store)
    run = client.get_run(run_id)
    assert run.data.params["label_col"] == "cause"
    assert run.data.params["root_cause.calibration"] == trained_bundle.metadata["heads"]["root_cause"]["chosen"][
        "calibration"]
    metrics = trained_bundle.metadata["metrics"]
    assert run.data.metrics["root_cause.macro_f1"] == metrics["root_cause"]["macro_f1"]
    assert run.data.metrics["churn.roc_auc_ci_low"] == metrics["churn"]["ci"]["roc_auc"][0]
    assert run.data.metrics["label_issues.rows_flagged"] == trained_bundle.metadata["label_issues"]["rows_flagged"]
    logged = {a.path for folder in ("plots", "bundle") for a in client.list_artifacts(run_id, folder)}
    assert {"plots/confusion.png", "plots/reliability.png", "bundle/metadata.json", "bundle/label_issues.csv",
            "bundle/root_cause.skops"} <= logged
    assert client.get_registered_model("synthetic").latest_versions[0].version in (1, "1")

    model = mlflow.pyfunc.load_model("models:/synthetic/1")
    table = synthetic_frame[["id", "text", "tenure", "plan"]].head(4).reset_index(drop=True)
    pd.testing.assert_frame_equal(model.predict(table), trained_bundle.predict(table))
    texts = table["text"].tolist()  # plain texts too (the churn columns are imputed, as by Bundle.predict)
    pd.testing.assert_frame_equal(model.predict(texts), trained_bundle.predict(texts))


def test_intervals_are_read_wherever_the_metadata_has_them():
    metrics = training_metrics({"metrics": {"root_cause": {"macro_f1": 0.5, "macro_f1_ci": [0.4, 0.6],
                                                           "per_class": {"a": {"f1": 1.0}}}},
                                "heads": {"root_cause": {"chosen": {"C": 0.3, "cv_macro_f1": [
                                    {"C": 0.1, "macro_f1": 0.4}, {"C": 0.3, "macro_f1": 0.45}]}}}})
    assert metrics == {"root_cause.macro_f1": 0.5, "root_cause.macro_f1_ci_low": 0.4,
                       "root_cause.macro_f1_ci_high": 0.6, "root_cause.cv_macro_f1": 0.45}


@pytest.mark.slow
def test_train_logs_when_the_tracking_uri_is_set(store, synthetic_csv, tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store)
    result = CliRunner().invoke(main, ["train", "--data", str(synthetic_csv), "--label-col", "cause",
                                       "--id-col", "id", "--root-cause-head", "standard",
                                       "--out", str(tmp_path / "model")])
    assert result.exit_code == 0, result.output
    assert "logged MLflow run" in result.output
    [run] = mlflow.MlflowClient(store).search_runs([mlflow.get_experiment_by_name("complaintkit").experiment_id])
    assert run.data.params["id_col"] == "id" and "root_cause.cv_macro_f1" in run.data.metrics
    assert mlflow.MlflowClient(store).get_registered_model("model").name == "model"
    ids = pd.read_csv(tmp_path / "model" / "label_issues.csv")["row_id"]  # --id-col identifies the rows
    assert ids.str.match(r"^(bil|ser|sta)-\d$").all()
