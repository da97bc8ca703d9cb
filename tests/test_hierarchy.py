import numpy as np
import pandas as pd
import pytest

from complaintkit import TrainConfig, evaluate, score_frame, train
from complaintkit.training import label_parents


def test_label_parents_takes_the_most_frequent_parent() -> None:
    labels = pd.Series(["fee", "fee", "fee", "outage"])
    parents = pd.Series(["billing", "billing", "network", "network"])
    assert label_parents(labels, parents) == {"fee": "billing", "outage": "network"}


def test_parent_labels_roll_up_in_scores_and_metrics(synthetic_frame: pd.DataFrame) -> None:
    frame = synthetic_frame.assign(family=synthetic_frame["cause"].map(
        {"billing_error": "money", "service_failure": "network", "staff_attitude": "people"}))
    bundle = train(frame, TrainConfig(label_col="cause", parent_col="family", split_col="split",
                                      review_precision=None, root_cause_head="standard"))
    assert bundle.hierarchy["billing_error"] == "money"
    scored = score_frame(bundle, frame)
    assert (scored["root_cause_parent"] == scored["root_cause"].map(bundle.hierarchy)).all()
    metrics = evaluate(bundle, frame, split_col="split")
    test = frame[frame["split"] == "test"]
    predicted_parents = score_frame(bundle, test)["root_cause"].map(bundle.hierarchy)
    assert metrics["root_cause_parent"]["rows"] == len(test)
    assert metrics["root_cause_parent"]["accuracy"] == pytest.approx((predicted_parents == test["family"]).mean())



def test_a_head_given_label_parents_scores_each_parent_too_and_saves(synthetic_frame: pd.DataFrame,
                                                                     tmp_path) -> None:
    from complaintkit import RootCauseClassifier
    from complaintkit.bundle.skops_heads import dump_head, load_head

    parents = {"billing_error": "money", "service_failure": "service", "staff_attitude": "service"}
    texts, labels = synthetic_frame["text"].tolist(), synthetic_frame["cause"]
    head = RootCauseClassifier(C=1.0, embedding_weight=1.0, label_parents=parents).fit(texts, labels)
    svm = head.pipeline_.named_steps["classifier"].calibrated_classifiers_[0].estimator
    assert sorted(svm.parents_svm_.classes_) == ["money", "service"]
    dump_head(head, tmp_path / "root_cause.skops")
    loaded = load_head(tmp_path / "root_cause.skops", trust=False)
    np.testing.assert_allclose(loaded.predict_proba(texts), head.predict_proba(texts))
