"""Doubtful-label detection with 10% of training labels flipped at random: complaintkit against cleanlab's recipe.

For each task (airline complaint reasons, banking77 intents; fixed train/test splits from
../shared/data) the script flips ``--noise`` of the training labels to another class chosen
uniformly, then in one run:

1. fits the root-cause head on the clean labels (``--head full``: the default head, its C and
   embedding weight chosen by CV as ``train`` does; ``--head frozen``: the same head class on the
   cached MiniLM embeddings alone, C=1, a bounded run) and keeps those settings for every fit below;
2. complaintkit: 3-fold out-of-fold probabilities of that head on the noisy labels
   (:func:`complaintkit.training.out_of_fold_proba`, the very call ``train`` makes) and the list
   ``train`` writes (:func:`complaintkit.label_issues.find_label_issues`);
3. cleanlab's recipe: out-of-fold probabilities of logistic regression on the same (cached)
   MiniLM embeddings, 3 folds, and ``cleanlab.filter.find_label_issues`` with its defaults;
4. also, for the record, a class-threshold-adjusted margin on complaintkit's probabilities
   (tried first, not kept);
5. reports precision at k = number of flipped rows (top k of each method's ranking of all rows by
   its score), each flagged list's size, precision and recall, and held-out macro-F1 (accuracy) of
   heads fitted on the clean labels, the noisy labels and the noisy labels without each flagged
   list, with the share of the noise's macro-F1 loss that removing it recovers.

Embeddings come from the project's SQLite cache. One noise draw per task (``--seed``).

    python scripts/benchmark_label_issues.py --tasks airline banking77 --head frozen
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import pandas as pd

from _benchdata import label_scores, load_task
from complaintkit import RootCauseClassifier, SentenceTransformerEmbedder
from complaintkit.label_issues import find_label_issues
from complaintkit.training import out_of_fold_proba


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
    """Share of truly flipped rows among the first ``k`` of ``ranking`` (missing places count as misses)."""
    return float(truth[ranking[:k]].sum() / k)


def fit_scores(settings: dict, texts: list[str], labels: np.ndarray, test_texts: list[str],
               test_labels: list[str]) -> dict[str, float]:
    head = RootCauseClassifier(**settings).fit(texts, labels)
    return label_scores(test_labels, head.predict(test_texts))


def adjusted_margin(proba: np.ndarray, given: np.ndarray) -> np.ndarray:
    """Best other class's probability over its class threshold minus the given label's (tried, not kept)."""
    counts = np.bincount(given, minlength=proba.shape[1])
    sums = np.bincount(given, weights=proba[np.arange(len(given)), given], minlength=proba.shape[1])
    adjusted = proba / np.where(counts > 0, sums / np.maximum(counts, 1), 1.0).clip(min=1e-6)
    own = adjusted[np.arange(len(given)), given].copy()
    adjusted[np.arange(len(given)), given] = -np.inf
    return adjusted.max(axis=1) - own


def run_task(name: str, noise: float, seed: int, head_kind: str = "full") -> dict:
    from cleanlab.filter import find_label_issues as cleanlab_find
    from cleanlab.rank import get_label_quality_scores
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    task = load_task(name)
    texts, clean = task.train_texts, np.asarray(task.train_labels, dtype=object)
    noisy, flipped = flip_labels(clean, noise, np.random.default_rng(seed))
    k = int(flipped.sum())
    started = time.perf_counter()
    if head_kind == "frozen":  # the same head class on the cached embeddings alone: no TF-IDF, fixed C
        settings = {"use_tfidf": False, "embedding_weight": 1.0, "C": 1.0}
        clean_head = RootCauseClassifier(**settings).fit(texts, clean)
    else:
        clean_head = RootCauseClassifier().fit(texts, clean)
        settings = {"C": clean_head.C_, "embedding_weight": clean_head.embedding_weight_}
    print(f"[{name}] clean head fitted ({time.perf_counter() - started:.0f} s)", flush=True)
    result: dict = {"task": name, "head": head_kind, "train_rows": len(texts), "flipped": k, "settings": settings,
                    "clean": label_scores(task.test_labels, clean_head.predict(task.test_texts))}
    head = RootCauseClassifier(**settings).fit(texts, noisy)
    result["noisy"] = label_scores(task.test_labels, head.predict(task.test_texts))
    proba, _ = out_of_fold_proba(head, pd.Series(texts), pd.Series(noisy), seed)
    print(f"[{name}] noisy head and its out-of-fold probabilities ({time.perf_counter() - started:.0f} s)", flush=True)
    classes = np.asarray(head.classes_, dtype=object)
    given = pd.Index(classes).get_indexer(noisy)

    vectors = SentenceTransformerEmbedder().fit().transform(texts)  # cached
    cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=seed)
    recipe = cross_val_predict(LogisticRegression(max_iter=1000), vectors, given, cv=cv, method="predict_proba")
    rankings = {
        "complaintkit (head OOF, self-confidence)": np.argsort(get_label_quality_scores(given, proba), kind="stable"),
        "cleanlab recipe (LogReg on MiniLM OOF)": np.argsort(get_label_quality_scores(given, recipe), kind="stable"),
        "adjusted margin on head OOF (not kept)": np.argsort(-adjusted_margin(proba, given), kind="stable"),
    }
    flagged_sets = {
        "complaintkit (train's label_issues.csv)":
            find_label_issues(proba, noisy.tolist(), classes, np.arange(len(texts)))["row_id"].to_numpy(dtype=int),
        "cleanlab recipe (find_label_issues defaults)": cleanlab_find(given, recipe),
    }
    flagged_sets["cleanlab recipe (find_label_issues defaults)"] = np.flatnonzero(
        flagged_sets["cleanlab recipe (find_label_issues defaults)"])
    result["precision_at_k"] = {method: precision_at(r, flipped, k) for method, r in rankings.items()}
    result["flagged"] = {method: {"rows": int(len(rows)),
                                  "precision": float(flipped[rows].mean()) if len(rows) else 0.0,
                                  "recall": float(flipped[rows].sum() / k)}
                         for method, rows in flagged_sets.items()}
    result["retrained_without_flagged"] = {}
    lost = result["clean"]["macro_f1"] - result["noisy"]["macro_f1"]
    for method, rows in flagged_sets.items():
        keep = np.ones(len(texts), dtype=bool)
        keep[rows] = False
        kept_texts = [t for t, kept in zip(texts, keep, strict=True) if kept]
        scores = fit_scores(settings, kept_texts, noisy[keep], task.test_texts, task.test_labels)
        scores["recovered_share_of_macro_f1_loss"] = ((scores["macro_f1"] - result["noisy"]["macro_f1"]) / lost
                                                      if lost > 0 else float("nan"))
        result["retrained_without_flagged"][method] = scores
    result["seconds"] = round(time.perf_counter() - started, 1)
    result["load_average"] = os.getloadavg()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=["airline", "banking77"])
    parser.add_argument("--noise", type=float, default=0.10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--head", choices=("full", "frozen"), default="full",
                        help="full: the default head (TF-IDF + MiniLM, settings by CV), as train fits it; frozen: "
                             "the same head on the cached MiniLM embeddings alone with C=1 (a bounded run).")
    parser.add_argument("--json", help="Also write the results as JSON here.")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()}")
    results = []
    for name in args.tasks:
        r = run_task(name, args.noise, args.seed, args.head)
        results.append(r)
        print(f"\n== {name} ({r['head']} head): {r['train_rows']} training rows, "
              f"{r['flipped']} flipped ({args.noise:.0%}), "
              f"settings {r['settings']}, {r['seconds']} s, load {r['load_average'][0]:.1f}")
        print(f"precision at k={r['flipped']}:")
        for method, value in r["precision_at_k"].items():
            print(f"  {method:48} {value:.3f}")
        print("flagged set (rows, precision, recall):")
        for method, f in r["flagged"].items():
            print(f"  {method:48} {f['rows']:6d}  {f['precision']:.3f}  {f['recall']:.3f}")
        print("held-out macro-F1 (accuracy):")
        for label, s in (("clean labels", r["clean"]), ("noisy labels", r["noisy"]),
                         *((f"noisy minus {m} flagged", s) for m, s in r["retrained_without_flagged"].items())):
            extra = (f"  recovers {s['recovered_share_of_macro_f1_loss']:.0%} of the loss"
                     if "recovered_share_of_macro_f1_loss" in s else "")
            print(f"  {label:60} {s['macro_f1']:.4f} ({s['accuracy']:.4f}){extra}")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=2, default=float)
    print(f"\nload average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
