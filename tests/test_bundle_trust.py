"""Bundle trust: skops heads load without pickle; pickled (format 1) bundles need trust."""

from __future__ import annotations

import copy
import json
import os
import shutil
from fractions import Fraction
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import skops.io
from click.testing import CliRunner

from complaintkit import Bundle
from complaintkit.bundle import METADATA, PICKLED_HEAD_FILES, file_sha256
from complaintkit.cli import main
from complaintkit.exceptions import BundleError

TEXTS = ["I was charged twice this month", "The agent was rude to me"]


def write_format_1(bundle: Bundle, folder: Path) -> Path:
    """Write ``bundle`` the way complaintkit 0.1 did: joblib pickles and format_version 1."""
    folder.mkdir(parents=True)
    artifacts = {}
    for name, head in bundle.heads.items():
        joblib.dump(head, folder / PICKLED_HEAD_FILES[name], compress=3)
        artifacts[PICKLED_HEAD_FILES[name]] = file_sha256(folder / PICKLED_HEAD_FILES[name])
    metadata = {**bundle.metadata, "format_version": 1, "artifacts": artifacts}
    (folder / METADATA).write_text(json.dumps(metadata))
    return folder


def test_skops_bundle_loads_from_anywhere_without_trust(trained_bundle: Bundle, tmp_path: Path) -> None:
    assert sorted(trained_bundle.metadata["artifacts"]) == ["churn.skops", "label_issues.csv", "root_cause.skops"]
    assert trained_bundle.metadata["format_version"] == 2
    copy_path = shutil.copytree(trained_bundle.path, tmp_path / "elsewhere")
    loaded = Bundle.load(copy_path)
    assert np.allclose(loaded.root_cause.predict_proba(TEXTS), trained_bundle.root_cause.predict_proba(TEXTS))


def test_format_1_bundle_outside_the_models_folder_needs_trust(trained_bundle: Bundle, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPLAINTKIT_MODELS_DIR", str(tmp_path / "models"))
    old = write_format_1(trained_bundle, tmp_path / "downloads" / "old")
    with pytest.raises(BundleError, match=r"format 1 bundle \(pickled heads.*pass --trust"):
        Bundle.load(old)
    loaded = Bundle.load(old, trust=True)
    assert np.allclose(loaded.root_cause.predict_proba(TEXTS), trained_bundle.root_cause.predict_proba(TEXTS))
    rows = pd.DataFrame({"text": TEXTS, "tenure": [3, 40], "plan": ["basic", "plus"]})
    assert np.allclose(loaded.churn.predict_proba(rows), trained_bundle.churn.predict_proba(rows))


def test_format_1_bundle_inside_the_models_folder_still_needs_trust(trained_bundle: Bundle, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPLAINTKIT_MODELS_DIR", os.pathsep.join([str(tmp_path / "a"), str(tmp_path / "models")]))
    monkeypatch.chdir(tmp_path)
    for old in (write_format_1(trained_bundle, tmp_path / "models" / "old"),
                write_format_1(trained_bundle, Path("models") / "relative")):
        with pytest.raises(BundleError, match=r"format 1 bundle .*pass --trust"):
            Bundle.load(old)
        assert list(Bundle.load(old, trust=True).root_cause.classes_) == list(trained_bundle.root_cause.classes_)


def test_cli_trust_flag(trained_bundle: Bundle, tmp_path: Path, synthetic_csv: Path,
                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPLAINTKIT_MODELS_DIR", str(tmp_path / "models"))
    old = write_format_1(trained_bundle, tmp_path / "old")
    args = ["evaluate", "--model", str(old), "--data", str(synthetic_csv)]
    refused = CliRunner().invoke(main, args)
    assert refused.exit_code == 1 and "--trust" in refused.stderr and "Traceback" not in refused.output
    trusted = CliRunner().invoke(main, [*args, "--trust"])
    assert trusted.exit_code == 0, trusted.output
    assert "root cause: 24 rows" in trusted.stdout


def test_skops_head_with_an_unknown_type_is_refused(trained_bundle: Bundle, tmp_path: Path) -> None:
    folder = shutil.copytree(trained_bundle.path, tmp_path / "crafted")
    head = copy.deepcopy(trained_bundle.root_cause)
    head.surprise_ = Fraction(1, 3)
    skops.io.dump(head, folder / "root_cause.skops")
    metadata = json.loads((folder / METADATA).read_text())
    metadata["artifacts"]["root_cause.skops"] = file_sha256(folder / "root_cause.skops")
    (folder / METADATA).write_text(json.dumps(metadata))
    with pytest.raises(BundleError, match=r"holds types complaintkit does not trust: \['fractions.Fraction'\]"):
        Bundle.load(folder)
    assert Bundle.load(folder, trust=True).root_cause.surprise_ == Fraction(1, 3)


def test_damaged_skops_file_with_matching_hash_is_a_bundle_error(trained_bundle: Bundle, tmp_path: Path) -> None:
    folder = shutil.copytree(trained_bundle.path, tmp_path / "damaged")
    (folder / "churn.skops").write_bytes(b"not a zip file")
    metadata = json.loads((folder / METADATA).read_text())
    metadata["artifacts"]["churn.skops"] = file_sha256(folder / "churn.skops")
    (folder / METADATA).write_text(json.dumps(metadata))
    with pytest.raises(BundleError, match=r"cannot read bundle file .*churn.skops.*BadZipFile"):
        Bundle.load(folder)


def test_save_removes_staging_folders_of_killed_saves(trained_bundle: Bundle, tmp_path: Path) -> None:
    stale = tmp_path / ".b.staging-999999999-abc"  # no such process
    alive = tmp_path / f".b.staging-{os.getpid()}-xyz"  # a save still running in this process
    for folder in (stale, alive):
        folder.mkdir()
        (folder / "root_cause.skops").write_bytes(b"half")
    Bundle(metadata=dict(trained_bundle.metadata), root_cause=trained_bundle.root_cause).save(tmp_path / "b")
    assert not stale.exists() and alive.exists()
    assert Bundle.load(tmp_path / "b").churn is None
