"""The default cascade: when train adds it, the agreement floor of its threshold, and what the bundle records."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from complaintkit import TrainConfig, train
from complaintkit.cli import main
from complaintkit.exceptions import InputError
from complaintkit.heads.cascade import CascadeRootCauseClassifier, choose_threshold
from complaintkit.model_card import render_model_card
from complaintkit.training import CASCADE_MAX_F1_LOSS, CASCADE_MIN_AGREEMENT, CASCADE_MIN_ROWS, cascade_bounds


def test_agreement_floor_escalates_rows_the_loss_budget_would_keep():
    labels = np.array(["a", "b"] * 50)
    full = labels.copy()
    fast = np.where(np.arange(100) < 4, np.where(labels == "a", "b", "a"), labels)  # the first 4 rows differ
    confidence = np.where(np.arange(100) < 4, 0.5, 0.9)
    loose, _ = choose_threshold(confidence, fast, full, labels, max_f1_loss=0.1)
    assert loose == 0.5  # 4% wrong fits a 0.1 macro-F1 budget: every row stays with the fast head
    threshold, f1 = choose_threshold(confidence, fast, full, labels, max_f1_loss=0.1, min_agreement=0.99)
    assert 0.5 < threshold <= 0.9 and f1 == 1.0  # the 4 rows now go to the full head
    assert choose_threshold(np.full(100, 0.9), fast, full, labels, 0.1, min_agreement=0.99)[0] == np.inf


@pytest.mark.parametrize(("settings", "rows", "expected"), [
    ({}, CASCADE_MIN_ROWS - 1, None),
    ({}, CASCADE_MIN_ROWS, (CASCADE_MAX_F1_LOSS, CASCADE_MIN_AGREEMENT)),
    ({"cascade": "on"}, 24, (CASCADE_MAX_F1_LOSS, CASCADE_MIN_AGREEMENT)),
    ({"cascade": "off"}, 10_000, None),
    ({"fast_tier": True, "fast_tier_max_f1_loss": 0.02}, 24, (0.02, 0.0)),
])
def test_train_adds_the_cascade_from_enough_rows_or_when_asked(settings, rows, expected):
    config = TrainConfig(text_cols=("text",), label_col="cause", **settings)
    assert cascade_bounds(config, rows) == expected


def test_cascade_settings_are_checked():
    with pytest.raises(InputError, match="cascade must be one of"):
        TrainConfig(label_col="cause", cascade="yes")
    with pytest.raises(InputError, match="--fast-tier is a cascade"):
        TrainConfig(label_col="cause", fast_tier=True, cascade="off")


def test_cascade_on_answers_as_the_full_head_on_99_percent_of_out_of_fold_rows(random_static_table,
                                                                              synthetic_frame):
    # Labels shuffled: the heads disagree on many rows, so the threshold has to escalate many of them.
    noisy = synthetic_frame.assign(cause=np.random.default_rng(1).permutation(synthetic_frame["cause"].to_numpy()))
    config = TrainConfig(text_cols=("text",), label_col="cause", cascade="on", root_cause_head="standard",
                         review_precision=None)
    bundle = train(noisy, config, name="cascade")
    info = bundle.metadata["heads"]["root_cause"]["fast_tier"]
    assert isinstance(bundle.root_cause, CascadeRootCauseClassifier)
    assert bundle.root_cause.min_agreement == CASCADE_MIN_AGREEMENT and "99%" in info["rule"]
    assert info["out_of_fold"]["agreement"] >= CASCADE_MIN_AGREEMENT
    assert 0.2 < info["out_of_fold"]["escalated"] < 1
    card = render_model_card(bundle.metadata)
    assert "## Scoring cascade" in card and "at least 99%" in card


def test_train_command_reports_the_cascade_and_refuses_contradictions(random_static_table, synthetic_csv, tmp_path):
    args = ["train", "--input", str(synthetic_csv), "--text-col", "text", "--label-col", "cause",
            "--root-cause-head", "standard", "--model"]
    result = CliRunner().invoke(main, [*args, str(tmp_path / "on"), "--cascade", "on"])
    assert result.exit_code == 0, result.output
    assert "scoring cascade: the transformer answers" in result.output
    assert "## Scoring cascade" in (tmp_path / "on" / "README.md").read_text()
    result = CliRunner().invoke(main, [*args, str(tmp_path / "off"), "--fast-tier", "--cascade", "off"])
    assert result.exit_code != 0 and "drop one of them" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "off").exists()
