import json

import numpy as np
import pandas as pd

from complaintkit import Bundle, TrainConfig, evaluate, score_frame, train


def test_save_load_gives_identical_predictions(trained_bundle: Bundle, synthetic_frame: pd.DataFrame,
                                                tmp_path) -> None:
    before = score_frame(trained_bundle, synthetic_frame)
    copy = trained_bundle.save(tmp_path / "copy")
    after = score_frame(Bundle.load(copy), synthetic_frame)
    pd.testing.assert_frame_equal(before, after)


def test_same_data_and_seed_give_the_same_bundle_files(trained_bundle: Bundle, synthetic_frame: pd.DataFrame,
                                                       tmp_path) -> None:
    config = TrainConfig.from_dict(trained_bundle.metadata["config"])
    first, second = (Bundle.load(train(synthetic_frame, config, name="synthetic").save(tmp_path / name))
                     for name in ("first", "second"))
    assert first.metadata["artifacts"] == second.metadata["artifacts"]
    for name in first.metadata["artifacts"]:
        assert (first.path / name).read_bytes() == (second.path / name).read_bytes()
    pd.testing.assert_frame_equal(score_frame(first, synthetic_frame), score_frame(second, synthetic_frame))


def test_metadata_records_what_is_needed_to_retrain(trained_bundle: Bundle) -> None:
    meta = json.loads((trained_bundle.path / "metadata.json").read_text())
    assert meta["format_version"] == 2
    assert {"complaintkit", "scikit-learn", "sentence-transformers", "torch"} <= set(meta["versions"])
    assert len(meta["embedding_model"]["sha256"]) == 64
    assert meta["heads"]["root_cause"]["labels"] == ["billing_error", "service_failure", "staff_attitude"]
    assert meta["heads"]["root_cause"]["chosen"]["embedding_weight"] in (1.0, 2.0)
    assert meta["training_data"]["rows"] == 24 and len(meta["training_data"]["sha256"]) == 64
    assert meta["config"]["label_col"] == "cause" and meta["columns"]["numeric"] == ["tenure"]
    assert set(meta["artifacts"]) == {"root_cause.skops", "churn.skops", "label_issues.csv"}
    assert "root_cause" in meta["metrics"] and "churn" in meta["metrics"]
    card = (trained_bundle.path / "README.md").read_text()
    assert "billing_error" in card and "Held-out metrics" in card
    assert meta["heads"]["root_cause"]["chosen"]["calibration"] == "temperature"
    assert "probabilities by temperature calibration" in card
    assert meta["training_data"]["languages"]["en"] > 0.5 and "- languages (sample of 500): en " in card


def test_score_frame_columns(trained_bundle: Bundle, synthetic_frame: pd.DataFrame) -> None:
    frame = synthetic_frame.copy()
    frame.loc[0, "text"] = "   "
    scored = score_frame(trained_bundle, frame)
    assert len(scored) == len(frame) and list(scored["id"]) == list(frame["id"])
    assert scored.loc[0, "reject_reason"] == "empty_text" and pd.isna(scored.loc[0, "root_cause"])
    top = scored.loc[1:, ["root_cause_proba", "root_cause_2_proba", "root_cause_3_proba"]].to_numpy()
    assert (np.diff(top, axis=1) <= 0).all()
    assert scored.loc[1:, "churn_proba"].between(0, 1).all()


def test_evaluate_reports_both_heads(trained_bundle: Bundle, synthetic_frame: pd.DataFrame) -> None:
    result = evaluate(trained_bundle, synthetic_frame, split_col="split", split="test")
    assert result["root_cause"]["rows"] == 6 and 0 <= result["root_cause"]["macro_f1"] <= 1
    assert {"roc_auc", "pr_auc", "brier"} <= set(result["churn"])


def test_saved_vocabularies_hold_plain_ints(trained_bundle: Bundle, tmp_path) -> None:
    """Pruned TF-IDF vocabularies map to numpy ints, which skops saves one file each (minutes per bundle)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from complaintkit.bundle import _find_in_heads

    vectorizer = TfidfVectorizer(max_features=3).fit(["late refund refund", "late fee fee fee", "rude agent"])
    assert {type(column) for column in vectorizer.vocabulary_.values()} == {np.int64}
    loaded = Bundle.load(trained_bundle.save(tmp_path / "copy"))
    vectorizers = _find_in_heads(loaded.heads, TfidfVectorizer)
    assert len(vectorizers) == 3  # word and char in the root-cause head, word in the churn head
    assert all(type(column) is int for v in vectorizers for column in v.vocabulary_.values())
