"""The README's demo path on real CFPB narratives with the real model (slow)."""

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from complaintkit.cli import main


@pytest.mark.slow
def test_train_evaluate_score_report_on_real_cfpb(cfpb_frame: pd.DataFrame, tmp_path: Path) -> None:
    # A stratified slice of the real sample keeps the test to about a minute on two cores.
    keep = cfpb_frame["product_group"].isin(["student_loan", "credit_reporting", "debt_collection", "mortgage"])
    sample = cfpb_frame[keep].groupby(["product_group", "split"]).head(40)
    data = tmp_path / "cfpb.csv"
    sample.to_csv(data, index=False)
    runner = CliRunner()
    model = tmp_path / "models" / "cfpb"
    steps = [
        ["train", "--data", str(data), "--text-col", "narrative", "--label-col", "product_group",
         "--split-col", "split", "--out", str(model)],
        ["evaluate", "--model", str(model), "--data", str(data), "--split-col", "split",
         "--output", str(tmp_path / "metrics.json")],
        ["score", "--model", str(model), "--input", str(data), "--output", str(tmp_path / "scored.parquet"),
         "--id-col", "complaint_id"],
        ["report", "--scored", str(tmp_path / "scored.parquet"), "--text-col", "narrative",
         "--out", str(tmp_path / "report.html")],
    ]
    for args in steps:
        result = runner.invoke(main, args)
        assert result.exit_code == 0, (args[0], result.output)
    metrics = json.loads((tmp_path / "metrics.json").read_text())["root_cause"]
    assert metrics["accuracy"] > 0.7, metrics["accuracy"]
    scored = pd.read_parquet(tmp_path / "scored.parquet")
    assert list(scored["complaint_id"]) == list(sample["complaint_id"])
    assert "XXXX" not in (tmp_path / "report.html").read_text().split("<main>")[0]
