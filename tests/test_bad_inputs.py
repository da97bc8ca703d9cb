"""A catalogue of bad inputs, each run through the real CLI: `pytest -k bad_input`.

Every case either fails with exit code != 0 and ONE line `error: ...` naming what was
expected, what was found and the fix (no traceback), or, where a correct result is
possible, succeeds with that result.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
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
from complaintkit.io import OutputLock


@dataclass
class Ctx:
    """What a case builder may use: a scratch folder, the trained bundle and the labelled rows."""

    tmp: Path
    bundle: Path
    frame: pd.DataFrame
    held: list = field(default_factory=list)  # locks held while the case runs

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


# --- the user's files: outputs never collide with inputs, nothing is replaced without --overwrite
KEEP = "keep me\n"


def _keep(ctx: Ctx, name: str) -> Path:
    path = ctx.tmp / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(KEEP)
    return path


def _kept(*names: str) -> Callable[[Ctx, Result], None]:
    def check(ctx: Ctx, result: Result) -> None:
        for name in names:
            assert (ctx.tmp / name).read_text() == KEEP, name
    return check


def _input_intact(ctx: Ctx, result: Result) -> None:
    assert (ctx.tmp / "in.csv").read_text() == ctx.frame.to_csv(index=False)
    assert not [p.name for p in ctx.tmp.iterdir() if p.name.startswith(".")], "left-overs"


def _link(ctx: Ctx, name: str, target: Path, hard: bool = False) -> Path:
    path = ctx.tmp / name
    (os.link if hard else os.symlink)(target, path)
    return path


def _fifo(ctx: Ctx, name: str) -> Path:
    path = ctx.tmp / name
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    return path


def _score_to(ctx: Ctx, output: Path, *extra: str, source: Path | None = None) -> list[str]:
    return ["score", "--model", str(ctx.bundle), "--input", str(source or ctx.csv()), "--output", str(output),
            *extra]


def _locked_output(ctx: Ctx) -> list[str]:
    ctx.held.append(OutputLock(ctx.tmp / "out.csv").acquire())
    return ctx.score(ctx.csv())


def _scored(ctx: Ctx, name: str = "scored.csv", **columns: object) -> Path:
    frame = ctx.frame.assign(**{"root_cause": ctx.frame["cause"], "root_cause_proba": 0.9, **columns})
    return ctx.csv(name, frame=frame)


def _report(ctx: Ctx, scored: Path, out: Path, *extra: str) -> list[str]:
    return ["report", "--scored", str(scored), "--out", str(out), *extra]


def _causes(*names: str) -> Callable[[Ctx], list[object]]:
    return lambda ctx: [names[i % len(names)] for i in range(len(ctx.frame))]


def _bundle_marked_folder(ctx: Ctx) -> list[str]:
    folder = ctx.tmp / "models" / "new"
    folder.mkdir(parents=True)
    (folder / "metadata.json").write_text("{}")
    data = ctx.csv("models/new/in.csv")
    return ["train", "--data", str(data), "--label-col", "cause", "--out", str(folder), "--overwrite"]


def _artifact_swapped(ctx: Ctx, make: Callable[[Path], None]) -> Path:
    copy = ctx.bundle_copy()
    (copy / "churn.skops").unlink()
    make(copy / "churn.skops")
    return copy


def _symlink_out(ctx: Ctx) -> Path:
    outside = ctx.raw("outside.skops", (ctx.bundle / "churn.skops").read_bytes())
    return _artifact_swapped(ctx, lambda p: p.symlink_to(outside))


def _metadata_text(ctx: Ctx, text: str) -> Path:
    copy = ctx.bundle_copy()
    (copy / "metadata.json").write_text(text)
    return copy


def _metadata_folder(ctx: Ctx) -> Path:
    copy = ctx.bundle_copy()
    (copy / "metadata.json").unlink()
    (copy / "metadata.json").mkdir()
    return copy


def _fifo_metadata(ctx: Ctx) -> Path:
    copy = ctx.bundle_copy()
    (copy / "metadata.json").unlink()
    os.mkfifo(copy / "metadata.json")
    return copy


def _with_artifacts(ctx: Ctx, artifacts: object) -> Path:
    return _edit_metadata(ctx, artifacts=artifacts)


def _parquet_folder(ctx: Ctx, second: pd.DataFrame, fifo: bool = False) -> Path:
    folder = ctx.tmp / "parts"
    folder.mkdir()
    pq.write_table(pa.Table.from_pandas(ctx.frame, preserve_index=False), folder / "a.parquet")
    if fifo:
        os.mkfifo(folder / "b.parquet")
    else:
        pq.write_table(pa.Table.from_pandas(second, preserve_index=False), folder / "b.parquet")
    return folder


def _jsonl(ctx: Ctx, records: list[dict]) -> Path:
    return ctx.raw("in.jsonl", "".join(json.dumps(r) + "\n" for r in records).encode())


def _rows(ctx: Ctx, **values: object) -> list[dict]:
    rows = ctx.frame[["id", "text", "tenure", "plan"]].to_dict(orient="records")
    for key, column in values.items():
        for row, value in zip(rows, column, strict=False):
            row[key] = value
    return rows


BIG_IDS = [9007199254740993, None, 1.5, 18446744073709551617]


def _ids_kept(ctx: Ctx, result: Result) -> None:
    out = pd.read_csv(ctx.tmp / "out.csv", dtype=str, keep_default_na=False)
    assert len(out) == len(ctx.frame)
    assert out["id"].tolist()[:4] == ["9007199254740993", "", "1.5", "18446744073709551617"]


def _big_ids_kept(ctx: Ctx, result: Result) -> None:
    out = pd.read_csv(ctx.tmp / "out.csv", dtype=str, keep_default_na=False)
    assert out["id"].tolist()[:2] == ["9007199254740993", ""]


def _zero_width_rejected(ctx: Ctx, result: Result) -> None:
    rejects = pd.read_csv(ctx.tmp / "out.rejects.csv")
    assert rejects[["row_number", "reject_reason"]].values.tolist() == [[0, "empty_text"]]
    assert len(_scored_rows(ctx)) == len(ctx.frame) - 1


def _formulas_neutralised(ctx: Ctx, result: Result) -> None:
    causes = pd.read_csv(ctx.tmp / "r.csv", dtype=str)["cause"].tolist()
    assert sorted(causes) == sorted(["'=HYPERLINK(\"http://x\")", "'+1+1", "-2", "'@SUM(A1)"]), causes  # a number


def _html_escaped(ctx: Ctx, result: Result) -> None:
    text = (ctx.tmp / "r.md").read_text()
    assert "<script>" not in text and "&lt;script&gt;" in text and "<img" not in text


def _report_written(ctx: Ctx, result: Result) -> None:
    assert (ctx.tmp / "r.html").stat().st_size > 1000


def _metrics_written(ctx: Ctx, result: Result) -> None:
    assert json.loads((ctx.tmp / "metrics.json").read_text())["root_cause"]["rows"] == len(ctx.frame)


ZW = "\u200b\u200d\u2060\ufeff "

CASES += [
    # --- outputs that are inputs, or each other: refused whatever the flags
    Case("output_is_the_input", lambda c: _score_to(c, c.tmp / "in.csv", "--overwrite"),
         ("--output", "is the input --input", "choose another output path"), check=_input_intact),
    Case("output_is_a_symlink_to_the_input", lambda c: _score_to(c, _link(c, "o.csv", c.csv()), "--overwrite"),
         ("is the input --input",), check=_input_intact),
    Case("output_is_a_hard_link_to_the_input",
         lambda c: _score_to(c, _link(c, "o.csv", c.csv(), hard=True), "--overwrite"),
         ("is the input --input",), check=_input_intact),
    Case("rejects_is_the_input", lambda c: c.score(c.csv(), "--rejects", str(c.tmp / "in.csv"), "--overwrite"),
         ("--rejects", "is the input --input"), check=_input_intact),
    Case("rejects_is_the_output", lambda c: c.score(c.csv(), "--rejects", str(c.tmp / "out.csv")),
         ("--output and --rejects are the same file",), check=_no_output),
    Case("default_rejects_file_exists", lambda c: (_keep(c, "out.rejects.csv"), c.score(c.csv()))[1],
         ("out.rejects.csv", "already exists", "--overwrite"), check=_kept("out.rejects.csv")),
    Case("named_rejects_file_exists_and_nothing_is_rejected",
         lambda c: c.score(c.csv(), "--rejects", str(_keep(c, "mine.csv"))),
         ("mine.csv", "already exists"), check=_kept("mine.csv")),
    Case("output_inside_the_model_folder",
         lambda c: ["score", "--model", str(m := c.bundle_copy()), "--input", str(c.csv()), "--output",
                    str(m / "metadata.json"), "--overwrite"], ("is the input --model",)),
    Case("output_exists_with_overwrite", lambda c: (_keep(c, "out.csv"), c.score(c.csv(), "--overwrite"))[1],
         exit_code=0, check=_all_rows_scored),
    Case("output_locked_by_another_run", _locked_output,
         ("another complaintkit run is writing", "out.csv", "wait for it"), check=_no_output),
    Case("evaluate_output_is_the_data", lambda c: _evaluate(c, c.bundle, "--output", str(c.tmp / "in.csv"),
                                                            "--overwrite"),
         ("--output", "is the input --input"), check=_input_intact),
    Case("evaluate_output_exists", lambda c: _evaluate(c, c.bundle, "--output", str(_keep(c, "metrics.json"))),
         ("metrics.json", "already exists", "--overwrite"), check=_kept("metrics.json")),
    Case("evaluate_output_exists_with_overwrite",
         lambda c: _evaluate(c, c.bundle, "--output", str(_keep(c, "metrics.json")), "--overwrite"),
         ("wrote",), exit_code=0, check=_metrics_written),
    Case("evaluate_output_in_the_bundle",
         lambda c: _evaluate(c, m := c.bundle_copy(), "--output", str(m / "metadata.json"), "--overwrite"),
         ("is the input --model",)),
    Case("report_out_is_the_scored_table",
         lambda c: _report(c, s := _scored(c), s, "--format", "csv", "--overwrite"), ("is the input --input",)),
    Case("report_out_links_to_the_previous_table",
         lambda c: _report(c, _scored(c), _link(c, "r.csv", _scored(c, "prev.csv")), "--previous",
                           str(c.tmp / "prev.csv"), "--format", "csv", "--overwrite"),
         ("is the input --previous",)),
    Case("report_state_is_the_out_file",
         lambda c: _report(c, _scored(c), c.tmp / "r.json", "--state", str(c.tmp / "r.json"), "--format", "json"),
         ("--state and --output are the same file",)),
    Case("report_out_exists", lambda c: _report(c, _scored(c), _keep(c, "r.html")),
         ("already exists", "--overwrite"), check=_kept("r.html")),
    Case("train_out_is_not_a_bundle",
         lambda c: (_keep(c, "models/new/notes.txt"), c.train(c.csv(), "--label-col", "cause", "--overwrite"))[1],
         ("is not a complaintkit bundle", "--overwrite only replaces bundles"), check=_kept("models/new/notes.txt")),
    Case("train_out_is_a_file", lambda c: (_keep(c, "models/new"), c.train(c.csv(), "--label-col", "cause",
                                                                              "--overwrite"))[1],
         ("is not a complaintkit bundle",), check=_kept("models/new")),
    Case("train_out_is_the_current_folder",
         lambda c: ["train", "--data", str(c.csv()), "--label-col", "cause", "--out", ".", "--overwrite"],
         ("is the current folder", "name a new bundle folder")),
    Case("train_out_is_the_data", lambda c: ["train", "--data", str(c.csv()), "--label-col", "cause", "--out",
                                             str(c.tmp / "in.csv"), "--overwrite"],
         ("is the input --input",), check=_input_intact),
    Case("train_out_holds_the_data", _bundle_marked_folder, ("holds the input --input", "would delete the input")),
    Case("summary_json_is_the_input", lambda c: c.score(c.csv(), "--summary-json", str(c.tmp / "in.csv"),
                                                        "--overwrite"),
         ("--summary-json", "is the input --input"), check=_input_intact),
    Case("summary_json_exists", lambda c: c.score(c.csv(), "--summary-json", str(_keep(c, "summary.json"))),
         ("summary.json", "already exists"), check=_kept("summary.json")),
    Case("customers_output_is_the_input",
         lambda c: c.score(c.csv(), "--customer-col", "id", "--customers-output", str(c.tmp / "in.csv"), "--overwrite"),
         ("--customers-output", "is the input --input"), check=_input_intact),
    Case("suggest_out_is_the_data",
         lambda c: ["suggest", "--model", str(c.bundle), "--data", str(c.csv()), "--out", str(c.tmp / "in.csv"),
                    "--overwrite"], ("is the input --input",), check=_input_intact),
    # --- inputs that are not regular files: refused before they are opened (no hang)
    Case("input_is_a_fifo", lambda c: c.score(_fifo(c, "pipe.csv")), ("is a named pipe", "Save the data to a file")),
    Case("training_data_is_a_fifo", lambda c: c.train(_fifo(c, "pipe.csv"), "--label-col", "cause"),
         ("is a named pipe",)),
    Case("evaluation_data_is_a_fifo",
         lambda c: ["evaluate", "--model", str(c.bundle), "--data", str(_fifo(c, "pipe.csv"))], ("is a named pipe",)),
    Case("scored_table_is_a_fifo", lambda c: _report(c, _fifo(c, "pipe.csv"), c.tmp / "r.html"),
         ("is a named pipe",)),
    Case("previous_table_is_a_fifo",
         lambda c: _report(c, _scored(c), c.tmp / "r.html", "--previous", str(_fifo(c, "pipe.csv"))),
         ("is a named pipe",)),
    Case("taxonomy_is_a_fifo",
         lambda c: ["train", "--taxonomy", str(_fifo(c, "t.yaml")), "--out", str(c.tmp / "models" / "new")],
         ("is a named pipe",)),
    Case("input_is_a_device", lambda c: c.score(_link(c, "zero.csv", Path("/dev/zero"))), ("is a device",)),
    Case("input_is_dev_null", lambda c: c.score(_link(c, "null.csv", Path("/dev/null"))), ("is a device",)),
    Case("fifo_in_a_parquet_folder", lambda c: c.score(_parquet_folder(c, c.frame, fifo=True)),
         ("is a named pipe",)),
    Case("bundle_metadata_is_a_fifo", lambda c: _evaluate(c, _fifo_metadata(c)),
         ("not a complaintkit bundle", "missing or not a file")),
    Case("bundle_metadata_is_a_folder", lambda c: _evaluate(c, _metadata_folder(c)),
         ("missing or not a file",)),
    # --- bundles read only their own files, and metadata is checked before use
    Case("bundle_artifact_outside_the_folder",
         lambda c: _evaluate(c, _with_artifacts(c, {"../../in.csv": "0" * 64})),
         ("names the file '../../in.csv'", "Refusing to load")),
    Case("bundle_artifact_absolute_path", lambda c: _evaluate(c, _with_artifacts(c, {"/dev/zero": "0" * 64})),
         ("names the file '/dev/zero'",)),
    Case("bundle_artifact_symlink_out", lambda c: _evaluate(c, _symlink_out(c)), ("links outside the bundle",)),
    Case("bundle_artifact_is_a_fifo", lambda c: _evaluate(c, _artifact_swapped(c, os.mkfifo)),
         ("is not a regular file",)),
    Case("bundle_artifacts_not_an_object", lambda c: _evaluate(c, _with_artifacts(c, ["root_cause.skops"])),
         ("'artifacts' should be an object", "found list")),
    Case("bundle_artifact_hash_not_hex",
         lambda c: _evaluate(c, _with_artifacts(c, {"root_cause.skops": "xyz", "churn.skops": "0" * 64})),
         ("is not 64 hex digits",)),
    Case("bundle_metadata_is_a_list", lambda c: _evaluate(c, _metadata_text(c, "[1, 2]")), ("holds no JSON object",)),
    Case("bundle_metadata_deeply_nested", lambda c: _evaluate(c, _metadata_text(c, "[" * 100_000 + "]" * 100_000)),
         ("is not valid JSON",)),
    Case("bundle_format_version_true", lambda c: _evaluate(c, _edit_metadata(c, format_version=True)),
         ("'format_version' should be an integer",)),
    Case("bundle_format_version_text", lambda c: _evaluate(c, _edit_metadata(c, format_version="2")),
         ("'format_version' should be an integer", "found str")),
    Case("bundle_text_columns_not_a_list", lambda c: _evaluate(c, _edit_metadata(c, columns={"text": "text"})),
         ("'columns' should be",)),
    Case("bundle_review_threshold_text",
         lambda c: _evaluate(c, _edit_metadata(c, review={"threshold": "high"})), ("'review' should be",)),
    Case("bundle_review_threshold_out_of_range",
         lambda c: _evaluate(c, _edit_metadata(c, review={"threshold": 7})), ("number in [0, 1]",)),
    Case("bundle_versions_not_an_object", lambda c: _evaluate(c, _edit_metadata(c, versions=[1])),
         ("'versions' should be",)),
    Case("bundle_hierarchy_not_labels", lambda c: _evaluate(c, _edit_metadata(c, hierarchy={"a": 1})),
         ("'hierarchy' should be",)),
    Case("bundle_heads_not_an_object", lambda c: _evaluate(c, _edit_metadata(c, heads="x")),
         ("'heads' should be an object",)),
    Case("format_1_bundle_without_trust", lambda c: _evaluate(c, _edit_metadata(c, format_version=1)),
         ("format 1 bundle", "pass --trust", "re-train")),
    Case("report_model_with_broken_metadata",
         lambda c: _report(c, _scored(c), c.tmp / "r.html", "--model", str(_metadata_text(c, "{"))),
         ("is not valid JSON",)),
    Case("report_model_with_a_wrong_profile",
         lambda c: _report(c, _scored(c), c.tmp / "r.html", "--model",
                           str(_edit_metadata(c, training_profile=[1]))), ("'training_profile' should be",)),
    # --- text, encodings and formats
    Case("zero_width_only_text",
         lambda c: c.score(c.csv(frame=_frame_with(c, text=[ZW] + c.frame["text"].tolist()[1:]))),
         ("rejected 1", "empty_text"), exit_code=3, check=_zero_width_rejected),
    Case("utf16_without_encoding",
         lambda c: c.score(c.raw("in.csv", c.frame.to_csv(index=False).encode("utf-16"))),
         ("is UTF-16 text", "--encoding utf-16")),
    Case("utf16_with_encoding",
         lambda c: c.score(c.raw("in.csv", c.frame.to_csv(index=False).encode("utf-16")), "--encoding", "utf-16"),
         exit_code=0, check=_all_rows_scored),
    Case("utf16_without_bom", lambda c: c.score(c.raw("in.csv", c.frame.to_csv(index=False).encode("utf-16-le"))),
         ("is not UTF-8 text", "--encoding utf-16")),
    Case("xlsx_named_csv", lambda c: c.score(c.raw("in.csv", b"PK\x03\x04" + bytes(500))),
         ("is not a text CSV file", "Excel", "Export it as CSV")),
    Case("xls_named_csv", lambda c: c.score(c.raw("in.csv", b"\xd0\xcf\x11\xe0" + bytes(500))),
         ("is not a text CSV file", "old Excel")),
    Case("parquet_named_csv", lambda c: c.score(c.raw("in.csv", _parquet(c))), ("it is a Parquet file",)),
    Case("xlsx_named_jsonl", lambda c: c.score(c.raw("in.jsonl", b"PK\x03\x04" + bytes(500))),
         ("is not a text JSONL file",)),
    Case("duplicate_column_names", lambda c: c.score(c.raw("in.csv", b"id,text,text\n1,a,b\n")),
         ("duplicate column names ['text']", "rename them")),
    Case("duplicate_column_names_tsv", lambda c: c.score(c.raw("in.tsv", b"id\ttext\tid\n1\ta\t2\n")),
         ("duplicate column names ['id']",)),
    Case("duplicate_column_names_at_train",
         lambda c: c.train(c.raw("in.csv", b"text,cause,cause\nbill,a,b\n"), "--label-col", "cause"),
         ("duplicate column names ['cause']",), check=_no_output),
    Case("jsonl_ids_next_to_null_and_float",
         lambda c: c.score(_jsonl(c, _rows(c, id=BIG_IDS)), "--id-col", "id"),
         ("rejected 1", "missing_id:id"), exit_code=3),
    Case("jsonl_ids_keep_every_digit", lambda c: c.score(_jsonl(c, _rows(c, id=BIG_IDS))),
         exit_code=0, check=_ids_kept),
    Case("jsonl_64_bit_ids_next_to_null",
         lambda c: c.score(_jsonl(c, _rows(c, id=[9007199254740993, None]))), exit_code=0, check=_big_ids_kept),
    Case("jsonl_text_is_an_object", lambda c: c.score(_jsonl(c, _rows(c, text=[{"a": 1}, ["x", 2]]))),
         exit_code=0, check=_all_rows_scored),
    Case("jsonl_tenure_of_mixed_types", lambda c: c.score(_jsonl(c, _rows(c, tenure=[True, "12", None, 3.5]))),
         exit_code=0, check=_all_rows_scored),
    Case("parquet_folder_with_different_columns",
         lambda c: c.score(_parquet_folder(c, c.frame.drop(columns=["plan"]))), ("must have the same columns",)),
    Case("parquet_folder_with_different_types",
         lambda c: c.score(_parquet_folder(c, c.frame.assign(tenure=c.frame["tenure"].astype(str) + " months"))),
         ("different types",)),
    Case("mostly_nul_bytes", lambda c: c.score(c.raw("in.csv", b"id,text\n" + bytes(4000))),
         ("is not UTF-8 text", "NUL bytes")),
    # --- report outputs are safe to open
    Case("report_csv_formula_cells",
         lambda c: _report(c, _scored(c, root_cause=_causes('=HYPERLINK("http://x")', "+1+1", "-2", "@SUM(A1)")(c)),
                           c.tmp / "r.csv", "--format", "csv"), exit_code=0, check=_formulas_neutralised),
    Case("report_markdown_html_in_causes",
         lambda c: _report(c, _scored(c, root_cause=_causes("<script>alert(1)</script>", "<img src=x>")(c)),
                           c.tmp / "r.md", "--format", "md"), exit_code=0, check=_html_escaped),
    Case("report_chart_math_in_causes",
         lambda c: _report(c, _scored(c, root_cause=_causes("$5 fee $", "a_b$^c$", "\\frac{1}")(c)),
                           c.tmp / "r.html"), exit_code=0, check=_report_written),
    Case("report_chart_math_in_segments",
         lambda c: _report(c, _scored(c, plan=_causes("$x$", "y_$z^2$")(c)), c.tmp / "r.html", "--by", "plan"),
         exit_code=0, check=_report_written),
    Case("report_numeric_segments",
         lambda c: _report(c, _scored(c, plan=_causes(1, 2)(c)), c.tmp / "r.html", "--by", "plan"),
         exit_code=0, check=_report_written),
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


CASE_SECONDS = 120  # a hang (a FIFO read, a runaway loop) fails its case instead of the whole run


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, ctx: Ctx) -> None:
    def hang(signum: int, frame: object) -> None:
        raise TimeoutError(f"case {case.id} took over {CASE_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(CASE_SECONDS)
    try:
        result = CliRunner().invoke(main, case.args(ctx))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        for lock in ctx.held:
            lock.release()
    assert_one_line_error(result, case.expect, case.exit_code)
    if case.check:
        case.check(ctx, result)


def test_bad_input_catalogue_has_at_least_100_distinct_cases() -> None:
    ids = [c.id for c in CASES]
    assert len(set(ids)) == len(ids) >= 100


@pytest.fixture
def disk_full(monkeypatch: pytest.MonkeyPatch) -> Callable[[object, str], None]:
    """Make ``owner.name`` write half its output, then fail with ENOSPC like a full disk."""

    def patch(owner: object, name: str, path_arg: int = 1) -> None:
        def write_then_fail(*args: object, **kwargs: object) -> None:
            target = args[path_arg]
            if hasattr(target, "write"):  # an open file
                target.write("half written")
                target = target.name
            else:
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
