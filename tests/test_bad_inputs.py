"""A catalogue of bad inputs, each run through the real CLI: `pytest -k bad_input`.

Every case either fails with exit code != 0 and ONE line `error: ...` naming what was
expected, what was found and the fix (no traceback), or, where a correct result is
possible, succeeds with that result.
"""

from __future__ import annotations

import errno
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result

from complaintkit import Bundle, TrainConfig, train
from complaintkit.cli import main
from complaintkit.exceptions import InputError


@dataclass
class Ctx:
    """What a case builder may use: a scratch folder, the trained bundle and the labelled rows."""

    tmp: Path
    bundle: Path
    frame: pd.DataFrame

    def csv(self, name: str = "in.csv", frame: pd.DataFrame | None = None, **kwargs: object) -> Path:
        path = self.tmp / name
        (self.frame if frame is None else frame).to_csv(path, index=False, **kwargs)
        return path

    def raw(self, name: str, data: bytes) -> Path:
        path = self.tmp / name
        path.write_bytes(data)
        return path

    def bundle_copy(self) -> Path:
        copy = self.tmp / "models" / "copy"
        shutil.copytree(self.bundle, copy)
        return copy

    def score(self, source: Path, *extra: str) -> list[str]:
        return ["score", "--model", str(self.bundle), "--input", str(source),
                "--output", str(self.tmp / "out.csv"), *extra]

    def train(self, source: Path, *extra: str) -> list[str]:
        return ["train", "--data", str(source), "--out", str(self.tmp / "models" / "new"),
                "--root-cause-head", "standard", *extra]


@dataclass
class Case:
    """A bad input: how to build the command line, and what the run must answer."""

    id: str
    args: Callable[[Ctx], list[str]]
    expect: tuple[str, ...] = ()  # substrings of the one-line error (or of stdout on success)
    exit_code: int = 1
    check: Callable[[Ctx, Result], None] | None = field(default=None)


def _frame_with(ctx: Ctx, **columns: object) -> pd.DataFrame:
    return ctx.frame.assign(**columns)


def _scored_rows(ctx: Ctx) -> pd.DataFrame:
    return pd.read_csv(ctx.tmp / "out.csv")


def _all_rows_scored(ctx: Ctx, result: Result) -> None:
    out = _scored_rows(ctx)
    assert len(out) == len(ctx.frame)
    assert out["row_number"].tolist() == list(range(len(ctx.frame)))
    assert out["root_cause"].notna().all()


def _no_output(ctx: Ctx, result: Result) -> None:
    assert not (ctx.tmp / "out.csv").exists()
    assert not (ctx.tmp / "models" / "new").exists()


def _latin1(ctx: Ctx) -> Path:
    frame = _frame_with(ctx, text=ctx.frame["text"] + " café crème")
    return ctx.raw("latin1.csv", frame.to_csv(index=False).encode("latin-1"))


def _parquet(ctx: Ctx) -> bytes:
    path = ctx.tmp / "good.parquet"
    pq.write_table(pa.Table.from_pandas(ctx.frame, preserve_index=False), path)
    return path.read_bytes()


def _edit_metadata(ctx: Ctx, **changes: object) -> Path:
    copy = ctx.bundle_copy()
    meta = json.loads((copy / "metadata.json").read_text())
    meta.update(changes)
    (copy / "metadata.json").write_text(json.dumps(meta))
    return copy


def _tampered(ctx: Ctx) -> Path:
    copy = ctx.bundle_copy()
    with open(copy / "root_cause.skops", "ab") as handle:
        handle.write(b"\0")
    return copy


def _without(ctx: Ctx, name: str) -> Path:
    copy = ctx.bundle_copy()
    (copy / name).unlink()
    return copy


def _evaluate(ctx: Ctx, bundle: Path, *extra: str) -> list[str]:
    return ["evaluate", "--model", str(bundle), "--data", str(ctx.csv()), *extra]


def _unseen_labels(ctx: Ctx, result: Result) -> None:
    metrics = json.loads((ctx.tmp / "metrics.json").read_text())["root_cause"]
    assert metrics["unseen_labels"] == ["brand_new_cause"]
    assert metrics["rows"] == len(ctx.frame)


def _one_mb_text(ctx: Ctx, result: Result) -> None:
    out = _scored_rows(ctx)
    rejects = pd.read_csv(ctx.tmp / "out.rejects.csv")
    assert len(out) + len(rejects) == len(ctx.frame)
    assert rejects[["row_number", "reject_reason"]].values.tolist() == [[0, "text_too_long"]]


def _duplicated_ids(ctx: Ctx, result: Result) -> None:
    out = _scored_rows(ctx)
    assert len(out) == len(ctx.frame)
    assert (out["id"] == "dup").sum() == 2
    assert out["row_number"].is_unique


def _embedded_newlines(ctx: Ctx, result: Result) -> None:
    out = _scored_rows(ctx)
    assert len(out) == len(ctx.frame)
    assert "\n" in out.loc[0, "text"]


def _bom(ctx: Ctx, result: Result) -> None:
    _all_rows_scored(ctx, result)
    assert "id" in _scored_rows(ctx).columns


def _existing_output(ctx: Ctx) -> list[str]:
    (ctx.tmp / "out.csv").write_text("keep me\n")
    return ctx.score(ctx.csv())


def _existing_bundle(ctx: Ctx) -> list[str]:
    (ctx.tmp / "models" / "new").mkdir(parents=True)
    return ctx.train(ctx.csv(), "--label-col", "cause")


def _broken_metadata(ctx: Ctx) -> Path:
    copy = ctx.bundle_copy()
    (copy / "metadata.json").write_text('{"format_version": 2,')
    return copy


def _still_exists(ctx: Ctx, result: Result) -> None:
    assert (ctx.tmp / "out.csv").read_text() == "keep me\n"


CASES = [
    # --- files that cannot be read as a table
    Case("missing_file", lambda c: c.score(c.tmp / "nope.csv"), ("nope.csv", "does not exist", "check the path")),
    Case("missing_file_at_train", lambda c: c.train(c.tmp / "nope.csv", "--label-col", "cause"),
         ("does not exist", "check the path")),
    Case("unknown_format", lambda c: c.score(c.raw("in.xlsx", b"PK\x03\x04")),
         ("cannot tell the format", "'.xlsx'", "rename the file or convert it")),
    Case("empty_file", lambda c: c.score(c.raw("in.csv", b"")), ("is empty (0 bytes)", "header row")),
    Case("header_only", lambda c: c.score(c.raw("in.csv", b"id,text\n")), ("header but no rows",), check=_no_output),
    Case("header_only_at_train", lambda c: c.train(c.raw("in.csv", b"text,cause\n"), "--label-col", "cause"),
         ("header but no rows", "at least one row"), check=_no_output),
    # score reads with errors="replace": undecodable rows are rejected (exit code 3 by default).
    Case("non_utf8_bytes", lambda c: c.score(_latin1(c)), ("undecodable_bytes",), exit_code=3),
    Case("binary_garbage", lambda c: c.score(c.raw("in.csv", bytes(range(256)) * 40)),
         ("the text column 'text' is not in the table", "--text-col")),
    Case("binary_garbage_as_parquet", lambda c: c.score(c.raw("in.parquet", b"\x00\xffgarbage" * 100)),
         ("cannot read", "as parquet", "valid parquet table")),
    Case("corrupted_parquet", lambda c: c.score(c.raw("in.parquet", _parquet(c)[:-200])),
         ("cannot read", "as parquet")),
    Case("parquet_folder_without_files", lambda c: c.score((c.tmp / "empty_dir").resolve()),
         ("holds no .parquet files",)),
    Case("jsonl_with_a_broken_line",
         lambda c: c.score(c.raw("in.jsonl", b'{"text": "fine", "tenure": 3, "plan": "basic"}\n{"text": "broken\n')),
         ("ok 1, rejected 1", "malformed_row:bad_json"), exit_code=3),
    Case("ragged_csv_row",
         lambda c: c.score(c.raw("in.csv", b"id,text,tenure,plan\n1,fine,3,basic\n2,too,many,fields,3,basic\n")),
         ("ok 1, rejected 1", "malformed_row:too_many_fields"), exit_code=3),
    Case("missing_churn_column", lambda c: c.score(c.raw("in.csv", b"id,text,plan\n1,my bill is wrong,basic\n")),
         ("churn head needs the column 'tenure'", "add it")),
    Case("unknown_encoding", lambda c: c.score(c.csv(), "--encoding", "klingon"),
         ("unknown text encoding 'klingon'", "latin-1")),
    # --- tables that can be read but miss what the command needs
    Case("missing_text_column", lambda c: c.score(c.csv(frame=c.frame.rename(columns={"text": "texts"}))),
         ("text column 'text' is not in the table", "'texts'", "did you mean 'texts'", "--text-col")),
    Case("missing_label_column", lambda c: c.train(c.csv(), "--label-col", "caus"),
         ("label column 'caus'", "found columns", "did you mean 'cause'", "--label-col"), check=_no_output),
    Case("missing_id_column", lambda c: c.score(c.csv(), "--id-col", "ids"),
         ("id column 'ids'", "did you mean 'id'", "--id-col"), check=_no_output),
    Case("text_column_all_empty", lambda c: c.train(c.csv(frame=_frame_with(c, text="")), "--label-col", "cause"),
         ("empty in every row", "--text-col"), check=_no_output),
    Case("labels_all_empty", lambda c: c.train(c.csv(frame=_frame_with(c, cause="")), "--label-col", "cause"),
         ("label column 'cause' is empty in every training row",), check=_no_output),
    Case("single_class", lambda c: c.train(c.csv(frame=_frame_with(c, cause="billing")), "--label-col", "cause"),
         ("single class ['billing']", "at least two"), check=_no_output),
    Case("class_with_one_example",
         lambda c: c.train(c.csv(frame=_frame_with(c, cause=["lonely"] + c.frame["cause"].tolist()[1:])),
                           "--label-col", "cause"),
         ("single example: ['lonely']", "at least 2 training rows"), check=_no_output),
    Case("outcome_not_binary",
         lambda c: c.train(c.csv(frame=_frame_with(c, churned=["maybe"] + c.frame["churned"].tolist()[1:])),
                           "--churn-col", "churned"),
         ("outcome column 'churned' must hold 0/1, yes/no or true/false", "found 'maybe' in 1 rows"),
         check=_no_output),
    Case("outcome_not_binary_at_evaluate",
         lambda c: ["evaluate", "--model", str(c.bundle), "--data",
                    str(c.csv(frame=_frame_with(c, churned="perhaps")))],
         ("must hold 0/1", "'perhaps'")),
    Case("split_value_absent", lambda c: c.train(c.csv(), "--label-col", "cause", "--split-col", "split",
                                                 "--train-split", "fit"),
         ("no rows have split == 'fit'", "['test', 'train']"), check=_no_output),
    Case("nothing_to_train", lambda c: c.train(c.csv()), ("nothing to train", "--label-col", "--churn-col")),
    Case("nothing_to_evaluate", lambda c: _evaluate(c, c.bundle, "--label-col", "x", "--churn-col", "y"),
         ("nothing to evaluate", "'x'", "'y'")),
    Case("review_precision_out_of_range", lambda c: c.train(c.csv(), "--label-col", "cause",
                                                            "--review-precision", "1.5"),
         ("review precision must be between 0 and 1", "1.5")),
    Case("report_of_an_unscored_table",
         lambda c: ["report", "--scored", str(c.csv()), "--out", str(c.tmp / "r.html")],
         ("predicted root cause column 'root_cause' is not in the table", "found columns")),
    Case("embedding_model_path_missing",
         lambda c: c.train(c.csv(), "--label-col", "cause", "--embedding-model", str(c.tmp / "no-model")),
         ("is neither a model folder nor a known name", "models available offline", "all-MiniLM-L6-v2"),
         check=_no_output),
    # --- inputs with a correct answer: the run succeeds and loses no row
    Case("utf8_bom", lambda c: c.score(c.raw("in.csv", c.frame.to_csv(index=False).encode("utf-8-sig"))),
         exit_code=0, check=_bom),
    Case("non_utf8_with_encoding_option", lambda c: c.score(_latin1(c), "--encoding", "latin-1"),
         exit_code=0, check=_all_rows_scored),
    Case("semicolon_delimiter", lambda c: c.score(c.csv(sep=";")), exit_code=0, check=_all_rows_scored),
    Case("quoted_fields_with_embedded_newlines",
         lambda c: c.score(c.csv(frame=_frame_with(c, text=c.frame["text"] + ',\n"quoted" second line'))),
         exit_code=0, check=_embedded_newlines),
    Case("one_megabyte_text",
         lambda c: c.score(c.csv(frame=_frame_with(c, text=["word " * 200_000] + c.frame["text"].tolist()[1:]))),
         ("rejected 1", "text_too_long"), exit_code=3, check=_one_mb_text),
    Case("duplicated_ids",
         lambda c: c.score(c.csv(frame=_frame_with(c, id=["dup", "dup"] + c.frame["id"].tolist()[2:])),
                           "--id-col", "id"),
         exit_code=0, check=_duplicated_ids),
    Case("labels_the_model_never_saw",
         lambda c: ["evaluate", "--model", str(c.bundle), "--data",
                    str(c.csv(frame=_frame_with(c, cause=["brand_new_cause"] + c.frame["cause"].tolist()[1:]))),
                    "--output", str(c.tmp / "metrics.json")],
         ("root cause: 24 rows",), exit_code=0, check=_unseen_labels),
    # --- outputs
    Case("output_path_exists", lambda c: _existing_output(c), ("already exists", "--overwrite"), check=_still_exists),
    Case("bundle_folder_exists", lambda c: _existing_bundle(c), ("already exists", "--overwrite")),
    Case("output_folder_is_a_file",
         lambda c: c.score(c.csv())[:-1] + [str(c.raw("plain.txt", b"x") / "out.csv")],
         ("cannot create the output folder", "plain.txt", "choose another output path")),
    Case("output_is_a_folder", lambda c: c.score(c.csv())[:-1] + [str(c.tmp)] + ["--overwrite"],
         ("is a folder", "expected a file path")),
    # --- bundles
    Case("bundle_missing", lambda c: c.score(c.csv())[:2] + [str(c.tmp / "nothing")] + c.score(c.csv())[3:],
         ("does not exist", "complaintkit train")),
    Case("bundle_not_a_bundle", lambda c: ["score", "--model", str(c.tmp), "--input", "x.csv", "--output", "y.csv"],
         ("not a complaintkit bundle", "metadata.json is missing")),
    Case("bundle_with_a_missing_file",
         lambda c: _evaluate(c, _without(c, "churn.skops")), ("is missing churn.skops", "re-train")),
    Case("bundle_file_modified", lambda c: _evaluate(c, _tampered(c)),
         ("root_cause.skops' was modified", "SHA-256", "Refusing to load")),
    Case("bundle_metadata_not_json",
         lambda c: _evaluate(c, _broken_metadata(c)), ("is not valid JSON",)),
    Case("bundle_from_a_newer_complaintkit",
         lambda c: _evaluate(c, _edit_metadata(c, format_version=99, versions={"complaintkit": "9.0.0"})),
         ("format version 99", "reads 1 to 2", "Upgrade complaintkit", "9.0.0")),
    # --- the command line itself
    Case("unknown_cli_option", lambda c: c.score(c.csv(), "--chunksize", "10"),
         ("No such option '--chunksize'", "Did you mean '--chunk-size'"), exit_code=2),
    Case("chunk_size_zero", lambda c: c.score(c.csv(), "--chunk-size", "0"), ("--chunk-size", ">=1"), exit_code=2),
    Case("unknown_redaction_kind", lambda c: c.train(c.csv(), "--label-col", "cause", "--redact-kind", "names"),
         ("--redact-kind", "'names' is not one of"), exit_code=2),
]


@pytest.fixture
def ctx(tmp_path: Path, trained_bundle: Bundle, synthetic_frame: pd.DataFrame) -> Ctx:
    (tmp_path / "empty_dir").mkdir()
    return Ctx(tmp=tmp_path, bundle=trained_bundle.path, frame=synthetic_frame)


def assert_one_line_error(result: Result, expect: tuple[str, ...], exit_code: int) -> None:
    """Exit code as expected, the message holds every ``expect`` string, and no traceback."""
    output = result.output
    assert result.exit_code == exit_code, output
    assert "Traceback" not in output, output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    if exit_code == 1:
        errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1 and result.stderr.strip() == errors[0], result.stderr
    for text in expect:
        assert text in output, f"{text!r} not in {output!r}"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, ctx: Ctx) -> None:
    result = CliRunner().invoke(main, case.args(ctx))
    assert_one_line_error(result, case.expect, case.exit_code)
    if case.check:
        case.check(ctx, result)


def test_bad_input_catalogue_has_at_least_25_distinct_cases() -> None:
    ids = [c.id for c in CASES]
    assert len(set(ids)) == len(ids) >= 25


@pytest.fixture
def disk_full(monkeypatch: pytest.MonkeyPatch) -> Callable[[object, str], None]:
    """Make ``owner.name`` write half its output, then fail with ENOSPC like a full disk."""

    def patch(owner: object, name: str, path_arg: int = 1) -> None:
        def write_then_fail(*args: object, **kwargs: object) -> None:
            target = args[path_arg]
            with open(target, "wb") as handle:
                handle.write(b"half written")
            raise OSError(errno.ENOSPC, "No space left on device", str(target))

        monkeypatch.setattr(owner, name, write_then_fail)

    return patch


def test_bad_input_disk_full_while_writing_a_report(ctx: Ctx, disk_full: Callable) -> None:
    scored = ctx.frame.assign(root_cause=ctx.frame["cause"], root_cause_proba=0.9)
    disk_full(pd.DataFrame, "to_csv")
    out = ctx.tmp / "report.csv"
    result = CliRunner().invoke(main, ["report", "--scored", str(ctx.raw("s.jsonl", scored.to_json(
        orient="records", lines=True).encode())), "--out", str(out), "--format", "csv"])
    assert_one_line_error(result, ("No space left on device", "[ENOSPC]", "free some space"), 1)
    assert sorted(p.name for p in ctx.tmp.iterdir()) == ["empty_dir", "s.jsonl"]


def test_bad_input_disk_full_while_scoring(ctx: Ctx, disk_full: Callable) -> None:
    disk_full(pq, "write_table")
    result = CliRunner().invoke(main, ctx.score(ctx.csv()))
    assert_one_line_error(result, ("No space left on device", "[ENOSPC]"), 1)
    assert not (ctx.tmp / "out.csv").exists()


def test_bad_input_disk_full_while_saving_a_bundle(ctx: Ctx, disk_full: Callable, trained_bundle: Bundle) -> None:
    import complaintkit.bundle

    disk_full(complaintkit.bundle, "dump_head")
    target = ctx.tmp / "models" / "full"
    with pytest.raises(OSError, match="No space left"):
        Bundle(metadata=dict(trained_bundle.metadata), root_cause=trained_bundle.root_cause).save(target)
    assert list((ctx.tmp / "models").iterdir()) == []


def test_bad_input_some_empty_labels_are_counted_and_logged(synthetic_frame: pd.DataFrame,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    frame = synthetic_frame.assign(cause=[None, " "] + synthetic_frame["cause"].tolist()[2:])
    bundle = train(frame, TrainConfig(label_col="cause", review_precision=None, root_cause_head="standard"))
    assert bundle.metadata["training_data"]["dropped"]["empty_label"] == 2
    assert bundle.metadata["training_data"]["rows_used"] == len(frame)
    assert "rows left out of training" in caplog.text and "'empty_label': 2" in caplog.text


def test_bad_input_unknown_redaction_kind_in_python() -> None:
    with pytest.raises(InputError, match=r"unknown redaction kinds \['names'\]; expected some of"):
        TrainConfig(label_col="cause", redact=("names",))
