"""The one-standard-error rule that picks the root-cause head's settings."""

import numpy as np
import pytest

from complaintkit.heads._selection import choose_within_one_se, repeated_folds, summarise


def _candidate(scores: list[float], complexity: tuple) -> dict:
    return {**summarise(scores), "complexity": complexity}


def test_a_simpler_setting_within_one_standard_error_wins() -> None:
    complex_ = _candidate([0.80, 0.84, 0.76, 0.80], (3, 1.0))   # mean 0.80, se 0.0163
    simple = _candidate([0.79, 0.79, 0.79, 0.79], (1, 0.1))     # 0.79 >= 0.80 - 0.0163
    assert choose_within_one_se([complex_, simple]) == 1
    assert choose_within_one_se([complex_, simple], rule="best") == 0


def test_a_simpler_setting_outside_one_standard_error_loses() -> None:
    complex_ = _candidate([0.80, 0.81, 0.79, 0.80], (3, 1.0))   # se 0.0041
    simple = _candidate([0.78, 0.78, 0.78, 0.78], (1, 0.1))
    assert choose_within_one_se([complex_, simple]) == 0


def test_complexity_is_compared_in_order_blocks_then_c() -> None:
    candidates = [_candidate([0.70, 0.72], (3, 0.1)), _candidate([0.71, 0.71], (1, 1.0)),
                  _candidate([0.71, 0.71], (1, 0.3)), _candidate([0.50, 0.50], (1, 0.1))]
    assert choose_within_one_se(candidates) == 2  # fewest blocks, then the smallest C still within one SE


def test_standard_error_is_sample_sd_over_root_n() -> None:
    assert summarise([0.6, 0.8]) == {"mean": 0.7, "se": round(np.std([0.6, 0.8], ddof=1) / np.sqrt(2), 4)}
    assert summarise([0.5]) == {"mean": 0.5, "se": 0.0}


def test_repeated_folds_are_stratified_repeated_and_bounded_by_the_rarest_class() -> None:
    labels = np.array(["a"] * 20 + ["b"] * 2)
    folds = repeated_folds(labels, n_splits=3, n_repeats=4, seed=0)
    assert len(folds) == 2 * 4  # 2 folds: class b has only 2 rows
    assert all(set(labels[test]) == {"a", "b"} for _, test in folds)


def test_unknown_rule_is_refused() -> None:
    with pytest.raises(ValueError, match="'selection' parameter"):
        choose_within_one_se([_candidate([0.5], (1,))], rule="worst")
