"""Customer-level aggregation of scored complaints and `score --customer-col`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from _helpers import SYNTHETIC
from complaintkit import Bundle
from complaintkit.cli import main
from complaintkit.customers import aggregate_customers
from complaintkit.exceptions import InputError, MissingColumnError
from complaintkit.heads import ChurnClassifier, RootCauseClassifier


@pytest.fixture
def scored() -> pd.DataFrame:
    return pd.DataFrame({
        "customer": ["a", "b", "a", "a", "c"],
        "date": ["2024-03-01", "2024-05-05", "2024-01-01", "2024-01-11", None],
        "root_cause": ["billing", "rude", "outage", "billing", "rude"],
        "churn_proba": [0.2, 0.9, 0.6, 0.5, 0.1],
        "monthly": [10.0, 20.0, 10.0, 30.0, 5.0],
    })


def test_one_row_per_customer_with_counts_span_causes_and_probabilities(scored: pd.DataFrame) -> None:
    out = aggregate_customers(scored, "customer", "date", value_col="monthly").set_index("customer")
    assert list(out.index) == ["b", "a", "c"]  # highest churn_proba_max first
    a = out.loc["a"]
    assert a["complaints"] == 3
    assert a["span_days"] == 60.0
    assert a["first_complaint"] == pd.Timestamp("2024-01-01", tz="UTC")
    assert a["main_cause"] == "billing"
    assert a["worst_cause"] == "outage"
    assert a["churn_proba_max"] == pytest.approx(0.6)
    assert a["churn_proba_mean"] == pytest.approx(1.3 / 3)
    assert a["churn_proba_combined"] == pytest.approx(1 - 0.8 * 0.4 * 0.5)
    assert a["value_at_risk"] == pytest.approx(10.0 * 0.6)  # value of the latest complaint (March)
    assert out.loc["c", "complaints"] == 1 and pd.isna(out.loc["c", "span_days"])
    assert out.loc["c", "churn_proba_combined"] == pytest.approx(0.1)


def test_combined_probability_lies_between_max_and_one(scored: pd.DataFrame) -> None:
    out = aggregate_customers(scored, "customer")
    assert (out["churn_proba_combined"] >= out["churn_proba_max"] - 1e-12).all()
    assert (out["churn_proba_combined"] <= 1).all()
    assert "span_days" not in out.columns


def test_root_cause_only_scores_are_aggregated_too(scored: pd.DataFrame) -> None:
    out = aggregate_customers(scored.drop(columns="churn_proba"), "customer")
    assert dict(zip(out["customer"], out["main_cause"], strict=True)) == {"a": "billing", "b": "rude", "c": "rude"}
    assert "worst_cause" not in out.columns


def test_bad_inputs_are_refused_with_a_clear_message(scored: pd.DataFrame) -> None:
    with pytest.raises(MissingColumnError, match="--customer-col"):
        aggregate_customers(scored, "customerID")
    with pytest.raises(InputError, match=r"1 rows have no customer id in 'customer' \(first at row 2\)"):
        aggregate_customers(scored.assign(customer=["a", "b", None, "a", "c"]), "customer")
    with pytest.raises(InputError, match="date column 'date' has 1 values that are not dates"):
        aggregate_customers(scored.assign(date=["2024-01-01", "soon", None, None, None]), "customer", "date")
    with pytest.raises(InputError, match="neither 'churn_proba' nor 'root_cause'"):
        aggregate_customers(scored[["customer", "date"]], "customer")


@pytest.fixture(scope="module")
def telco_bundle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """A bundle with both heads (TF-IDF text features only, for speed) on SYNTHETIC telco contacts.

    24 contacts of 14 customers (10 with two contacts, 4 with one) over half a year.
    """
    texts = [(cause, text) for cause, group in SYNTHETIC.items() for text in group]
    frame = pd.DataFrame({
        "contact_id": [f"k{i}" for i in range(len(texts))],
        "customerID": [f"c{i % 14:02d}" for i in range(len(texts))],
        "date": [str((pd.Timestamp("2024-01-01") + pd.Timedelta(days=7 * i)).date()) for i in range(len(texts))],
        "text": [text for _, text in texts],
        "root_cause": [cause for cause, _ in texts],
    })
    number = frame["customerID"].str[1:].astype(int)
    frame["tenure"] = 3 + 5 * number
    frame["Contract"] = np.where(number % 2 == 0, "Month-to-month", "One year")
    frame["Churn"] = np.where(number % 3 == 0, "Yes", "No")
    churn = ChurnClassifier(embedding_weight=0, numeric_cols=["tenure"], categorical_cols=["Contract"])
    bundle = Bundle(
        metadata={"name": "telco-synthetic", "columns": {"text": ["text"], "label": "root_cause", "churn": "Churn",
                                                         "numeric": ["tenure"], "categorical": ["Contract"]}},
        root_cause=RootCauseClassifier(embedding_weight=0).fit(frame["text"], frame["root_cause"]),
        churn=churn.fit(frame, frame["Churn"]),
    )
    root = tmp_path_factory.mktemp("telco")
    frame.drop(columns=["root_cause", "Churn"]).to_csv(root / "contacts.csv", index=False)
    return bundle.save(root / "model"), frame


def test_score_command_writes_exactly_one_row_per_customer(telco_bundle: tuple[Path, pd.DataFrame],
                                                           tmp_path: Path) -> None:
    model, frame = telco_bundle
    contacts = model.parent / "contacts.csv"
    output = tmp_path / "scores.parquet"
    result = CliRunner().invoke(main, ["score", "--model", str(model), "--input", str(contacts), "--output",
                                       str(output), "--customer-col", "customerID", "--date-col", "date",
                                       "--keep-col", "contact_id", "--keep-col", "text", "--keep-col", "tenure",
                                       "--keep-col", "Contract"])
    assert result.exit_code == 0, result.output
    scores = pd.read_parquet(output)
    customers = pd.read_parquet(tmp_path / "scores.customers.parquet")
    assert len(scores) == len(frame)
    assert len(customers) == frame["customerID"].nunique() == customers["customerID"].nunique()
    assert set(customers["customerID"]) == set(frame["customerID"])
    assert customers["complaints"].sum() == len(frame)
    counts = frame["customerID"].value_counts()
    assert (customers.set_index("customerID")["complaints"] == counts.reindex(customers["customerID"]).to_numpy()).all()
    assert customers["span_days"].between(0, 366).all()
    repeat = customers["complaints"] > 1
    assert (customers.loc[~repeat, "span_days"] == 0).all()
    assert np.allclose(customers.loc[~repeat, "churn_proba_combined"], customers.loc[~repeat, "churn_proba_max"])
    # Re-scoring one complaint's text gives that complaint's own probability back.
    assert np.allclose(customers.loc[~repeat, "churn_proba_text"], customers.loc[~repeat, "churn_proba_max"])
    assert customers["churn_proba_text"].between(0, 1).all()
    assert f"{frame['customerID'].nunique()} customers" in result.output


def test_customer_options_need_customer_col(trained_bundle, synthetic_csv: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["score", "--model", str(trained_bundle.path), "--input", str(synthetic_csv),
                                       "--output", str(tmp_path / "s.csv"), "--date-col", "date"])
    assert result.exit_code != 0
    assert "need --customer-col" in result.output
