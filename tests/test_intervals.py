"""Bootstrap intervals of classification metrics: known answers, determinism, paired differences."""

import numpy as np
import pytest
from sklearn.metrics import f1_score

from complaintkit.intervals import classification_intervals, mean_interval, paired_difference


def test_perfect_predictions_give_a_point_interval() -> None:
    labels = ["a", "b", "c"] * 20
    assert classification_intervals(labels, labels) == {"accuracy": [1.0, 1.0], "macro_f1": [1.0, 1.0]}


def test_accuracy_interval_matches_the_normal_approximation_and_the_seed_fixes_it() -> None:
    rng = np.random.default_rng(1)
    truth = rng.choice(["x", "y"], size=2000)
    predicted = np.where(np.arange(2000) < 1600, truth, np.where(truth == "x", "y", "x"))  # exactly 80% right
    low, high = classification_intervals(truth, predicted, seed=3)["accuracy"]
    half = 1.96 * np.sqrt(0.8 * 0.2 / 2000)
    assert low == pytest.approx(0.8 - half, abs=0.004) and high == pytest.approx(0.8 + half, abs=0.004)
    assert classification_intervals(truth, predicted, seed=3) == classification_intervals(truth, predicted, seed=3)
    assert classification_intervals(truth, predicted, seed=3) != classification_intervals(truth, predicted, seed=4)


def test_macro_f1_of_the_full_sample_is_inside_its_interval_and_matches_scikit_learn() -> None:
    rng = np.random.default_rng(0)
    truth = rng.choice(list("abcd"), size=400, p=[0.5, 0.3, 0.15, 0.05])
    predicted = np.where(rng.random(400) < 0.7, truth, rng.choice(list("abcd"), size=400))
    low, high = classification_intervals(truth, predicted, n_resamples=500)["macro_f1"]
    assert low < f1_score(truth, predicted, average="macro") < high
    assert 0.05 < high - low < 0.25


def test_paired_difference_is_exact_for_identical_models_and_signed() -> None:
    truth = ["a", "b"] * 50
    wrong = ["a", "a"] * 50
    same = paired_difference(truth, truth, truth)
    assert same["accuracy"] == {"difference": 0.0, "interval": [0.0, 0.0], "share_a_better": 0.0}
    better = paired_difference(truth, truth, wrong, seed=1)
    assert better["accuracy"]["difference"] == pytest.approx(0.5)
    assert better["accuracy"]["interval"][0] > 0.35 and better["accuracy"]["share_a_better"] == 1.0


def test_mean_interval_uses_student_t() -> None:
    result = mean_interval([0.01, 0.03, 0.02, 0.04])
    assert result["mean"] == pytest.approx(0.025)
    half = 3.182446 * np.std([0.01, 0.03, 0.02, 0.04], ddof=1) / 2  # t(0.975, 3 df)
    assert result["interval"] == pytest.approx([0.025 - half, 0.025 + half], abs=1e-6)


def test_lengths_must_match() -> None:
    with pytest.raises(ValueError, match="same length"):
        classification_intervals(["a", "b"], ["a"])
