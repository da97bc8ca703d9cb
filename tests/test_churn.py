"""Churn head: outcome normalisation, calibration choice, structured columns, metrics, evaluate."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from complaintkit.cli import main
from complaintkit.evaluation import (
    churn_by_cause,
    churn_metrics,
    evaluate,
    reliability_table,
    top_decile,
    within_group_auc,
)
from complaintkit.exceptions import InputError, MissingColumnError
from complaintkit.heads import ChurnClassifier, normalise_outcome
from complaintkit.heads.calibration import calibration_method
from complaintkit.heads.churn import auto_calibration

TELCO = Path(__file__).resolve().parents[2] / "shared" / "data" / "telco-synthetic"
needs_telco = pytest.mark.skipif(not (TELCO / "contacts.csv").exists(), reason="telco-synthetic data not found")


def test_normalise_outcome_maps_the_usual_spellings() -> None:
    values = [1, 0, "1", "0", "Yes", "no", " TRUE ", "false", "Y", "n", 1.0, "churned", "stayed"]
    assert normalise_outcome(values).tolist() == [1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 1, 0]


@pytest.mark.parametrize("bad", [["yes", "maybe"], ["1", None], [1, 2], [0, float("nan")]])
def test_normalise_outcome_names_the_bad_values_and_the_column(bad: list) -> None:
    with pytest.raises(InputError, match=r"outcome column 'Churn' must hold 0/1, yes/no or true/false; found"):
        normalise_outcome(bad, "Churn")


def test_normalise_outcome_counts_the_bad_rows() -> None:
    with pytest.raises(InputError, match=r"'maybe' in 2 rows"):
        normalise_outcome(["maybe", "yes", "maybe"])


@pytest.mark.parametrize(("rows", "expected"), [(24, "sigmoid"), (9_999, "sigmoid"), (10_000, "isotonic"),
                                                (50_000, "isotonic")])
def test_churn_auto_calibration_uses_isotonic_only_with_enough_rows(rows: int, expected: str) -> None:
    assert auto_calibration(rows) == expected
    assert calibration_method("auto", auto_calibration(rows)) == expected
    assert calibration_method("sigmoid", auto_calibration(rows)) == "sigmoid"


def test_churn_head_refuses_bad_settings(synthetic_frame: pd.DataFrame) -> None:
    frame, outcome = synthetic_frame, synthetic_frame["churned"]
    with pytest.raises(ValueError, match="'calibration' parameter"):
        ChurnClassifier(calibration="platt", embedding_weight=0).fit(frame, outcome)
    with pytest.raises(ValueError, match="'C' parameter of ChurnClassifier must be > 0"):
        ChurnClassifier(C=0, embedding_weight=0).fit(frame, outcome)
    with pytest.raises(ValueError, match="embedding_weight > 0 or use_tfidf"):
        ChurnClassifier(embedding_weight=0, use_tfidf=False).fit(frame, outcome)
    with pytest.raises(InputError, match="got 24 rows but 3 outcomes"):
        ChurnClassifier(embedding_weight=0).fit(frame, ["yes", "no", "yes"])


@pytest.fixture(scope="module")
def telco() -> pd.DataFrame:
    """SYNTHETIC complaint contacts joined to IBM's sample customer table (never a quality claim)."""
    contacts = pd.read_csv(TELCO / "contacts.csv")
    customers = pd.read_csv(TELCO / "customers.csv")
    return contacts.merge(customers, on="customerID", how="left", validate="many_to_one")


@needs_telco
def test_structured_columns_improve_churn_on_synthetic_telco(telco: pd.DataFrame) -> None:
    """SYNTHETIC data: the churn signal is planted in the customer columns, so adding them must help.

    Held out by customer (no customer in both parts). The text block is TF-IDF only to keep
    the test fast; the pipeline joining text and structured columns is the same.
    """
    rng = np.random.default_rng(0)
    customers = telco["customerID"].unique()
    held_out = telco["customerID"].isin(rng.choice(customers, len(customers) // 3, replace=False))
    train, test = telco[~held_out], telco[held_out]
    outcome = normalise_outcome(test["Churn"])
    structured = {"numeric_cols": ["tenure", "MonthlyCharges", "TotalCharges"],
                  "categorical_cols": ["Contract", "InternetService", "PaymentMethod"]}
    scores = {}
    for name, columns in {"text": {}, "text+customer": structured}.items():
        head = ChurnClassifier(embedding_weight=0, **columns).fit(train, train["Churn"])
        scores[name] = churn_metrics(outcome, head.predict_proba(test)[:, 1], n_bootstrap=0)
    assert scores["text+customer"]["roc_auc"] > scores["text"]["roc_auc"] + 0.1
    assert scores["text+customer"]["brier"] < scores["text"]["brier"] - 0.02
    assert scores["text+customer"]["lift_top_decile"] > scores["text"]["lift_top_decile"]
    assert scores["text+customer"]["ece"] < 0.06


def test_top_decile_lift_and_capture() -> None:
    outcome = np.array([1] * 10 + [0] * 90)
    perfect = top_decile(outcome, -np.arange(100))
    assert perfect == (10.0, 1.0)
    lift, capture = top_decile(outcome, np.arange(100))
    assert (lift, capture) == (0.0, 0.0)
    assert np.isnan(top_decile(np.zeros(10), np.arange(10))[0])


def test_churn_metrics_bootstrap_intervals_hold_the_point_estimate() -> None:
    rng = np.random.default_rng(1)
    probability = rng.uniform(size=400)
    outcome = (rng.uniform(size=400) < probability).astype(int)
    result = churn_metrics(outcome, probability, n_bootstrap=200)
    for key in ("roc_auc", "pr_auc", "brier", "lift_top_decile", "capture_top_decile"):
        low, high = result["ci"][key]
        assert low <= result[key] <= high
        assert high - low > 0
    assert 0.7 < result["roc_auc"] < 0.9
    assert result["ece"] < 0.1
    assert sum(r["rows"] for r in result["reliability"]) == 400
    assert churn_metrics(outcome, probability, n_bootstrap=0)["ci"] == {}


def test_reliability_table_bins_predictions() -> None:
    table = reliability_table(np.array([0, 1, 1, 1]), np.array([0.05, 0.05, 0.95, 0.91]))
    assert [(r["rows"], r["observed_rate"]) for r in table] == [(2, 0.5), (2, 1.0)]
    assert table[1]["mean_probability"] == pytest.approx(0.93)


def test_within_group_auc_ignores_the_difference_between_groups() -> None:
    # Group b churns more and gets higher scores: pooled AUC rewards that, within-group does not.
    outcome = np.array([0, 1, 0, 1, 1, 1, 0, 1])
    probability = np.array([0.1, 0.2, 0.3, 0.15, 0.8, 0.9, 0.85, 0.7])
    groups = np.array(["a"] * 4 + ["b"] * 4)
    result = within_group_auc(outcome, probability, groups)
    assert result["groups"] == 2
    assert result["per_group"] == {"a": 0.5, "b": pytest.approx(1 / 3)}
    assert result["median"] == pytest.approx((0.5 + 1 / 3) / 2)
    assert within_group_auc(np.ones(3), np.ones(3), ["a", "a", "b"])["groups"] == 0


def test_churn_by_cause_rates_probabilities_and_money() -> None:
    rows = churn_by_cause(["bill", "bill", "rude", "rude", "rude"], np.array([0.5, 0.7, 0.1, 0.2, 0.3]),
                          outcome=np.array([1, 1, 0, 0, 1]), value=np.array([100, 50, 10, 10, None]))
    assert [r["cause"] for r in rows] == ["bill", "rude"]
    bill, rude = rows
    assert bill["complaints"] == 2 and bill["churn_rate"] == 1.0
    assert bill["mean_churn_proba"] == pytest.approx(0.6)
    assert bill["value_at_risk"] == pytest.approx(100 * 0.5 + 50 * 0.7)
    assert rude["churn_rate"] == pytest.approx(1 / 3)
    assert rude["value"] == 20.0
    assert "churn_rate" not in churn_by_cause(["x"], np.array([0.2]))[0]


def test_evaluate_adds_churn_by_cause_and_checks_the_value_column(trained_bundle,
                                                                 synthetic_frame: pd.DataFrame) -> None:
    result = evaluate(trained_bundle, synthetic_frame, value_col="tenure")
    by_cause = result["churn"]["by_cause"]
    assert sum(r["complaints"] for r in by_cause) == len(synthetic_frame)
    assert {r["cause"] for r in by_cause} <= set(trained_bundle.root_cause.classes_)
    assert all(0 <= r["churn_rate"] <= 1 and r["value_at_risk"] >= 0 for r in by_cause)
    assert set(result["churn"]["ci"]) >= {"roc_auc", "brier", "lift_top_decile"}
    with pytest.raises(MissingColumnError, match="--value-col"):
        evaluate(trained_bundle, synthetic_frame, value_col="revenue")


def test_evaluate_command_writes_the_reliability_diagram(trained_bundle, synthetic_csv: Path,
                                                         tmp_path: Path) -> None:
    plots, output = tmp_path / "plots", tmp_path / "metrics.json"
    result = CliRunner().invoke(main, ["evaluate", "--model", str(trained_bundle.path), "--data",
                                       str(synthetic_csv), "--plots-dir", str(plots), "--value-col", "tenure",
                                       "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert "top-decile lift" in result.output and "value at risk" in result.output
    png = plots / "reliability.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads(output.read_text())["plots"]["reliability"] == str(png)
