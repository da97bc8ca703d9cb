"""Root-cause calibration methods compared by 5-fold cross-validation over all rows of each task.

For every fold and method, complaintkit's default head (settings chosen by its own CV on the
fold's training rows) is fitted with ``calibration=<method>`` and scored on the fold's held-out
rows. Prints per-fold ECE, ECE of the pooled out-of-fold predictions, macro-F1 and accuracy.
Usage: python scripts/compare_calibration.py [--tasks cfpb_issue,cfpb_product,airline]
       [--methods temperature,isotonic,sigmoid] [--out F.json]
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np
from sklearn.model_selection import StratifiedKFold

from _benchdata import label_scores, load_task
from complaintkit import RootCauseClassifier
from complaintkit.evaluation import expected_calibration_error


def compare(name: str, methods: list[str], folds: int = 5) -> dict[str, dict]:
    """Cross-validated ECE, macro-F1 and accuracy of each calibration method on task ``name``."""
    task = load_task(name)
    texts = np.asarray(task.train_texts + task.test_texts, dtype=object)
    labels = np.asarray(task.train_labels + task.test_labels, dtype=object)
    splits = list(StratifiedKFold(folds, shuffle=True, random_state=1).split(texts, labels))
    results = {}
    for method in methods:
        predicted = np.empty(len(labels), dtype=object)
        confidence = np.zeros(len(labels))
        fold_ece = []
        for train, test in splits:
            head = RootCauseClassifier(calibration=method).fit(texts[train].tolist(), labels[train])
            proba = head.predict_proba(texts[test].tolist())
            predicted[test], confidence[test] = head.classes_[proba.argmax(axis=1)], proba.max(axis=1)
            fold_ece.append(expected_calibration_error(confidence[test], predicted[test] == labels[test]))
        results[method] = {
            "fold_ece": [round(e, 3) for e in fold_ece], "mean_fold_ece": float(np.mean(fold_ece)),
            "pooled_ece": expected_calibration_error(confidence, predicted == labels),
            **label_scores(labels, predicted)}
        r = results[method]
        print(f"{name} ({len(labels)} rows, {folds}-fold CV) {method:11s} macro-F1 {r['macro_f1']:.3f} "
              f"accuracy {r['accuracy']:.3f} ECE pooled {r['pooled_ece']:.3f}, per fold {r['fold_ece']}", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", default="cfpb_issue,cfpb_product,airline")
    parser.add_argument("--methods", default="temperature,isotonic,sigmoid")
    parser.add_argument("--out", default="out/compare_calibration.json")
    args = parser.parse_args()
    results = {name: compare(name, args.methods.split(",")) for name in args.tasks.split(",")}
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as handle:
        json.dump(results, handle, indent=2)


if __name__ == "__main__":
    main()
