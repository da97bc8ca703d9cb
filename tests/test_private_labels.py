"""`train --private-labels`: class names appear in no bundle file but the heads; scoring still names them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from complaintkit.cli import main
from complaintkit.private_labels import label_key, mask_label_issues, mask_metadata, opaque_ids

SECRET = {"billing_error": "Project Zephyr refunds", "service_failure": "Outage at Kestrel Bank",
          "staff_attitude": "Agent Q. Moreau conduct"}


def test_ids_follow_the_sorted_classes_and_say_nothing_of_the_names() -> None:
    ids = opaque_ids(sorted(SECRET.values()))
    assert list(ids.values()) == ["label_1", "label_2", "label_3"]
    assert ids == opaque_ids(sorted(SECRET.values()))  # stable
    assert not any(word in "".join(ids.values()) for name in SECRET.values() for word in name.split())
    assert label_key(sorted(SECRET.values()))["label"].tolist() == sorted(SECRET.values())


def test_masking_reaches_every_label_bearing_section() -> None:
    classes = ["a-secret", "b-secret"]
    per_class = {c: {"f1": 0.5} for c in (*classes, "c-unseen")}
    metrics = {"per_class": per_class, "unseen_labels": ["c-unseen"], "accuracy": 0.5,
               "confusion": {"labels": [*classes, "c-unseen"], "matrix": [[1]]}}
    metadata = {"heads": {"root_cause": {"labels": classes, "label_counts": {"a-secret": 3, "b-secret": 2},
                                         "params": {"calibration": "auto"}}},
                "metrics": {"root_cause": metrics, "churn": {"by_cause": [{"cause": "b-secret", "complaints": 2}]}},
                "cv_metrics": {"root_cause": metrics},
                "training_profile": {"rows": 5, "label_shares": {"a-secret": 0.6, "b-secret": 0.4}},
                "label_issues": {"by_given_label": {"b-secret": 1}}}
    masked = mask_metadata(metadata, classes)
    assert "secret" not in str(masked) and "unseen" in str(masked["metrics"]["root_cause"]["unseen_labels"])
    assert masked["metrics"]["root_cause"]["per_class"].keys() == {"label_1", "label_2", "unseen_1"}
    assert masked["metrics"]["root_cause"]["accuracy"] == 0.5
    assert "secret" in str(metadata)  # the original is left as it was
    issues = pd.DataFrame({"row_id": [4], "given_label": ["b-secret"], "suggested_label": ["a-secret"]})
    assert mask_label_issues(issues, classes).iloc[0].tolist() == [4, "label_2", "label_1"]


@pytest.fixture(scope="module")
def private_bundle(tmp_path_factory: pytest.TempPathFactory, synthetic_frame: pd.DataFrame) -> Path:
    folder = tmp_path_factory.mktemp("private")
    data = synthetic_frame.assign(cause=synthetic_frame["cause"].map(SECRET))
    data.to_csv(folder / "train.csv", index=False)
    result = CliRunner().invoke(main, ["train", "--input", str(folder / "train.csv"), "--label-col", "cause",
                                       "--churn-col", "churned", "--split-col", "split", "--id-col", "id",
                                       "--root-cause-head", "standard", "--private-labels",
                                       "--model", str(folder / "model")])
    assert result.exit_code == 0, result.output
    return folder


def test_no_class_name_in_any_bundle_file_but_the_heads(private_bundle: Path) -> None:
    files = [p for p in (private_bundle / "model").rglob("*") if p.is_file()]
    readable = [p for p in files if p.suffix != ".skops"]
    assert {p.name for p in readable} >= {"metadata.json", "README.md", "label_issues.csv"}
    for path in readable:
        content = path.read_bytes()
        for name in SECRET.values():
            assert name.encode() not in content, (path.name, name)
    assert b"label_1" in (private_bundle / "model" / "README.md").read_bytes()


def test_scoring_and_the_report_still_work(private_bundle: Path) -> None:
    scored = private_bundle / "scored.csv"
    result = CliRunner().invoke(main, ["score", "--model", str(private_bundle / "model"),
                                       "--input", str(private_bundle / "train.csv"), "--output", str(scored)])
    assert result.exit_code == 0, result.output
    assert set(pd.read_csv(scored)["root_cause"]) <= set(SECRET.values())
    report = private_bundle / "report.md"
    result = CliRunner().invoke(main, ["report", "--input", str(scored), "--model", str(private_bundle / "model"),
                                       "--output", str(report), "--format", "md"])
    assert result.exit_code == 0, result.output


def test_private_labels_refuse_a_parent_column(synthetic_csv: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["train", "--input", str(synthetic_csv), "--label-col", "cause",
                                       "--parent-col", "plan", "--private-labels", "--model", str(tmp_path / "m")])
    assert result.exit_code != 0
    assert "--private-labels and --parent-col cannot be combined" in result.output
    assert not (tmp_path / "m").exists()
