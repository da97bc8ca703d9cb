"""The rules about the user's files (complaintkit.io.paths): distinct paths, --overwrite, one writer
per output, regular files only; a concurrency test and a property-based test of colliding paths."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from complaintkit import Bundle
from complaintkit.cli import main
from complaintkit.exceptions import InputError, OutputExistsError
from complaintkit.io import OutputLock, check_distinct, check_input_file, claim_outputs, same_file
from complaintkit.scoring.run import score_file

FIXTURE = Path(__file__).parent / "fixtures" / "bundle-format-2"


def test_same_file_sees_symlinks_and_hard_links(tmp_path: Path) -> None:
    data = tmp_path / "a.csv"
    data.write_text("x\n")
    (tmp_path / "soft.csv").symlink_to(data)
    os.link(data, tmp_path / "hard.csv")
    assert same_file(data, tmp_path / "soft.csv") and same_file(data, tmp_path / "hard.csv")
    assert same_file(data, tmp_path / "sub" / ".." / "a.csv")
    assert not same_file(data, tmp_path / "b.csv")


def test_outputs_must_differ_from_inputs_and_each_other(tmp_path: Path) -> None:
    data = tmp_path / "a.csv"
    data.write_text("x\n")
    with pytest.raises(InputError, match="is the input --input"):
        check_distinct({"--input": data}, {"--output": tmp_path / "." / "a.csv"})
    with pytest.raises(InputError, match="--output and --rejects are the same file"):
        check_distinct({"--input": data}, {"--output": tmp_path / "o.csv", "--rejects": tmp_path / "o.csv"})
    with pytest.raises(InputError, match="holds the input"):
        check_distinct({"--data": data}, {"--out": tmp_path}, folders=True)
    check_distinct({"--input": data, "--model": None}, {"--output": tmp_path / "o.csv", "--rejects": None})


@pytest.mark.parametrize("make", [os.mkfifo, lambda p: p.symlink_to("/dev/zero")], ids=["fifo", "device"])
def test_only_regular_files_and_folders_are_read(tmp_path: Path, make) -> None:
    path = tmp_path / "in.csv"
    make(path)
    with pytest.raises(InputError, match="expected a regular file or a folder"):
        check_input_file(path)
    assert check_input_file(tmp_path) == tmp_path


def test_an_existing_output_needs_overwrite_and_nothing_is_created_on_refusal(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    out.write_text("keep")
    with pytest.raises(OutputExistsError), claim_outputs({"--output": out}):
        pass
    assert out.read_text() == "keep" and sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]
    with claim_outputs({"--output": out}, overwrite=True):
        assert (tmp_path / ".out.csv.lock").exists()
    assert not (tmp_path / ".out.csv.lock").exists()


def test_the_second_writer_gets_a_one_line_error_and_the_first_keeps_its_lock(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    with OutputLock(out), pytest.raises(InputError, match=r"another complaintkit run is writing .*out.csv"):
        OutputLock(out).acquire()
    with OutputLock(out):  # released: taken again
        pass


def test_a_killed_writer_leaves_no_stale_lock(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from complaintkit.io import OutputLock; OutputLock(sys.argv[1]).acquire(); "
        "print('locked', flush=True); time.sleep(60)"), str(out)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(InputError, match="another complaintkit run"):
            OutputLock(out).acquire()
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
        with OutputLock(out):  # the kernel dropped the dead process's lock; its lock file is reused
            pass
    finally:
        holder.kill()


def test_files_are_created_as_the_umask_says(tmp_path: Path, trained_bundle: Bundle) -> None:
    old = os.umask(0o027)
    try:
        CliRunner().invoke(main, ["report", "--scored", str(_scored_csv(tmp_path, trained_bundle)),
                                  "--out", str(tmp_path / "r.csv"), "--format", "csv"])
        bundle = Bundle(metadata=dict(trained_bundle.metadata), root_cause=trained_bundle.root_cause)
        saved = bundle.save(tmp_path / "models" / "b")
    finally:
        os.umask(old)
    assert (tmp_path / "r.csv").stat().st_mode & 0o777 == 0o640
    assert saved.stat().st_mode & 0o777 == 0o750


def _scored_csv(folder: Path, bundle: Bundle) -> Path:
    labels = list(bundle.root_cause.classes_)
    path = folder / "scored.csv"
    pd.DataFrame({"text": [f"complaint {i}" for i in range(12)], "root_cause": labels * 4,
                  "root_cause_proba": 0.8}).to_csv(path, index=False)
    return path


def test_two_runs_one_output_give_one_complete_output_and_one_clean_error(tmp_path: Path,
                                                                         trained_bundle: Bundle,
                                                                         synthetic_frame: pd.DataFrame) -> None:
    slow = tmp_path / "slow.csv"
    pd.concat([synthetic_frame] * 8, ignore_index=True).to_csv(slow, index=False)
    other = tmp_path / "other.csv"
    synthetic_frame.head(5).to_csv(other, index=False)
    out = tmp_path / "out.csv"
    outcome: dict[str, object] = {}

    def run(name: str, source: Path) -> None:
        try:
            outcome[name] = score_file(trained_bundle, source, out, chunk_size=4, overwrite=True)
        except InputError as exc:
            outcome[name] = exc

    first = threading.Thread(target=run, args=("first", slow))
    first.start()
    deadline = time.monotonic() + 60
    while not (tmp_path / ".out.csv.lock").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    run("second", other)
    first.join()
    assert isinstance(outcome["second"], InputError) and "another complaintkit run" in str(outcome["second"])
    assert "\n" not in str(outcome["second"])
    scored = pd.read_csv(out)
    assert scored["row_number"].tolist() == list(range(len(synthetic_frame) * 8))  # the first run's, complete
    assert not (tmp_path / ".out.csv.lock").exists() and not (tmp_path / ".out.csv.parts").exists()


# --- property: random invocations whose paths collide never change a file but the one --overwrite names

NAMES = ["a.csv", "b.csv", "link.csv", "hard.csv", "out.csv", "new.csv", "r.json", "model", "model/metadata.json",
         "dir", "new_dir"]
INPUT_NAMES = {"a.csv", "b.csv", "link.csv", "hard.csv", "model", "model/metadata.json"}


def _snapshot(root: Path) -> dict[str, str]:
    files = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            files[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return files


def _scene(root: Path, frame: pd.DataFrame) -> None:
    shutil.copytree(FIXTURE / "bundle", root / "model")
    frame.to_csv(root / "a.csv", index=False)
    frame.assign(root_cause=frame["cause"], root_cause_proba=0.9).to_csv(root / "b.csv", index=False)
    (root / "link.csv").symlink_to(root / "a.csv")
    os.link(root / "b.csv", root / "hard.csv")
    (root / "out.csv").write_text("earlier output\n")
    (root / "dir").mkdir()
    (root / "dir" / "notes.txt").write_text("not a bundle\n")


def _command(kind: str, src: str, out: str, extra: str, root: Path) -> tuple[list[str], list[str], list[str]]:
    """The command line, the names it writes and the names it reads."""
    p = {name: str(root / name) for name in NAMES}
    if kind == "score":
        return (["score", "--model", p["model"], "--input", p[src], "--output", p[out], "--rejects", p[extra]],
                [out, extra], [src, "model"])
    if kind == "evaluate":
        return ["evaluate", "--model", p["model"], "--data", p[src], "--output", p[out]], [out], [src, "model"]
    if kind == "report":
        return (["report", "--scored", p[src], "--out", p[out], "--format", "json", "--previous", p[extra]],
                [out], [src, extra])
    # a new folder would train for seconds: there the label column is wrong, so the run stops after the checks
    label = "cause" if out == "model" else "nope"
    return ["train", "--data", p[src], "--label-col", label, "--out", p[out]], [out], [src]


def _same_as(names: list[str], root: Path) -> set[str]:
    """``names`` and every name that is the same file (a link to it, or inside it)."""
    found = set()
    for name in names:
        for other in NAMES:
            if os.path.lexists(root / other) and os.path.lexists(root / name) and (
                    same_file(root / other, root / name) or other.startswith(name + "/")):
                found.add(other)
    return found


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(["score", "evaluate", "report", "train"]), src=st.sampled_from(sorted(INPUT_NAMES)),
       out=st.sampled_from(NAMES), extra=st.sampled_from(NAMES), overwrite=st.booleans())
def test_colliding_paths_never_change_a_file_but_the_named_output(synthetic_frame: pd.DataFrame, kind: str,
                                                                   src: str, out: str, extra: str,
                                                                   overwrite: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        _scene(root, synthetic_frame.head(12))
        args, outputs, inputs = _command(kind, src, out, extra, root)
        read = _same_as(inputs, root)
        before = _snapshot(root)
        result = CliRunner().invoke(main, [*args, *(["--overwrite"] if overwrite else [])])
        assert "Traceback" not in result.output, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        after = _snapshot(root)
        for name, digest in before.items():
            if after.get(name) == digest:
                continue
            top = name.split("/")[0]
            assert overwrite and (name in outputs or top in outputs), f"{args} changed {name}: {result.output}"
            assert name not in read and top not in read, f"{args} changed its input {name}: {result.output}"
        if result.exit_code not in (0, 3):
            assert result.output.count("error: ") == 1, result.output
