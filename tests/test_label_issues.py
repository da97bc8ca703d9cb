"""Doubtful training labels: the ranking, the file in the bundle, the model card and the report section."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from _report_data import synthetic_scored
from complaintkit.cli import main
from complaintkit.label_issues import LABEL_ISSUES_FILE, find_label_issues


def test_planted_wrong_labels_are_found_and_clean_rows_are_not_flagged():
    rng = np.random.default_rng(0)
    classes = np.array(["a", "b", "c"])
    truth = rng.integers(0, 3, size=300)
    proba = rng.dirichlet(np.ones(3), size=300) * 0.3
    proba[np.arange(300), truth] += 0.7  # a good model: the true class gets most of the mass
    given = truth.copy()
    flipped = rng.choice(300, size=20, replace=False)
    given[flipped] = (truth[flipped] + 1) % 3
    issues = find_label_issues(proba, classes[given].tolist(), classes, [f"r{i}" for i in range(300)],
                               texts=[f"mail me at x{i}@example.com" for i in range(300)])
    found = set(issues["row_id"])
    assert found <= {f"r{i}" for i in flipped} and len(found) >= 17  # no clean row flagged, most planted ones found
    assert issues["given_proba"].is_monotonic_increasing  # most doubtful first
    assert (issues["suggested_label"] == classes[truth[[int(r[1:]) for r in issues["row_id"]]]]).all()
    assert not issues["text"].str.contains("@example.com").any()  # personal data masked


def test_training_writes_counts_and_cards_the_doubtful_labels(trained_bundle, synthetic_frame):
    path = Path(trained_bundle.path)
    issues = pd.read_csv(path / LABEL_ISSUES_FILE)
    summary = trained_bundle.metadata["label_issues"]
    assert list(issues.columns[:4]) == ["row_id", "given_label", "suggested_label", "suggested_proba"]
    assert summary["rows_flagged"] == len(issues) and summary["rows_checked"] == 18
    assert summary["folds"] == 3  # the regression's; the head's out-of-fold figures come from its 5 calibration folds
    assert trained_bundle.metadata["cv_metrics"]["root_cause"]["method"].startswith("5-fold out-of-fold")
    train_rows = np.flatnonzero(synthetic_frame["split"] == "train")
    assert set(issues["row_id"]) <= set(train_rows)  # row numbers of the training table
    assert (issues["given_label"] != issues["suggested_label"]).all()
    assert f"{summary['rows_flagged']} of 18 training rows" in (path / "README.md").read_text()
    assert LABEL_ISSUES_FILE in trained_bundle.metadata["artifacts"]  # hashed: a modified list is refused


@pytest.fixture(scope="module")
def planted_bundle(tmp_path_factory, synthetic_frame):
    """A bundle trained on the synthetic complaints with two labels swapped (billing ↔ staff, service ↔ billing)."""
    from complaintkit import TrainConfig, train

    frame = synthetic_frame.drop(columns=["split"]).copy()
    frame.loc[0, "cause"], frame.loc[9, "cause"] = "staff_attitude", "billing_error"
    bundle = train(frame, TrainConfig(text_cols=("text",), label_col="cause", id_col="id", root_cause_head="standard"))
    return bundle.save(tmp_path_factory.mktemp("planted") / "model")


def _report_section(model: Path, tmp_path: Path) -> tuple[dict, str]:
    """``report --model`` on synthetic scored rows: the JSON report's doubtful-labels section and the HTML report."""
    synthetic_scored(seed=1).to_parquet(tmp_path / "scored.parquet")
    for fmt in ("html", "json"):
        result = CliRunner().invoke(main, ["report", "--scored", str(tmp_path / "scored.parquet"), "--format", fmt,
                                           "--model", str(model), "--out", str(tmp_path / f"r.{fmt}")])
        assert result.exit_code == 0, result.output
    return json.loads((tmp_path / "r.json").read_text())["label_issues"], (tmp_path / "r.html").read_text()


def test_planted_wrong_labels_are_listed_and_shown_by_the_report(planted_bundle, tmp_path):
    issues = pd.read_csv(planted_bundle / LABEL_ISSUES_FILE)
    assert set(issues["row_id"]) == {"bil-0", "ser-1"}  # the two swapped labels, and no clean row
    assert dict(zip(issues["row_id"], issues["suggested_label"], strict=True)) == {
        "bil-0": "billing_error", "ser-1": "service_failure"}
    section, html = _report_section(planted_bundle, tmp_path)
    assert section["rows_flagged"] == 2
    assert 'id="label-issues"' in html and "bil-0" in html


def test_embedding_probabilities_find_planted_flips_in_separable_vectors():
    from complaintkit.label_issues import embedding_oof_proba

    rng = np.random.default_rng(0)
    classes = np.array(["billing", "outage", "rude"])
    truth = np.repeat(np.arange(3), 60)
    vectors = np.eye(3)[truth] * 3 + rng.normal(0, 0.5, size=(180, 3))
    given = truth.copy()
    flipped = rng.choice(180, size=12, replace=False)
    given[flipped] = (truth[flipped] + 1) % 3
    proba = embedding_oof_proba(vectors, classes[given].tolist(), folds=3, seed=0)
    assert proba.shape == (180, 3) and np.allclose(proba.sum(axis=1), 1)
    assert (proba.argmax(axis=1) == truth).mean() > 0.9  # columns in sorted class order
    issues = find_label_issues(proba, classes[given].tolist(), classes, list(range(180)))
    found = set(issues["row_id"])
    assert len(found & set(flipped)) >= 10 and len(found - set(flipped)) <= 4  # most flips, few clean rows


def test_class_balanced_probabilities_raise_a_rare_class():
    from complaintkit.label_issues import embedding_oof_proba

    rng = np.random.default_rng(0)
    labels = np.array(["common"] * 150 + ["rare"] * 15)
    vectors = np.r_[rng.normal(0, 1, size=(150, 2)), rng.normal(1, 1, size=(15, 2))]
    plain = embedding_oof_proba(vectors, labels.tolist(), folds=3, seed=0)
    balanced = embedding_oof_proba(vectors, labels.tolist(), folds=3, seed=0, class_weight="balanced")
    rare = labels == "rare"
    assert balanced[rare, 1].mean() > plain[rare, 1].mean() + 0.1  # column 1 is "rare" (sorted classes)


def test_training_records_which_probabilities_made_the_list(trained_bundle):
    assert "logistic regression on the head's sentence embeddings" in trained_bundle.metadata["label_issues"]["method"]


def test_doubtful_rows_are_below_half_chance_and_every_label_keeps_two_rows():
    from complaintkit.label_issues import doubtful_rows

    classes = ["a", "b", "c", "d"]  # half chance: 0.125
    proba = np.array([[0.7, 0.1, 0.1, 0.1], [0.05, 0.85, 0.05, 0.05], [0.12, 0.8, 0.04, 0.04],
                      [0.1, 0.1, 0.7, 0.1], [0.1, 0.1, 0.1, 0.7], [0.13, 0.1, 0.07, 0.7]])
    labels = ["a", "a", "a", "c", "d", "a"]
    assert doubtful_rows(proba, labels, classes).tolist() == [False, True, True, False, False, False]
    # "a" would keep one row with a threshold of 0.5: its least doubtful dropped row (0.13, the last) stays
    kept = ~doubtful_rows(proba, labels, classes, share_of_chance=2.0)
    assert kept.tolist() == [True, False, False, True, True, True]


def test_dropping_doubtful_labels_leaves_the_swapped_rows_out_and_says_so(synthetic_frame, tmp_path):
    from complaintkit import TrainConfig, train

    frame = synthetic_frame.drop(columns=["split"]).copy()
    frame.loc[0, "cause"], frame.loc[9, "cause"] = "staff_attitude", "billing_error"
    config = TrainConfig(text_cols=("text",), label_col="cause", id_col="id", root_cause_head="standard",
                         drop_doubtful_labels=True)
    bundle = train(frame, config)
    folder = bundle.save(tmp_path / "model")
    issues = pd.read_csv(folder / LABEL_ISSUES_FILE)
    left_out = set(issues.loc[issues["dropped"], "row_id"])
    assert {"bil-0", "ser-1"} <= left_out
    metadata = bundle.metadata
    assert metadata["label_issues"]["dropped"]["rows"] == len(left_out)
    assert metadata["training_data"]["dropped"]["doubtful_label"] == len(left_out)
    assert sum(metadata["heads"]["root_cause"]["label_counts"].values()) == len(frame) - len(left_out)
    assert metadata["cv_metrics"]["root_cause"]["rows"] == len(frame) - len(left_out)
    assert f"{len(left_out)} training rows were left out" in (folder / "README.md").read_text()
    # the swapped complaints are now answered by their true cause
    assert bundle.predict(frame.loc[[0, 9], "text"].tolist())["root_cause"].tolist() == [
        "billing_error", "service_failure"]
    section, html = _report_section(folder, tmp_path)
    assert section["rows_dropped"] == len(left_out)
    assert section["rows_flagged"] == metadata["label_issues"]["rows_flagged"]  # the appended rows are not flagged
    assert "left out of the model" in html and "bil-0 (left out)" in html
    frame.to_csv(tmp_path / "in.csv", index=False)
    result = CliRunner().invoke(main, ["train", "--input", str(tmp_path / "in.csv"), "--label-col", "cause",
                                       "--id-col", "id", "--root-cause-head", "standard", "--drop-doubtful-labels",
                                       "--model", str(tmp_path / "m2")])
    assert result.exit_code == 0, result.output
    assert f"{len(left_out)} left out of training" in result.output
