"""Doubtful-label detection with 10% of training labels flipped at random: complaintkit against cleanlab's recipe.

For each task (airline complaint reasons, banking77 intents; fixed training splits from
../shared/data) and each seed, the script flips ``--noise`` of the training labels to another
class chosen uniformly (one noise draw per seed), then in the same run ranks every training
row by how doubtful its label is, with:

1. complaintkit: what ``train`` does (:func:`complaintkit.label_issues.embedding_oof_proba`:
   3-fold out-of-fold probabilities of a logistic regression on the head's MiniLM embeddings,
   then :func:`complaintkit.label_issues.find_label_issues`, ranked by self-confidence);
2. cleanlab's recipe, written out here as cleanlab's documentation gives it: scikit-learn's
   ``LogisticRegression`` on the same (cached) MiniLM embeddings, ``cross_val_predict`` with 3
   stratified folds, ``cleanlab.filter.find_label_issues`` with its defaults and
   ``cleanlab.rank.get_label_quality_scores`` for the ranking;
3. random order (the baseline every method must beat: its expected precision is the noise share);
4. for ``--head-seeds``, the previous complaintkit method: the default head's own 3-fold
   out-of-fold probabilities (as ``training.out_of_fold_proba`` makes them, with fixed ``--C``,
   ``--embedding-weight`` and TF-IDF on instead of the settings search), ranked by
   self-confidence. Costly: one head fit per fold.

Reported: precision at k = number of flipped rows (share of flipped rows among each ranking's
first k), and each flagged list's size, precision and recall; mean over seeds with a Student-t
95% interval. Embeddings come from the project's SQLite cache.

    COMPLAINTKIT_SHARED_DATA=../shared/data python scripts/benchmark_label_issues.py --seeds 0 1 2 3 4
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import pandas as pd

from _benchdata import load_task
from complaintkit import RootCauseClassifier, SentenceTransformerEmbedder
from complaintkit.intervals import mean_interval
from complaintkit.label_issues import embedding_oof_proba, find_label_issues

COMPLAINTKIT = "complaintkit (train's label_issues.csv)"
RECIPE = "cleanlab recipe (LogReg on MiniLM, defaults)"
RANDOM = "random order"
HEAD = "previous: default head's own OOF"


def flip_labels(labels: np.ndarray, share: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``labels`` with ``share`` of them moved to another class chosen uniformly; and which rows moved."""
    classes = np.unique(labels)
    flipped = rng.choice(len(labels), size=int(round(share * len(labels))), replace=False)
    noisy = labels.copy()
    for i in flipped:
        noisy[i] = rng.choice(classes[classes != labels[i]])
    mask = np.zeros(len(labels), dtype=bool)
    mask[flipped] = True
    return noisy, mask


def precision_at(ranking: np.ndarray, truth: np.ndarray, k: int) -> float:
    """Share of truly flipped rows among the first ``k`` of ``ranking``."""
    return float(truth[ranking[:k]].sum() / k)


def flagged_scores(rows: np.ndarray, flipped: np.ndarray) -> dict[str, float]:
    """Size, precision and recall of a flagged list."""
    return {"rows": int(len(rows)), "precision": float(flipped[rows].mean()) if len(rows) else 0.0,
            "recall": float(flipped[rows].sum() / flipped.sum())}


def run_seed(texts: list[str], vectors: np.ndarray, clean: np.ndarray, noise: float, seed: int,
             head_settings: dict | None) -> dict:
    """Every method's precision at k and flagged list on one noise draw."""
    from cleanlab.filter import find_label_issues as cleanlab_find
    from cleanlab.rank import get_label_quality_scores
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    noisy, flipped = flip_labels(clean, noise, np.random.default_rng(seed))
    k = int(flipped.sum())
    classes = np.unique(noisy)
    given = pd.Index(classes).get_indexer(noisy)
    rankings: dict[str, np.ndarray] = {}
    flagged: dict[str, np.ndarray] = {}

    proba = embedding_oof_proba(vectors, noisy.tolist(), 3, seed)
    issues = find_label_issues(proba, noisy.tolist(), classes, np.arange(len(texts)))
    flagged[COMPLAINTKIT] = issues["row_id"].to_numpy(dtype=int)
    rankings[COMPLAINTKIT] = np.argsort(get_label_quality_scores(given, proba), kind="stable")

    cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=seed)
    recipe = cross_val_predict(LogisticRegression(max_iter=1000), vectors, given, cv=cv, method="predict_proba")
    flagged[RECIPE] = np.flatnonzero(cleanlab_find(given, recipe))
    rankings[RECIPE] = np.argsort(get_label_quality_scores(given, recipe), kind="stable")

    rankings[RANDOM] = np.random.default_rng(10_000 + seed).permutation(len(texts))

    if head_settings is not None:
        # what training.out_of_fold_proba does, with the settings given instead of chosen by a first fit
        head_proba = cross_val_predict(RootCauseClassifier(**head_settings), texts, noisy, cv=cv,
                                       method="predict_proba")
        flagged[HEAD] = find_label_issues(head_proba, noisy.tolist(), classes,
                                          np.arange(len(texts)))["row_id"].to_numpy(dtype=int)
        rankings[HEAD] = np.argsort(get_label_quality_scores(given, head_proba), kind="stable")
    return {"seed": seed, "flipped": k,
            "precision_at_k": {m: precision_at(r, flipped, k) for m, r in rankings.items()},
            "flagged": {m: flagged_scores(rows, flipped) for m, rows in flagged.items()}}


def summarise(runs: list[dict]) -> dict[str, dict]:
    """Mean and 95% interval over seeds of each method's precision at k and flagged-list scores."""
    methods = sorted({m for r in runs for m in r["precision_at_k"]}, key=[COMPLAINTKIT, RECIPE, HEAD, RANDOM].index)
    out = {}
    for method in methods:
        values = [r["precision_at_k"][method] for r in runs if method in r["precision_at_k"]]
        row = {"precision_at_k": mean_interval(values)}
        flagged = [r["flagged"][method] for r in runs if method in r["flagged"]]
        if flagged:
            row.update({key: mean_interval([f[key] for f in flagged]) for key in ("rows", "precision", "recall")})
        out[method] = row
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=["airline", "banking77"])
    parser.add_argument("--noise", type=float, default=0.10)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--head-seeds", type=int, nargs="*", default=[],
                        help="Seeds on which the previous method (the default head's own OOF) runs too; costly.")
    parser.add_argument("--head-tasks", nargs="*", default=["airline"], help="Tasks on which --head-seeds apply.")
    parser.add_argument("--C", type=float, default=0.3, help="The default head's C for --head-seeds.")
    parser.add_argument("--embedding-weight", type=float, default=1.0)
    parser.add_argument("--json", help="Also write the results as JSON here.")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()}")
    results = {}
    for name in args.tasks:
        task = load_task(name)
        started = time.perf_counter()
        clean = np.asarray(task.train_labels, dtype=object)
        vectors = SentenceTransformerEmbedder().fit().transform(task.train_texts)  # cached
        runs = []
        for seed in args.seeds:
            settings = ({"C": args.C, "embedding_weight": args.embedding_weight, "use_tfidf": True}
                        if seed in args.head_seeds and name in args.head_tasks else None)
            runs.append(run_seed(task.train_texts, vectors, clean, args.noise, seed, settings))
            print(f"[{name}] seed {seed}: " + ", ".join(f"{m} {v:.3f}" for m, v in runs[-1]["precision_at_k"].items())
                  + f" ({time.perf_counter() - started:.0f} s, load {os.getloadavg()[0]:.1f})", flush=True)
        summary = summarise(runs)
        results[name] = {"runs": runs, "summary": summary, "train_rows": len(clean), "flipped": runs[0]["flipped"],
                         "seconds": round(time.perf_counter() - started, 1), "load_average": os.getloadavg()}
        print(f"\n== {name}: {len(clean)} training rows, {runs[0]['flipped']} flipped ({args.noise:.0%}), "
              f"seeds {args.seeds}; mean [95% interval over seeds]")
        print(f"{'method':44} {'n':>2} {'precision@k':>24} {'flagged rows':>14} {'flag precision':>15} "
              f"{'flag recall':>12}")
        for method, row in summary.items():
            p = row["precision_at_k"]
            line = f"{method:44} {p['n']:2d} {p['mean']:.3f} [{p['interval'][0]:.3f}, {p['interval'][1]:.3f}]"
            if "rows" in row:
                line += (f" {row['rows']['mean']:14.0f} {row['precision']['mean']:15.3f} "
                         f"{row['recall']['mean']:12.3f}")
            print(line)
        diffs = [r["precision_at_k"][COMPLAINTKIT] - r["precision_at_k"][RECIPE] for r in runs]
        d = mean_interval(diffs)
        print(f"complaintkit minus recipe, precision@k: {d['mean']:+.3f} [{d['interval'][0]:+.3f}, "
              f"{d['interval'][1]:+.3f}]", flush=True)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=2, default=float)
    print(f"\nload average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
