"""One CLI vocabulary: --input/--output everywhere (old names hidden but working), examples in every
--help, logging options after the subcommand, `predict` and `--input -` (stdin)."""

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from complaintkit.cli import main

COMMANDS = main.list_commands(None)


@pytest.fixture(scope="module")
def bundle_dir(tmp_path_factory: pytest.TempPathFactory, synthetic_csv: Path) -> Path:
    out = tmp_path_factory.mktemp("vocabulary") / "model"
    result = CliRunner().invoke(main, ["train", "--input", str(synthetic_csv), "--label-col", "cause",
                                       "--id-col", "id", "--model", str(out), "-q"])
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.parametrize("command", COMMANDS)
def test_every_help_has_an_example_and_no_old_option_names(command: str) -> None:
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    assert "Examples:" in result.output and f"complaintkit {command}" in result.output.replace("build-", "build-")
    for old in ("--data ", "--scored ", "--out "):
        assert old not in result.output, f"{command} --help shows {old.strip()}"


@pytest.mark.parametrize("command", [c for c in COMMANDS if c != "build-multilingual"])
def test_logging_options_after_the_subcommand(command: str) -> None:
    for option in ("-q", "--quiet", "-v", "--log-level"):
        assert option in CliRunner().invoke(main, [command, "--help"]).output


def test_score_help_lists_the_output_columns() -> None:
    output = CliRunner().invoke(main, ["score", "--help"]).output
    for column in ("root_cause_proba", "needs_review", "churn_proba", "similar_1_id", "row_number"):
        assert column in output


def test_old_option_names_still_work(bundle_dir: Path, synthetic_csv: Path, tmp_path: Path) -> None:
    scored = tmp_path / "scored.csv"
    result = CliRunner().invoke(main, ["score", "--model", str(bundle_dir), "--input", str(synthetic_csv),
                                       "--out", str(scored), "-q"])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(main, ["report", "--scored", str(scored), "--out", str(tmp_path / "r.md"),
                                       "--format", "md"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "r.md").read_text().strip()


def test_missing_input_names_the_new_option(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["report", "--output", str(tmp_path / "r.html")])
    assert result.exit_code == 2 and "'--input'" in result.output and "--scored" not in result.output


def test_predict_prints_a_table_and_json(bundle_dir: Path) -> None:
    texts = ["I was charged twice for the same order", "the parcel never arrived"]
    result = CliRunner().invoke(main, ["predict", "--model", str(bundle_dir), *texts])
    assert result.exit_code == 0, result.output
    assert "root_cause" in result.output and "charged twice" in result.output
    result = CliRunner().invoke(main, ["predict", "--model", str(bundle_dir), "--json", *texts, "-q"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["text"] for r in rows] == texts
    assert all(0 <= r["root_cause_proba"] <= 1 and isinstance(r["needs_review"], bool) for r in rows)


def test_predict_needs_texts(bundle_dir: Path) -> None:
    result = CliRunner().invoke(main, ["predict", "--model", str(bundle_dir)])
    assert result.exit_code == 2 and "--input -" in result.output


def test_score_stdin_keeps_every_line_and_the_ids(bundle_dir: Path) -> None:
    lines = ['{"ticket": "a1", "text": "charged twice on my card"}', "my parcel is lost", "",
             '{"ticket": "a4", "text": "   "}']
    result = CliRunner().invoke(main, ["score", "--model", str(bundle_dir), "--input", "-", "-q"],
                                input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 4
    assert rows[0]["ticket"] == "a1" and rows[0]["root_cause"] and rows[1]["text"] == "my parcel is lost"
    assert rows[2]["root_cause"] is None and rows[2]["reject_reason"] == "empty_text"
    assert rows[3]["reject_reason"] == "empty_text" and rows[0]["reject_reason"] is None


def test_score_stdin_refuses_an_output_file(bundle_dir: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["score", "--model", str(bundle_dir), "--input", "-",
                                       "--output", str(tmp_path / "x.csv")], input="text\n")
    assert result.exit_code == 2 and "stdout" in result.output
    assert not (tmp_path / "x.csv").exists()


def test_explanations_name_training_examples_by_the_id_column(bundle_dir: Path, synthetic_csv: Path,
                                                              tmp_path: Path) -> None:
    scored = tmp_path / "scored.csv"
    result = CliRunner().invoke(main, ["score", "--model", str(bundle_dir), "--input", str(synthetic_csv),
                                       "--output", str(scored), "--explain", "-q"])
    assert result.exit_code == 0, result.output
    ids = set(pd.read_csv(synthetic_csv)["id"])
    assert set(pd.read_csv(scored)["similar_1_id"]) <= ids


def test_row_totals_for_progress(tmp_path: Path) -> None:
    from complaintkit.io import estimate_rows

    frame = pd.DataFrame({"text": ["a", "b", "c"]})
    frame.to_parquet(tmp_path / "t.parquet")
    (tmp_path / "t.jsonl").write_text('{"text": "a"}\n\n{"text": "b"}\n{"text": "c"}')
    frame.to_csv(tmp_path / "t.csv", index=False)
    assert [estimate_rows(tmp_path / f"t.{ext}") for ext in ("parquet", "jsonl", "csv")] == [3, 3, 3]
    assert estimate_rows(tmp_path / "missing.csv") is None


def test_row_totals_count_quoted_line_breaks_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import complaintkit.io.row_count as row_count
    from complaintkit.io import estimate_rows

    frame = pd.DataFrame({"id": range(200), "text": ['My "card"\nwas charged\r\ntwice,\n\nthen again'] * 200})
    frame.to_csv(tmp_path / "t.csv", index=False)
    frame.to_csv(tmp_path / "t.tsv", index=False, sep="\t", lineterminator="\r\n")
    monkeypatch.setattr(row_count, "_BLOCK", 7)  # quotes open in one block and close in the next
    assert [estimate_rows(tmp_path / f"t.{ext}") for ext in ("csv", "tsv")] == [200, 200]
    monkeypatch.setattr(row_count, "_EXACT_BYTES", (tmp_path / "t.csv").stat().st_size // 2)
    assert abs(estimate_rows(tmp_path / "t.csv") - 200) <= 5  # the rest of a large file is extrapolated


@pytest.mark.parametrize(("args", "level"), [(["-q"], "WARNING"), (["--log-level", "error"], "ERROR"),
                                             (["-v"], "DEBUG"), ([], "INFO")])
def test_log_level_options_after_the_subcommand(args: list[str], level: str, tmp_path: Path) -> None:
    import logging

    CliRunner().invoke(main, ["report", "--input", str(tmp_path / "missing.csv"), "--output", "x.html", *args])
    assert logging.getLogger("complaintkit").level == getattr(logging, level)


def test_score_stdin_refuses_file_only_options(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["score", "--model", str(tmp_path / "no-model"), "--input", "-",
                                       "--customer-col", "customer", "--resume"], input="text\n")
    assert result.exit_code == 2 and "--customer-col, --resume work on files" in result.output
