"""The cascade's threshold chosen on two kinds of out-of-fold predictions of the same two heads, same run.

For each accuracy task, the full head of ``out/bench-bundles/<task>`` (trained by
``scripts/_scoring_bundles.py``) is refitted with the settings it chose (the same model) and the
cascade's fast head is fitted in front of it once. The default cascade's and the fast tier's
thresholds are then chosen twice, on the out-of-fold probabilities of both heads from their
calibration folds (what ``complaintkit train`` reads now) and from 3-fold refits of both (what
training read before). Printed per task, rule and source: the threshold, the share of training rows
escalated out of fold, and on the test split the share escalated (what sets the speed-up), the
cascade's macro-F1 and its difference from the full head's (paired bootstrap 95% interval over the test
rows) and its agreement with the full head.

    python scripts/compare_cascade_thresholds.py --tasks airline,banking77,cfpb_product,cfpb_issue
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold

from _benchdata import cpu_flags, label_scores, load_average, load_task
from _scoring_bundles import CASCADES, TASKS, task_bundle
from complaintkit.heads.cascade import CascadeRootCauseClassifier, choose_threshold
from complaintkit.intervals import paired_difference


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--folder", type=Path, default=Path("out/bench-bundles"))
    args = parser.parse_args()
    print(cpu_flags(), "| load", load_average(), flush=True)
    for name in args.tasks.split(","):
        task = load_task(name)
        labels = np.asarray(task.train_labels)
        trained = task_bundle(task, args.folder).root_cause
        full = clone(trained).set_params(**trained.chosen_settings()).fit(task.train_texts, labels)
        cascade = CascadeRootCauseClassifier(full).fit(task.train_texts, labels, full_oof_proba=full.held_out_proba_)
        cv = StratifiedKFold(3, shuffle=True, random_state=0)
        sources = {"calibration folds": (cascade.fast_.held_out_proba_, full.held_out_proba_),
                   "3-fold refits": tuple(head.out_of_fold_proba(task.train_texts, labels, cv)
                                          for head in (cascade.fast_, full))}
        full_test = full.predict(task.test_texts)
        fast_test = cascade.fast_.predict_proba(task.test_texts)
        print(f"{name}: full head test macro-F1 {label_scores(task.test_labels, full_test)['macro_f1']:.4f}",
              flush=True)
        for kind, (max_f1_loss, min_agreement) in CASCADES.items():
            for source, (fast_oof, full_oof) in sources.items():
                threshold, oof_f1 = choose_threshold(fast_oof.max(axis=1), cascade.classes_[fast_oof.argmax(axis=1)],
                                                     cascade.classes_[full_oof.argmax(axis=1)], labels, max_f1_loss,
                                                     min_agreement)
                escalate = fast_test.max(axis=1) < threshold
                answers = np.where(escalate, full_test, cascade.classes_[fast_test.argmax(axis=1)])
                gap = paired_difference(task.test_labels, answers, full_test)["macro_f1"]
                print(f"  {kind:7s} {source:17s} threshold {threshold:.4f}, out of fold escalated "
                      f"{np.mean(fast_oof.max(axis=1) < threshold):.3f} (cascade macro-F1 {oof_f1:.4f}); "
                      f"test escalated {escalate.mean():.3f}, macro-F1 "
                      f"{label_scores(task.test_labels, answers)['macro_f1']:.4f} (minus the full head's: "
                      f"{gap['difference']:+.4f} [{gap['interval'][0]:+.4f}, {gap['interval'][1]:+.4f}]), "
                      f"agreement with the full head {np.mean(answers == full_test):.4f}", flush=True)
    print("load at end", load_average())


if __name__ == "__main__":
    main()
