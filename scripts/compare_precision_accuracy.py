"""Accuracy of the encoder settings on whole test splits: fp32 vs int8 (and the fast tier), same heads, same run.

For each task, one bundle trained the default way (fp32 embeddings) predicts every test row with
the encoder in fp32 and in int8 (the ONNX Runtime graph); a bundle with the fast tier (when given)
predicts them with the default settings. Printed per task and setting: macro-F1, accuracy, the
share of predictions identical to fp32's, and the paired bootstrap 95% interval of the macro-F1
difference to fp32 (test rows resampled, the same resamples for every setting); for the fast tier
also its difference to int8 (the default on CPUs without native bf16), with its interval, and the
share of test rows it sends to the transformer.

    python scripts/compare_precision_accuracy.py --task airline=out/bench-bundles/airline \\
        --fast airline=out/bench-bundles-fast/airline \\
        --task cfpb_issue=out/models/cfpb-issue:../main/out/cfpb-issues.csv:cause
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score

from _benchdata import label_scores, load_task
from benchmark_scoring import cpu_summary
from complaintkit import Bundle
from complaintkit.embedding import RecentVectors, run_settings


def test_split(spec: str) -> tuple[str, Path, list[str], list[str]]:
    """``name=bundle`` (a task of ``_benchdata``) or ``name=bundle:csv:label`` (rows whose ``split`` is "test")."""
    name, rest = spec.split("=", 1)
    parts = rest.split(":")
    if len(parts) == 1:
        task = load_task(name)
        return name, Path(parts[0]), task.test_texts, task.test_labels
    frame = pd.read_csv(parts[1], dtype=str)
    frame = frame[frame["split"] == "test"]
    bundle_text = Bundle.load(parts[0]).text_cols[0]
    return name, Path(parts[0]), frame[bundle_text].fillna("").tolist(), frame[parts[2]].tolist()


def paired_bootstrap(labels: np.ndarray, reference: np.ndarray, other: np.ndarray, n: int = 1000,
                     seed: int = 0) -> tuple[float, float]:
    """95% interval of macro-F1(other) − macro-F1(reference) over resampled rows."""
    rng = np.random.default_rng(seed)
    deltas = []
    for _ in range(n):
        take = rng.integers(0, len(labels), len(labels))
        deltas.append(f1_score(labels[take], other[take], average="macro", zero_division=0)
                      - f1_score(labels[take], reference[take], average="macro", zero_division=0))
    low, high = np.percentile(deltas, [2.5, 97.5])
    return float(low), float(high)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", action="append", required=True, help="name=bundle or name=bundle:csv:label")
    parser.add_argument("--fast", action="append", default=[], help="name=bundle with the fast tier")
    parser.add_argument("--bootstrap", type=int, default=1000)
    args = parser.parse_args()
    print(cpu_summary())
    fast = dict(spec.split("=", 1) for spec in args.fast)
    print("| task | test rows | setting | macro-F1 | accuracy | same as fp32 | Δ macro-F1 vs fp32, points "
          "(95% CI) | seconds | load |\n|---|---|---|---|---|---|---|---|---|")
    for spec in args.task:
        name, path, texts, labels = test_split(spec)
        labels = np.asarray(labels)
        runs = [("fp32", path, "fp32"), ("int8", path, "int8")]
        if name in fast:
            runs.append(("fast tier (int8 for escalated rows)", Path(fast[name]), "int8"))
        predicted = {}
        for setting, bundle_path, precision in runs:
            bundle = Bundle.load(bundle_path)
            began = time.perf_counter()
            with run_settings(bundle.embedders, precision, RecentVectors()):
                predicted[setting] = np.asarray(bundle.root_cause.predict(texts))
            seconds = time.perf_counter() - began
            scores = label_scores(list(labels), predicted[setting])
            same = float(np.mean(predicted[setting] == predicted["fp32"]))
            delta = scores["macro_f1"] - label_scores(list(labels), predicted["fp32"])["macro_f1"]
            low, high = paired_bootstrap(labels, predicted["fp32"], predicted[setting], args.bootstrap)
            print(f"| {name} | {len(labels):,} | {setting} | {scores['macro_f1']:.4f} | {scores['accuracy']:.4f} | "
                  f"{same:.1%} | {100 * delta:+.2f} ({100 * low:+.2f} to {100 * high:+.2f}) | {seconds:.0f} | "
                  f"{os.getloadavg()[0]:.1f} |", flush=True)
        if len(runs) > 2:
            print(fast_against_default(labels, predicted["int8"], predicted[runs[2][0]],
                                       Bundle.load(runs[2][1]).root_cause, texts, args.bootstrap), flush=True)


def fast_against_default(labels: np.ndarray, default: np.ndarray, fast: np.ndarray, cascade: object,
                         texts: list[str], bootstrap: int) -> str:
    """One line: the fast tier against the default encoder (int8) on the same rows, and its escalated share."""
    delta = label_scores(list(labels), fast)["macro_f1"] - label_scores(list(labels), default)["macro_f1"]
    low, high = paired_bootstrap(labels, default, fast, bootstrap)
    escalated = float(np.mean(cascade.escalated(texts)[1]))
    return (f"  fast tier − int8 (the default): {100 * delta:+.2f} points macro-F1 ({100 * low:+.2f} to "
            f"{100 * high:+.2f}), same cause {np.mean(fast == default):.1%}, test rows sent to the transformer "
            f"{escalated:.1%}")


if __name__ == "__main__":
    main()
