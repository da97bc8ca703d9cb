"""CSV/TSV outputs are safe to open in a spreadsheet: formula cells get a leading apostrophe."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from complaintkit.cli import main
from complaintkit.io import neutralise_formula, read_table, write_table
from complaintkit.io.spreadsheet import neutralise_frame

FORMULAS = ["=HYPERLINK(\"http://x\")", "+SUM(1)", "-1+1", "@cmd", "\tfoo", "\rbar"]


@pytest.mark.parametrize("cell", FORMULAS)
def test_every_formula_start_is_neutralised(cell: str) -> None:
    assert neutralise_formula(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["-12.50", "+3", "1e5", "billing", "'=already", "", None, 5, -1.5])
def test_numbers_plain_text_and_other_values_are_left_alone(cell: object) -> None:
    assert neutralise_formula(cell) == cell or (cell is None and neutralise_formula(cell) is None)


def test_frames_keep_their_types_and_are_not_changed_in_place() -> None:
    frame = pd.DataFrame({"text": ["=1+1", "ok"], "amount": [-1.5, 2.0],
                          "id": pd.array(["@x", "-7"], dtype="string")})
    safe = neutralise_frame(frame)
    assert safe["text"].tolist() == ["'=1+1", "ok"] and safe["id"].tolist() == ["'@x", "-7"]
    assert safe["amount"].tolist() == [-1.5, 2.0] and frame["text"][0] == "=1+1"
    assert neutralise_frame(frame, "keep") is frame
    with pytest.raises(ValueError, match="formulas must be one of"):
        neutralise_frame(frame, "drop")


def test_write_table_neutralises_csv_and_tsv_but_not_parquet(tmp_path: Path) -> None:
    frame = pd.DataFrame({"text": FORMULAS})
    for fmt in ("csv", "tsv"):
        write_table(frame, tmp_path / f"t.{fmt}")
        assert read_table(tmp_path / f"t.{fmt}")["text"].str.startswith("'").all()
    write_table(frame, tmp_path / "t.parquet")
    assert read_table(tmp_path / "t.parquet")["text"].tolist() == FORMULAS


@pytest.mark.parametrize("policy", ["neutralise", "keep"])
def test_score_csv_output_and_rejects_follow_csv_formulas(tmp_path: Path, trained_bundle, policy: str) -> None:
    data = pd.DataFrame({"id": ["-1+1", "2", "3"], "text": ["=cmd|' /C calc'!A0 my bill is wrong", "@SUM(1) outage",
                                                           "  "], "tenure": ["-3", "5", "1"], "plan": ["+x", "a", "b"]})
    data.to_csv(tmp_path / "in.csv", index=False)
    result = CliRunner().invoke(main, ["score", "--model", str(trained_bundle.path), "--input",
                                       str(tmp_path / "in.csv"), "--output", str(tmp_path / "out.csv"),
                                       "--csv-formulas", policy, "--reject-exit-code", "0"])
    assert result.exit_code == 0, result.output
    scored = pd.read_csv(tmp_path / "out.csv", dtype=str)
    rejects = pd.read_csv(tmp_path / "out.rejects.csv", dtype=str)
    expected = ["'=cmd|' /C calc'!A0 my bill is wrong", "'@SUM(1) outage"] if policy == "neutralise" else \
        data["text"][:2].tolist()
    assert scored["text"].tolist() == expected
    assert scored["id"].tolist() == (["'-1+1", "2"] if policy == "neutralise" else ["-1+1", "2"])
    assert scored["tenure"].tolist() == ["-3", "5"]  # a number is not a formula
    assert rejects["id"].tolist() == ["3"] and len(scored) + len(rejects) == 3
