"""The CLI through click's CliRunner: files written, exit codes, one-line errors."""

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from complaintkit.cli import main


@pytest.fixture(scope="module")
def cli_bundle(tmp_path_factory: pytest.TempPathFactory, synthetic_csv: Path) -> Path:
    out = tmp_path_factory.mktemp("cli") / "model"
    result = CliRunner().invoke(main, ["train", "--data", str(synthetic_csv), "--text-col", "text",
                                       "--label-col", "cause", "--split-col", "split", "--out", str(out),
                                       "--root-cause-head", "standard"])
    assert result.exit_code == 0, result.output
    assert "held-out root cause (6 rows): macro-F1" in result.output and "95% CI" in result.output
    return out


def test_train_writes_a_bundle(cli_bundle: Path) -> None:
    assert {"metadata.json", "README.md", "root_cause.skops"} <= {p.name for p in cli_bundle.iterdir()}


def test_evaluate_writes_metrics_and_plots(cli_bundle: Path, synthetic_csv: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["evaluate", "--model", str(cli_bundle), "--data", str(synthetic_csv),
                                       "--split-col", "split", "--output", str(tmp_path / "m.json"),
                                       "--plots-dir", str(tmp_path / "plots")])
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert metrics["root_cause"]["rows"] == 6
    assert (tmp_path / "plots" / "confusion.png").stat().st_size > 1000
    assert "macro-F1" in result.output


def test_score_then_report(cli_bundle: Path, synthetic_csv: Path, tmp_path: Path) -> None:
    scored = tmp_path / "scored.csv"
    result = CliRunner().invoke(main, ["score", "--model", str(cli_bundle), "--input", str(synthetic_csv),
                                       "--output", str(scored), "--id-col", "id"])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(scored)
    assert list(frame["id"]) == list(pd.read_csv(synthetic_csv)["id"])
    assert {"root_cause", "root_cause_proba", "root_cause_2", "root_cause_3_proba", "needs_review"} <= set(frame)
    report = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["report", "--scored", str(scored), "--out", str(report)])
    assert result.exit_code == 0, result.output
    html = report.read_text()
    assert "<svg" in html and "billing_error" in html
    assert not any(ref in html for ref in ('src="http', "href=\"http", "<link", "url(http")), "external resource"


def test_missing_text_column_is_one_line_with_the_columns_found(synthetic_csv: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["train", "--data", str(synthetic_csv), "--text-col", "txt",
                                       "--label-col", "cause", "--out", str(tmp_path / "m")])
    assert result.exit_code == 1
    message = result.output.strip()
    assert "\n" not in message and "Traceback" not in message
    assert "'txt'" in message and "'text'" in message and "--text-col" in message


def test_existing_output_is_refused_without_overwrite(cli_bundle: Path, synthetic_csv: Path,
                                                       tmp_path: Path) -> None:
    target = tmp_path / "scored.parquet"
    target.write_text("keep me")
    result = CliRunner().invoke(main, ["score", "--model", str(cli_bundle), "--input", str(synthetic_csv),
                                       "--output", str(target)])
    assert result.exit_code == 1 and "--overwrite" in result.output
    assert target.read_text() == "keep me"


def test_python_dash_m_entry_point() -> None:
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "complaintkit", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "train" in result.stdout and "report" in result.stdout


def test_train_calibration_option_reaches_the_head_and_metadata(synthetic_csv: Path, tmp_path: Path) -> None:
    from complaintkit import Bundle

    out = tmp_path / "isotonic"
    result = CliRunner().invoke(main, ["train", "--data", str(synthetic_csv), "--label-col", "cause",
                                       "--calibration", "isotonic", "--out", str(out), "--root-cause-head", "standard"])
    assert result.exit_code == 0, result.output
    bundle = Bundle.load(out)
    assert bundle.root_cause.pipeline_.named_steps["classifier"].method == "isotonic"
    assert bundle.metadata["config"]["calibration"] == "isotonic"
    assert "cross-validated root cause (24 rows): macro-F1" in result.output  # no split: CV figure instead


def test_train_long_texts_option_is_recorded(synthetic_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "head-tail"
    result = CliRunner().invoke(main, ["train", "--data", str(synthetic_csv), "--label-col", "cause",
                                       "--out", str(out), "--root-cause-head", "standard",
                                       "--long-texts", "head_tail", "--review-precision", "0.5"])
    assert result.exit_code == 0, result.output
    metadata = json.loads((out / "metadata.json").read_text())
    assert metadata["embedding_model"]["long_texts"] == "head_tail"
    assert metadata["heads"]["root_cause"]["params"]["long_texts"] == "head_tail"
    assert "first and last half-chunk" in (out / "README.md").read_text()


def test_train_long_texts_is_refused_for_a_taxonomy(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["train", "--taxonomy", "default", "--long-texts", "head",
                                       "--out", str(tmp_path / "zs")])
    assert result.exit_code == 2 and "--long-texts applies to heads trained on labels" in result.output


def test_train_drop_doubtful_labels_is_refused_for_a_taxonomy(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["train", "--taxonomy", "default", "--drop-doubtful-labels",
                                       "--out", str(tmp_path / "zs")])
    assert result.exit_code == 2 and "a zero-shot model (--taxonomy) is not trained on labels" in result.output
    assert not (tmp_path / "zs").exists()
