"""The root-cause head's settings search at several SVM stopping tolerances: time, choice, scores, same run.

For each task, the default ``RootCauseClassifier`` (fp32 embeddings from the cache, as the accuracy
benchmarks use) is fitted on the training split once per tolerance in ``--tols``, the search's SVMs
stopping at that tolerance (the final SVM and its calibration always at 1e-4). Printed per fit: the
search's seconds, the whole fit's, every candidate's mean cross-validated macro-F1 and the chosen one,
and the test split's macro-F1. The fits run one after the other on a possibly shared machine: compare
seconds within one task, with the load average printed next to them.

    python scripts/compare_search_tolerance.py --tasks airline,cfpb_product,banking77 --tols 1e-4,1e-3,1e-2
"""

from __future__ import annotations

import argparse
import os
import time

from sklearn.metrics import f1_score

from _benchdata import load_task
from benchmark_scoring import cpu_summary
from complaintkit.heads import root_cause
from complaintkit.heads.root_cause import RootCauseClassifier


class TimedSearch(RootCauseClassifier):
    """The default head, recording how long its settings search took (``search_seconds_``)."""

    def _search(self, *args, **kwargs):
        began = time.perf_counter()
        try:
            return super()._search(*args, **kwargs)
        finally:
            self.search_seconds_ = time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default="airline,cfpb_product,banking77")
    parser.add_argument("--tols", default="1e-4,1e-2")
    args = parser.parse_args()
    print(cpu_summary())
    for name in args.tasks.split(","):
        task = load_task(name)
        for tol in (float(t) for t in args.tols.split(",")):
            root_cause.FOLD_TOL = tol
            load, began = os.getloadavg()[0], time.perf_counter()
            head = TimedSearch(precision="fp32").fit(task.train_texts, task.train_labels)
            seconds = time.perf_counter() - began
            test_f1 = f1_score(task.test_labels, head.predict(task.test_texts), average="macro")
            chosen = next(row for row in head.cv_macro_f1_ if row["chosen"])
            print(f"\n{name} ({len(task.train_texts)} training rows), search tolerance {tol:g}: search "
                  f"{head.search_seconds_:.1f} s, fit {seconds:.1f} s, load {load:.2f} -> {os.getloadavg()[0]:.2f}; "
                  f"chosen C {chosen['C']:g}, embedding weight {chosen['embedding_weight']:g}; "
                  f"test macro-F1 {test_f1:.4f}")
            print("  cross-validated macro-F1 (C, weight: mean ± se): " + "; ".join(
                f"{row['C']:g}, {row['embedding_weight']:g}: {row['macro_f1']:.4f} ± {row['se']:.4f}"
                for row in head.cv_macro_f1_), flush=True)


if __name__ == "__main__":
    main()
