"""Training always reports a quality figure with a 95% interval: held-out with a split, else cross-validated."""

import pandas as pd

from complaintkit import TrainConfig, train
from complaintkit.embedding import encoder_runtime, resolve_precision
from complaintkit.evaluation import evaluate
from complaintkit.model_card import render_model_card


def test_held_out_metrics_carry_intervals_into_metadata_card_and_evaluate(trained_bundle,
                                                                           synthetic_frame: pd.DataFrame) -> None:
    metrics = trained_bundle.metadata["metrics"]["root_cause"]
    assert set(metrics["ci"]) == {"macro_f1", "accuracy"}
    assert all(low <= metrics[k] <= high for k, (low, high) in metrics["ci"].items())
    quality = trained_bundle.metadata["quality"]
    assert (quality["kind"], quality["head"], quality["rows"]) == ("held-out", "root_cause", 6)
    assert quality["ci"]["macro_f1"] == metrics["ci"]["macro_f1"]
    assert "macro-F1" in render_model_card(trained_bundle.metadata).split("## Held-out metrics")[1].split("##")[0]
    assert "95% CI" in render_model_card(trained_bundle.metadata)
    result = evaluate(trained_bundle, synthetic_frame, split_col="split", split="test",
                      precision=trained_bundle.metadata["metrics_precision"])
    assert result["root_cause"]["ci"] == metrics["ci"]  # same rows, same seed


def test_without_a_split_the_quality_figure_is_cross_validated_with_an_interval(synthetic_frame: pd.DataFrame) -> None:
    frame = pd.concat([synthetic_frame, synthetic_frame.assign(text=synthetic_frame["text"] + " again")],
                      ignore_index=True)  # 16 rows per class, so the folds have enough rows to disagree
    bundle = train(frame, TrainConfig(text_cols=("text",), label_col="cause", review_precision=None,
                                          root_cause_head="standard"))
    cv = bundle.metadata["cv_metrics"]["root_cause"]
    assert cv["rows"] == 48 and "out-of-fold" in cv["method"]
    assert all(low <= cv[k] <= high for k, (low, high) in cv["ci"].items())
    assert bundle.metadata["quality"]["kind"] == "cross-validated"
    assert "metrics" not in bundle.metadata and "review" not in bundle.metadata
    chosen = bundle.metadata["heads"]["root_cause"]["chosen"]
    assert chosen["cv_scheme"]["selection"] == "one_se" and sum(row["chosen"] for row in chosen["cv_macro_f1"]) == 1
    assert "## Cross-validated metrics" in render_model_card(bundle.metadata)


def test_a_churn_only_bundle_without_a_split_reports_cross_validated_roc_auc(synthetic_frame: pd.DataFrame) -> None:
    bundle = train(synthetic_frame, TrainConfig(text_cols=("text",), churn_col="churned"))
    quality = bundle.metadata["quality"]
    assert (quality["head"], quality["kind"], quality["rows"]) == ("churn", "cross-validated", 24)
    low, high = quality["ci"]["roc_auc"]
    assert low <= quality["roc_auc"] <= high


def test_training_embeds_in_the_cpus_fast_precision_unless_asked_for_fp32(trained_bundle,
                                                                        synthetic_frame: pd.DataFrame) -> None:
    fast = resolve_precision("auto")
    assert trained_bundle.root_cause.embedder_.precision == fast
    assert trained_bundle.churn.precision == fast
    assert trained_bundle.metadata["training_data"]["encoder"] == encoder_runtime(fast)
    assert trained_bundle.metadata["metrics_precision"] == fast  # held out with the encoder as trained
    bundle = train(synthetic_frame, TrainConfig(label_col="cause", review_precision=None, root_cause_head="standard",
                                                precision="fp32"))
    assert bundle.root_cause.embedder_.precision == "fp32"
    assert bundle.metadata["training_data"]["encoder"] == encoder_runtime("fp32")
