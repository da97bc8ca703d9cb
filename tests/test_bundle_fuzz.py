"""A small, fixed run of scripts/fuzz_bundles.py: damaged bundles load or fail with one line, never crash."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "fuzz_bundles.py"


def test_random_metadata_and_artifact_bytes_never_crash_bundle_loading() -> None:
    spec = importlib.util.spec_from_file_location("fuzz_bundles", SCRIPT)
    fuzz_bundles = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fuzz_bundles)
    counts = fuzz_bundles.fuzz(cases=40, seed=7)
    crashes = {key: n for key, n in counts.items() if key[1].startswith("crash")}
    assert not crashes, crashes
    assert sum(counts.values()) == 40
    assert sum(n for (_, outcome), n in counts.items() if outcome == "error") >= 20  # the damage was seen
