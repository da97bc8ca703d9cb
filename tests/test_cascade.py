"""The default cascade: when train adds it, the agreement floor of its threshold, what the bundle records,
and scoring with it or with its full head alone (``--cascade off``)."""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from complaintkit import TrainConfig, train
from complaintkit.cli import main
from complaintkit.exceptions import InputError
from complaintkit.heads.cascade import CascadeRootCauseClassifier, choose_threshold, full_head
from complaintkit.model_card import render_model_card
from complaintkit.scoring import ChunkJob, root_cause_head, score_file
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


def _assert_answers(scored: pd.DataFrame, head, texts: list[str], review_threshold: float) -> None:
    """``scored`` holds ``head``'s answers for ``texts``: its most probable cause, and the probability of every
    cause (the three ranked columns name all three causes of the synthetic data, whatever order near-ties take)."""
    proba = head.predict_proba(texts)
    classes = list(head.classes_)
    found = np.zeros_like(proba)
    rows = np.arange(len(texts))
    for label, probability in (("root_cause", "root_cause_proba"), ("root_cause_2", "root_cause_2_proba"),
                               ("root_cause_3", "root_cause_3_proba")):
        found[rows, [classes.index(c) for c in scored[label]]] = scored[probability]
    np.testing.assert_allclose(found, proba, rtol=1e-6, atol=1e-9)
    assert scored["root_cause"].tolist() == [classes[i] for i in proba.argmax(axis=1)]
    assert scored["needs_review"].tolist() == (proba.max(axis=1) < review_threshold).tolist()


def _score(bundle, source, target, *args: str) -> pd.DataFrame:
    result = CliRunner().invoke(main, ["score", "--model", str(bundle.path), "--input", str(source), "--output",
                                       str(target), "--precision", "fp32", "-q", *args])
    assert result.exit_code == 0, result.output
    return pd.read_parquet(target)


def test_score_cascade_off_answers_every_row_with_the_full_head(cascade_bundle, synthetic_frame, tmp_path):
    synthetic_frame[["id", "text"]].to_csv(tmp_path / "in.csv", index=False)
    texts = synthetic_frame["text"].tolist()
    cascade = cascade_bundle.root_cause
    assert isinstance(cascade, CascadeRootCauseClassifier)
    _, escalated = cascade.escalated(texts)
    assert 0 < escalated.sum() < len(texts)  # each head answers some rows: the two settings can differ

    off = _score(cascade_bundle, tmp_path / "in.csv", tmp_path / "off.parquet", "--cascade", "off")
    _assert_answers(off, cascade.full_, texts, cascade_bundle.review_threshold)
    default = _score(cascade_bundle, tmp_path / "in.csv", tmp_path / "default.parquet")
    _assert_answers(default, cascade, texts, cascade_bundle.review_threshold)
    assert list(off.columns) == list(default.columns)
    answered_fast = ~escalated
    assert not np.allclose(off["root_cause_proba"][answered_fast], default["root_cause_proba"][answered_fast])
    np.testing.assert_allclose(off["root_cause_proba"][escalated], default["root_cause_proba"][escalated], rtol=1e-6)


def test_python_api_takes_the_same_setting_and_leaves_the_bundle_as_it_was(cascade_bundle, synthetic_frame,
                                                                           tmp_path):
    texts = synthetic_frame["text"].tolist()[:8]
    cascade = cascade_bundle.root_cause
    assert root_cause_head(cascade_bundle, "off") is cascade.full_ is full_head(cascade)
    assert root_cause_head(cascade_bundle) is cascade
    threshold = cascade_bundle.review_threshold
    _assert_answers(cascade_bundle.predict(texts, cascade="off", precision="fp32"), cascade.full_, texts, threshold)
    assert cascade_bundle.root_cause is cascade and cascade.threshold_ < np.inf  # untouched
    _assert_answers(cascade_bundle.predict(texts, precision="fp32"), cascade, texts, threshold)
    synthetic_frame[["id", "text"]].iloc[:8].to_csv(tmp_path / "in.csv", index=False)
    summary = score_file(cascade_bundle, tmp_path / "in.csv", tmp_path / "out.parquet", precision="fp32",
                         cascade="off")
    assert summary.rows_scored == 8 and cascade_bundle.root_cause is cascade
    _assert_answers(pd.read_parquet(tmp_path / "out.parquet"), cascade.full_, texts, threshold)


def test_predict_and_score_stdin_take_cascade_off(cascade_bundle, synthetic_frame):
    texts = synthetic_frame["text"].tolist()[:6]
    full, threshold = cascade_bundle.root_cause.full_, cascade_bundle.review_threshold
    result = CliRunner().invoke(main, ["predict", "--model", str(cascade_bundle.path), "--json", "--precision",
                                       "fp32", "--cascade", "off", "-q", *texts])
    assert result.exit_code == 0, result.output
    _assert_answers(pd.DataFrame([json.loads(line) for line in result.stdout.splitlines()]), full, texts, threshold)
    lines = "\n".join(json.dumps({"text": t}) for t in texts) + "\n"
    result = CliRunner().invoke(main, ["score", "--model", str(cascade_bundle.path), "--input", "-", "--precision",
                                       "fp32", "--cascade", "off", "-q"], input=lines)
    assert result.exit_code == 0, result.output
    _assert_answers(pd.DataFrame([json.loads(line) for line in result.stdout.splitlines()]), full, texts, threshold)


@pytest.mark.parametrize("command", ["score", "predict", "serve"])
def test_cascade_option_is_listed_and_a_bad_value_gets_one_line(command, tmp_path):
    help_text = CliRunner().invoke(main, [command, "--help"]).output
    assert "--cascade [on|off]" in help_text and "full model answers every complaint" in help_text
    result = CliRunner().invoke(main, [command, "--model", str(tmp_path), "--cascade", "maybe"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "Error: Invalid value for '--cascade': 'maybe' is not one of 'on', 'off'." in result.output


def test_a_bad_cascade_setting_is_refused_in_python(cascade_bundle, tmp_path):
    with pytest.raises(InputError, match=r"cascade must be one of \['on', 'off'\] when scoring.*got 'full'"):
        cascade_bundle.predict(["charged twice"], cascade="full")
    with pytest.raises(InputError, match="cascade must be one of"):
        score_file(cascade_bundle, tmp_path / "in.csv", tmp_path / "out.parquet", cascade=False)
    assert not (tmp_path / "out.parquet").exists()


def test_cascade_off_without_a_cascade_changes_nothing_and_says_so(trained_bundle, synthetic_frame, tmp_path,
                                                                   caplog):
    assert not isinstance(trained_bundle.root_cause, CascadeRootCauseClassifier)
    assert root_cause_head(trained_bundle, "off") is trained_bundle.root_cause
    synthetic_frame.to_csv(tmp_path / "in.csv", index=False)
    with caplog.at_level(logging.INFO, logger="complaintkit"):
        off = _score(trained_bundle, tmp_path / "in.csv", tmp_path / "off.parquet", "--cascade", "off",
                     "--log-level", "info")
    assert "--cascade off changes nothing: this bundle has no scoring cascade" in caplog.text
    pd.testing.assert_frame_equal(off, _score(trained_bundle, tmp_path / "in.csv", tmp_path / "on.parquet"))


def test_the_log_says_which_head_answers(cascade_bundle, synthetic_frame, tmp_path, caplog):
    synthetic_frame[["id", "text"]].iloc[:4].to_csv(tmp_path / "in.csv", index=False)
    with caplog.at_level(logging.INFO, logger="complaintkit"):
        score_file(cascade_bundle, tmp_path / "in.csv", tmp_path / "on.parquet", precision="fp32")
        score_file(cascade_bundle, tmp_path / "in.csv", tmp_path / "off.parquet", precision="fp32", cascade="off")
    assert "scoring cascade on: a fast head answers the rows where its confidence is at least" in caplog.text
    assert "scoring cascade off: the full root-cause head answers every row" in caplog.text


def test_a_run_records_the_setting_so_resume_refuses_the_other_one():
    # --resume compares the settings recorded when the run started (test_scoring_files checks the refusal)
    on, off = ChunkJob(source="models/x").settings(), ChunkJob(source="models/x", cascade="off").settings()
    assert (on["cascade"], off["cascade"]) == ("on", "off")
    with pytest.raises(InputError, match="cascade must be one of"):
        ChunkJob(source="models/x", cascade="none")
