"""Bundle.predict: the columns `score` writes, from Python, for one text, many, or a table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

import complaintkit
from complaintkit import Bundle
from complaintkit.scoring import score_file


def test_predict_equals_score_file_for_the_same_rows(trained_bundle: Bundle, synthetic_frame: pd.DataFrame,
                                                     tmp_path: Path) -> None:
    synthetic_frame.to_csv(tmp_path / "in.csv", index=False)
    score_file(trained_bundle, tmp_path / "in.csv", tmp_path / "out.parquet")
    scored = pd.read_parquet(tmp_path / "out.parquet")
    predicted = trained_bundle.predict(synthetic_frame)
    columns = [c for c in scored.columns if c not in synthetic_frame.columns and c != "row_number"]
    assert columns == list(predicted.columns)
    assert "root_cause" in columns and "churn_proba" in columns
    for column in columns:
        if predicted[column].dtype.kind == "f":
            np.testing.assert_allclose(predicted[column], scored[column], rtol=1e-6, err_msg=column)
        else:
            assert predicted[column].tolist() == scored[column].tolist(), column


def test_predict_takes_one_text_or_a_list_and_keeps_order(trained_bundle: Bundle) -> None:
    texts = ["The agent was rude and hung up on me", "   ", "I was charged twice for the same monthly bill"]
    many = trained_bundle.predict(texts)
    assert len(many) == 3 and pd.isna(many.loc[1, "root_cause"])
    assert many.loc[[0, 2], "root_cause"].tolist() == ["staff_attitude", "billing_error"]
    one = trained_bundle.predict(texts[2])
    assert one.loc[0, "root_cause"] == "billing_error"
    assert one.loc[0, "root_cause_proba"] == many.loc[2, "root_cause_proba"]
    assert many["churn_proba"].dropna().between(0, 1).all()


def test_load_is_bundle_load(trained_bundle: Bundle) -> None:
    loaded = complaintkit.load(trained_bundle.path)
    assert isinstance(loaded, Bundle) and loaded.metadata == trained_bundle.metadata
