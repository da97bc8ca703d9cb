import numpy as np
import pytest

from complaintkit.evaluation import (
    churn_metrics,
    coverage_table,
    expected_calibration_error,
    review_threshold,
    root_cause_metrics,
)


def test_ece_is_zero_when_confidence_matches_accuracy() -> None:
    conf = np.array([0.75] * 4)
    assert expected_calibration_error(conf, np.array([1, 1, 1, 0])) == pytest.approx(0.0)
    assert expected_calibration_error(np.array([1.0, 1.0]), np.array([0, 0])) == pytest.approx(1.0)


def test_review_threshold_reaches_the_target_precision() -> None:
    conf = np.array([0.99, 0.95, 0.9, 0.8, 0.7, 0.6])
    correct = np.array([1, 1, 1, 0, 1, 0])
    t = review_threshold(conf, correct, 0.9)
    assert t == 0.9
    kept = conf >= t
    assert correct[kept].mean() >= 0.9
    assert review_threshold(conf, np.zeros(6), 0.9) > 1.0


def test_root_cause_metrics_counts_and_unseen_labels() -> None:
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    result = root_cause_metrics(["a", "b", "c"], proba, ["a", "b"])
    assert result["accuracy"] == pytest.approx(2 / 3)
    assert result["unseen_labels"] == ["c"]
    assert result["confusion"]["labels"] == ["a", "b", "c"]
    assert np.array(result["confusion"]["matrix"]).sum() == 3
    assert result["per_class"]["a"]["recall"] == 1.0


def test_coverage_table_is_monotone() -> None:
    rows = coverage_table(np.linspace(0, 1, 50), np.ones(50))
    coverages = [r["coverage"] for r in rows]
    assert coverages == sorted(coverages, reverse=True) and coverages[0] == 1.0


def test_churn_metrics_perfect_ranking() -> None:
    result = churn_metrics(np.array([0, 0, 1, 1]), np.array([0.1, 0.2, 0.8, 0.9]))
    assert result["roc_auc"] == 1.0 and result["pr_auc"] == 1.0
    assert result["brier"] == pytest.approx((0.01 + 0.04 + 0.04 + 0.01) / 4)
