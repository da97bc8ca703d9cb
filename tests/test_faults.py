"""Faults in real processes: kill -9 during `train` leaves no half-written bundle in place."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from complaintkit import Bundle
from complaintkit.exceptions import BundleError

# Runs the real CLI, but makes writing a head slow so the kill lands mid-save.
DRIVER = """
import sys, time
import complaintkit.bundle
from complaintkit.cli import main

dump = complaintkit.bundle.dump_head
def slow_dump(*args, **kwargs):
    dump(*args, **kwargs)
    time.sleep(60)
complaintkit.bundle.dump_head = slow_dump
main(sys.argv[1:])
"""


def _wait_for(condition, timeout: float, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            pytest.fail(f"train ended early with code {process.returncode}: {process.stderr.read()}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("train did not reach the save step in time")
        time.sleep(0.05)


@pytest.mark.slow
def test_kill_9_during_train_leaves_no_bundle_under_the_final_name(tmp_path: Path, synthetic_csv: Path,
                                                                   trained_bundle: Bundle) -> None:
    target = tmp_path / "models" / "killed"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[1] / "src"),
                                                        os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen(
        [sys.executable, "-c", DRIVER, "train", "--data", str(synthetic_csv), "--label-col", "cause",
         "--root-cause-head", "standard", "--out", str(target)], env=env, stderr=subprocess.PIPE, text=True)
    staged = lambda: any(target.parent.glob(".killed.staging-*/root_cause.skops"))  # noqa: E731
    _wait_for(staged, timeout=300, process=process)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    assert not target.exists()
    with pytest.raises(BundleError, match="does not exist"):
        Bundle.load(target)
    # The next save of the same bundle clears what the killed one left behind.
    Bundle(metadata=dict(trained_bundle.metadata), root_cause=trained_bundle.root_cause).save(target)
    # an empty lock file may stay; it holds no lock (the kernel dropped it) and the next CLI run removes it
    assert sorted(p.name for p in target.parent.iterdir()) in (["killed"], [".killed.lock", "killed"])
    assert Bundle.load(target).root_cause is not None
