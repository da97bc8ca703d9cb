"""Accuracy of heads trained on fp32 vs int8 embeddings, both scored as ``complaintkit score`` does, same run.

For each task of ``_benchdata`` (fixed train/test split), the default root-cause head
(:class:`~complaintkit.RootCauseClassifier`, its settings chosen by its own repeated
cross-validation) is trained twice on the same training rows: on fp32 embeddings (the previous
``complaintkit train``) and on int8 ones (``--precision auto`` on CPUs without native bf16). Both
predict every test row with the int8 encoder (what ``score`` uses on such CPUs). Printed per task:
macro-F1 and accuracy of each, the share of identical predictions, and the paired bootstrap 95%
interval of the macro-F1 difference (test rows resampled, the same resamples for both).

    python scripts/compare_training_precision.py --tasks airline,cfpb_product,cfpb_issue --max-train-rows 3000
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.model_selection import train_test_split

from _benchdata import cpu_flags, label_scores, load_average, load_task
from compare_precision_accuracy import paired_bootstrap
from complaintkit import RootCauseClassifier
from complaintkit.embedding import run_settings


def predictions(task_name: str, precision: str, max_train_rows: int) -> tuple[np.ndarray, np.ndarray, dict]:
    """The test labels and the int8-scored predictions of a head trained in ``precision``, and its settings."""
    task = load_task(task_name)
    texts, labels = task.train_texts, task.train_labels
    if len(texts) > max_train_rows:
        texts, _, labels, _ = train_test_split(texts, labels, train_size=max_train_rows, stratify=labels,
                                               random_state=0)
    began = time.perf_counter()
    head = RootCauseClassifier(precision=precision, n_jobs=-1).fit(texts, labels)
    seconds = time.perf_counter() - began
    with run_settings([head.embedder_], precision="int8"):
        predicted = head.predict(task.test_texts)
    return np.asarray(task.test_labels), predicted, {**head.chosen_settings(), "fit_seconds": round(seconds)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default="airline,cfpb_product,cfpb_issue")
    parser.add_argument("--max-train-rows", type=int, default=3000,
                        help="a stratified sample of the training rows when there are more")
    parser.add_argument("--bootstrap", type=int, default=1000)
    args = parser.parse_args()
    print(f"CPU: {cpu_flags()}; load average {load_average()}", flush=True)
    print("| task | trained fp32: macro-F1 / accuracy | trained int8: macro-F1 / accuracy | same prediction | "
          "int8 − fp32 macro-F1 [95% paired bootstrap] | settings fp32 → int8 | load |")
    print("|---|---|---|---|---|---|---|")
    for name in args.tasks.split(","):
        truth, fp32, fp32_settings = predictions(name, "fp32", args.max_train_rows)
        _, int8, int8_settings = predictions(name, "int8", args.max_train_rows)
        a, b = label_scores(truth.tolist(), fp32), label_scores(truth.tolist(), int8)
        low, high = paired_bootstrap(truth, fp32, int8, args.bootstrap)
        print(f"| {name} | {a['macro_f1']:.4f} / {a['accuracy']:.4f} | {b['macro_f1']:.4f} / {b['accuracy']:.4f} | "
              f"{(fp32 == int8).mean():.1%} | {b['macro_f1'] - a['macro_f1']:+.4f} [{low:+.4f}, {high:+.4f}] | "
              f"{fp32_settings} → {int8_settings} | {load_average()} |", flush=True)


if __name__ == "__main__":
    main()
