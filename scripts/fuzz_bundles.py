"""Fuzz bundle loading: random metadata.json values and random artifact bytes.

Each case copies the format-2 fixture bundle (tests/fixtures/bundle-format-2/bundle), damages
it one way, and loads it with ``Bundle.load`` (no ``--trust``). A case passes when the bundle
loads or a one-line ``ComplaintkitError`` explains why not; anything else is a crash.

    python scripts/fuzz_bundles.py --cases 300 --seed 0
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from complaintkit import Bundle
from complaintkit.bundle import file_sha256
from complaintkit.exceptions import ComplaintkitError

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "bundle-format-2" / "bundle"
HEADS = ("root_cause.skops", "churn.skops")


def random_value(rng: random.Random, depth: int = 0) -> Any:
    """A random JSON value: scalars of every type, odd strings, nested lists and objects."""
    kinds = ["int", "big", "float", "bool", "null", "str", "path"] + (["list", "dict"] if depth < 3 else [])
    kind = rng.choice(kinds)
    if kind == "int":
        return rng.randint(-5, 5)
    if kind == "big":
        return rng.choice([2**63, -(2**70), 10**400 // 10**380])
    if kind == "float":
        return rng.choice([0.5, -1e308, 1e308, 3.14])
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "null":
        return None
    if kind == "str":
        return rng.choice(["", "x" * rng.randint(1, 3000), "\u200b", "$x$", "../../etc/passwd", "🙂", "a\nb"])
    if kind == "path":
        return rng.choice(["../outside.skops", "/dev/zero", "/etc/passwd", "root_cause.skops/..", "./churn.skops"])
    if kind == "list":
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice(["text", "threshold", "labels", "kinds", "name", "sha256", "a"]): random_value(rng, depth + 1)
            for _ in range(rng.randint(0, 4))}


def mutate_metadata(rng: random.Random, folder: Path) -> str:
    """Replace, drop or add one or more metadata keys (artifact names included)."""
    path = folder / "metadata.json"
    metadata = json.loads(path.read_text())
    for _ in range(rng.randint(1, 3)):
        key = rng.choice([*metadata, "artifacts", "artifacts", "columns", "review", "surprise"])
        action = rng.choice(["replace", "drop", "artifact"])
        if action == "drop":
            metadata.pop(key, None)
        elif action == "artifact":
            name = random_value(rng) if rng.random() < 0.3 else rng.choice(
                ["../outside.skops", "/dev/zero", "sub/root_cause.skops", "root_cause.skops", "x" * 300])
            existing = metadata.get("artifacts") if isinstance(metadata.get("artifacts"), dict) else {}
            digest = rng.choice([*existing.values(), "0" * 64, random_value(rng)])
            metadata["artifacts"] = {str(name): digest} if rng.random() < 0.5 else {**existing, str(name): digest}
        else:
            metadata[key] = random_value(rng)
    text = json.dumps(metadata)
    if rng.random() < 0.1:
        text = text[: rng.randint(0, len(text))]
    path.write_text(text)
    return "metadata"


def mutate_artifact(rng: random.Random, folder: Path) -> str:
    """Random bytes, a truncation or bit flips in a head file, with its hash updated so it gets parsed."""
    name = rng.choice(HEADS)
    path = folder / name
    data = bytearray(path.read_bytes())
    how = rng.choice(["random", "truncate", "flip"])
    if how == "random":
        data = bytearray(rng.randbytes(rng.randint(0, 4096)))
    elif how == "truncate":
        data = data[: rng.randint(0, len(data))]
    else:
        for _ in range(rng.randint(1, 20)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    path.write_bytes(bytes(data))
    metadata = json.loads((folder / "metadata.json").read_text())
    metadata["artifacts"][name] = file_sha256(path)
    (folder / "metadata.json").write_text(json.dumps(metadata))
    return f"artifact ({how})"


def run_case(rng: random.Random, workdir: Path) -> tuple[str, str]:
    """One damaged bundle; returns (mutation, outcome) with outcome ok, error or crash: <type>."""
    folder = workdir / "bundle"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(FIXTURE, folder)
    mutation: Callable[[random.Random, Path], str] = rng.choice([mutate_metadata, mutate_artifact])
    what = mutation(rng, folder)
    try:
        Bundle.load(folder)
    except ComplaintkitError as exc:
        return what, "error" if "\n" not in str(exc) else "crash: multi-line error"
    except Exception as exc:  # noqa: BLE001 - counting what escapes is the point
        return what, f"crash: {type(exc).__name__}: {str(exc)[:120]}"
    return what, "ok"


def fuzz(cases: int, seed: int) -> Counter[tuple[str, str]]:
    """Run ``cases`` random cases from ``seed``; count (mutation kind, outcome)."""
    rng = random.Random(seed)
    counts: Counter[tuple[str, str]] = Counter()
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(cases):
            what, outcome = run_case(rng, Path(folder))
            counts[(what.split(" ")[0], outcome)] += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    start = time.perf_counter()
    counts = fuzz(args.cases, args.seed)
    crashes = sum(n for (_, outcome), n in counts.items() if outcome.startswith("crash"))
    for (what, outcome), n in sorted(counts.items()):
        print(f"{what:10} {outcome:60} {n:5d}")
    print(f"{args.cases} cases (seed {args.seed}) in {time.perf_counter() - start:.0f}s: {crashes} crashes")
    raise SystemExit(1 if crashes else 0)


if __name__ == "__main__":
    main()
