"""What the fast tier gives up against the default, over repeated random train/test splits.

On each of ``--repeats`` random stratified train/test splits of all of a task's labelled rows (the test share of
the task's fixed split), the default head is fitted with the settings its own search chose when ``train``
trained it on the fixed split (read from ``--bundles``/<task>, e.g. the bundles of ``_scoring_bundles.py``; no
search per split, so that the run stays bounded), on the vectors ``train`` uses (``--precision``, int8 by
default), and the fast tier is added as ``train --fast-tier`` adds it (the same loss budget, the full head's
out-of-fold probabilities from its calibration). Both predict the split's test rows. Per task: each one's mean
macro-F1 and accuracy, the mean per-split difference (fast tier − default) with a Student-t 95% interval, the
worst split and the share of test rows the fast tier sends to the transformer. With ``--budgets``, the same heads'
fast tier again at other loss budgets (``train --fast-tier-max-f1-loss``): only the threshold depends on the budget,
so it is chosen again on the same out-of-fold probabilities and applied to the same test probabilities.

Usage: nice -n 5 python scripts/compare_fast_tier_splits.py [--tasks airline,banking77,cfpb_product,cfpb_issue]
       [--repeats 10] [--bundles out/bench3] [--budgets 0.0075,0.005] [--out out/fast_tier_splits.json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedShuffleSplit

from _benchdata import cpu_flags, label_scores, load_average, load_task
from complaintkit import Bundle, RootCauseClassifier, TrainConfig
from complaintkit.heads.cascade import CascadeRootCauseClassifier, choose_threshold, full_head
from complaintkit.intervals import mean_interval


def run_task(name: str, repeats: int, bundles: Path, precision: str, budgets: list[float]) -> dict:
    """Fit the default and its fast tier on every split of task ``name``; their test scores, split by split."""
    task = load_task(name)
    texts = task.train_texts + task.test_texts
    labels = np.asarray(task.train_labels + task.test_labels)
    settings = full_head(Bundle.load(bundles / name).root_cause).chosen_settings()
    test_size = len(task.test_texts) / len(texts)
    splits = StratifiedShuffleSplit(repeats, test_size=test_size, random_state=0).split(np.zeros(len(labels)), labels)
    print(f"{name}: {len(texts)} rows, {len(set(labels))} classes, {repeats} splits ({test_size:.0%} test), "
          f"the default's settings {settings} (load {load_average()})", flush=True)
    rows = []
    for k, (train, test) in enumerate(splits):
        began = time.perf_counter()
        train_texts, test_texts = [texts[i] for i in train], [texts[i] for i in test]
        full = RootCauseClassifier(precision=precision, n_jobs=-1, **settings).fit(train_texts, labels[train])
        cascade = CascadeRootCauseClassifier(full, max_f1_loss=TrainConfig(label_col="label").fast_tier_max_f1_loss)
        cascade.fit(train_texts, labels[train], full_oof_proba=full.held_out_proba_)
        fast_proba, escalated = cascade.escalated(test_texts)
        full_proba = full.predict_proba(test_texts)
        default = label_scores(labels[test].tolist(), full.classes_[full_proba.argmax(axis=1)])
        fast = label_scores(labels[test].tolist(), cascade.predict(test_texts))
        rows.append({"default": default, "fast": fast, "escalated": float(escalated.mean()),
                     "seconds": time.perf_counter() - began, "budgets": {}})
        classes, oof = full.classes_, {"fast": cascade.fast_.held_out_proba_, "full": full.held_out_proba_}
        for budget in budgets:
            threshold, _ = choose_threshold(oof["fast"].max(axis=1), classes[oof["fast"].argmax(axis=1)],
                                            classes[oof["full"].argmax(axis=1)], labels[train], budget)
            kept = fast_proba.max(axis=1) >= threshold
            predicted = classes[np.where(kept, fast_proba.argmax(axis=1), full_proba.argmax(axis=1))]
            rows[-1]["budgets"][str(budget)] = {**label_scores(labels[test].tolist(), predicted),
                                                "escalated": float(1 - kept.mean())}
        print(f"  split {k + 1}/{repeats}: default {default['macro_f1']:.4f}, fast tier {fast['macro_f1']:.4f} "
              f"({100 * (fast['macro_f1'] - default['macro_f1']):+.2f} points), {escalated.mean():.1%} escalated, "
              f"{rows[-1]['seconds']:.0f} s (load {load_average()})", flush=True)
    return {"rows": len(texts), "classes": len(set(labels)), "test_size": test_size, "settings": settings,
            "splits": rows}


def print_summary(name: str, result: dict, budget: str | None = None) -> None:
    """One table row of the task (at the default budget or ``budget``): means, the fast tier's mean loss with its
    interval, the worst split."""
    splits = result["splits"]
    fast = [s["fast"] | {"escalated": s["escalated"]} if budget is None else s["budgets"][budget] for s in splits]
    cells = []
    for metric in ("macro_f1", "accuracy"):
        default = np.array([s["default"][metric] for s in splits])
        gaps = 100 * (np.array([f[metric] for f in fast]) - default)
        interval = mean_interval(gaps)
        cells.append(f"{default.mean():.4f} | {default.mean() + gaps.mean() / 100:.4f} | {interval['mean']:+.2f} "
                     f"[{interval['interval'][0]:+.2f}, {interval['interval'][1]:+.2f}] | {gaps.min():+.2f}")
    escalated = np.mean([f["escalated"] for f in fast])
    print(f"| {name} | {budget or 'default'} | {len(splits)} | {cells[0]} | {cells[1]} | {escalated:.1%} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", default="airline,banking77,cfpb_product,cfpb_issue")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--bundles", type=Path, default=Path("out/bench3"),
                        help="folder of the tasks' default bundles whose chosen settings are kept")
    parser.add_argument("--precision", default="int8", help="the encoder's precision while fitting (what train uses)")
    parser.add_argument("--budgets", default="", help="also these out-of-fold loss budgets, comma-separated")
    parser.add_argument("--out", type=Path, default=Path("out/fast_tier_splits.json"))
    args = parser.parse_args()
    print(f"CPU: {cpu_flags()}; load {load_average()}", flush=True)
    results = {}
    for name in args.tasks.split(","):
        results[name] = run_task(name, args.repeats, args.bundles, args.precision,
                                 [float(b) for b in args.budgets.split(",") if b])
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=1))
    print("\n| task | loss budget | splits | default macro-F1 | fast tier | fast − default, points [95% t-interval] | "
          "worst split | default accuracy | fast tier | fast − default, points [95%] | worst split | escalated |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, result in results.items():
        for budget in [None, *result["splits"][0]["budgets"]]:
            print_summary(name, result, budget)


if __name__ == "__main__":
    main()
