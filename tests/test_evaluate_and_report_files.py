"""`evaluate --plots-dir` follows the output rules; `report --model` reads label_issues.csv only as hashed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from complaintkit import Bundle
from complaintkit.cli import main
from complaintkit.label_issues import LABEL_ISSUES_FILE


def _invoke(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.output


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def labelled(tmp_path: Path, synthetic_frame: pd.DataFrame) -> Path:
    path = tmp_path / "labelled.csv"
    synthetic_frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("where", ["bundle", "inside bundle"])
def test_plots_dir_never_writes_into_the_bundle(tmp_path: Path, trained_bundle: Bundle, labelled: Path,
                                                where: str) -> None:
    bundle = tmp_path / "model"
    shutil.copytree(trained_bundle.path, bundle)
    before = _snapshot(bundle)
    plots = bundle if where == "bundle" else bundle / "plots"
    code, output = _invoke("evaluate", "--model", bundle, "--input", labelled, "--plots-dir", plots, "--overwrite")
    assert code != 0 and "an input is never written" in output and "Traceback" not in output
    assert _snapshot(bundle) == before


def test_plots_dir_needs_overwrite_and_differs_from_the_other_outputs(tmp_path: Path, trained_bundle: Bundle,
                                                                      labelled: Path) -> None:
    plots = tmp_path / "plots"
    plots.mkdir()
    (plots / "confusion.png").write_bytes(b"mine")
    code, output = _invoke("evaluate", "--model", trained_bundle.path, "--input", labelled, "--plots-dir", plots)
    assert code != 0 and "already exists; pass --overwrite" in output
    assert (plots / "confusion.png").read_bytes() == b"mine" and sorted(p.name for p in plots.iterdir()) == [
        "confusion.png"]
    code, output = _invoke("evaluate", "--model", trained_bundle.path, "--input", labelled, "--plots-dir", plots,
                           "--output", plots / "coverage.png")
    assert code != 0 and "are the same file" in output
    code, output = _invoke("evaluate", "--model", trained_bundle.path, "--input", labelled, "--plots-dir", plots,
                           "--output", tmp_path / "metrics.json", "--overwrite")
    assert code == 0, output
    assert (plots / "confusion.png").read_bytes()[:4] == b"\x89PNG"
    assert json.loads((tmp_path / "metrics.json").read_text())["plots"]["coverage"] == str(plots / "coverage.png")
    assert not list(plots.glob(".*"))  # no lock or temporary file left


def _report(tmp_path: Path, bundle: Path, labels: list[str]) -> tuple[int, str]:
    scored = tmp_path / "scored.csv"
    pd.DataFrame({"text": [f"complaint {i}" for i in range(6)], "root_cause": labels * 2,
                  "root_cause_proba": 0.8}).to_csv(scored, index=False)
    return _invoke("report", "--input", scored, "--model", bundle, "--output", tmp_path / "r.json", "--format",
                   "json", "--overwrite")


def test_report_refuses_a_changed_label_issues_file(tmp_path: Path, trained_bundle: Bundle) -> None:
    bundle = tmp_path / "model"
    shutil.copytree(trained_bundle.path, bundle)
    assert LABEL_ISSUES_FILE in json.loads((bundle / "metadata.json").read_text())["artifacts"]
    code, output = _report(tmp_path, bundle, list(trained_bundle.root_cause.classes_))
    assert code == 0, output
    assert "label_issues" in json.loads((tmp_path / "r.json").read_text())
    with open(bundle / LABEL_ISSUES_FILE, "a") as handle:
        handle.write("999,=HYPERLINK(1),billing_error,0.9,0.1,planted\n")
    code, output = _report(tmp_path, bundle, list(trained_bundle.root_cause.classes_))
    assert code != 0 and "was modified: SHA-256" in output and len(output.strip().splitlines()) == 1


def test_report_ignores_a_label_issues_file_the_bundle_does_not_list(tmp_path: Path, trained_bundle: Bundle) -> None:
    bundle = tmp_path / "model"
    shutil.copytree(trained_bundle.path, bundle)
    metadata = json.loads((bundle / "metadata.json").read_text())
    del metadata["artifacts"][LABEL_ISSUES_FILE]
    (bundle / "metadata.json").write_text(json.dumps(metadata))
    code, output = _report(tmp_path, bundle, list(trained_bundle.root_cause.classes_))
    assert code == 0, output
    assert "label_issues" not in json.loads((tmp_path / "r.json").read_text())
