"""Root-cause accuracy: complaintkit's default head against five baselines, same rows, same run.

Baselines (C chosen by 3-fold CV on the training rows unless fixed):
  A  TF-IDF (word 1-2 grams) + LinearSVC
  B  frozen MiniLM embedding (truncated at 256 tokens) + LogisticRegression
  C  TF-IDF ⊕ MiniLM + LinearSVC
  D  TF-IDF ⊕ MiniLM + class-balanced LinearSVC, fixed C=0.3
  E  MiniLM + class-balanced LogisticRegression
On each task's fixed split every model's headline metric has a percentile bootstrap 95% interval over the
test rows, and the default's lead over each baseline a paired bootstrap interval (same resamples).
``--repeats N`` also fits every model on N random stratified train/test splits of the CFPB rows (test share
as in the fixed split) and prints mean and sd per model and, per baseline, the mean difference with a
Student-t 95% interval over the splits and the number of splits the default won.
The default's ECE is printed before calibration (softmax of the SVM's decision values) and after.
Cold training time is measured by ``scripts/benchmark_training_time.py``.
Usage: python scripts/benchmark_accuracy.py [--tasks cfpb_product,cfpb_issue,airline,banking77] [--out F.json]
       [--repeats 10] [--repeat-tasks cfpb_product,cfpb_issue] [--extras] [--calibrations isotonic,sigmoid]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

import numpy as np
import pandas as pd
from scipy.special import softmax
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, StratifiedShuffleSplit
from sklearn.pipeline import FeatureUnion, make_pipeline
from sklearn.svm import LinearSVC

from _benchdata import Task, label_scores, load_average, load_task
from complaintkit import RootCauseClassifier, SentenceTransformerEmbedder
from complaintkit.evaluation import expected_calibration_error
from complaintkit.intervals import classification_intervals, mean_interval, paired_difference
from complaintkit.training import fit_review_threshold


class Rows(TransformerMixin, BaseEstimator):
    """Select rows of a precomputed matrix (or list of texts) by the integer ids in X."""

    def __init__(self, values: object = None) -> None:
        self.values = values

    def fit(self, X: np.ndarray, y: object = None) -> Rows:
        return self

    def transform(self, X: np.ndarray) -> object:
        idx = np.asarray(X).ravel()
        if isinstance(self.values, np.ndarray):
            return self.values[idx]
        return [self.values[i] for i in idx]


def baseline_models(texts: list[str], vectors: np.ndarray) -> dict[str, tuple[object, dict | None]]:
    """The baselines over row ids into ``texts`` / ``vectors``, each with its C grid (``None``: fixed C)."""
    tfidf = make_pipeline(Rows(texts), TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2))
    both = FeatureUnion([("tfidf", tfidf), ("emb", Rows(vectors))])
    return {
        "A tfidf+svc": (make_pipeline(tfidf, LinearSVC()), {"linearsvc__C": [0.1, 0.3, 1, 3]}),
        "B minilm+logreg": (make_pipeline(Rows(vectors), LogisticRegression(max_iter=3000)),
                            {"logisticregression__C": [1, 10, 100]}),
        "C tfidf⊕minilm+svc": (make_pipeline(both, LinearSVC()), {"linearsvc__C": [0.1, 0.3, 1, 3]}),
        "D tfidf⊕minilm+balanced svc C=0.3": (make_pipeline(both, LinearSVC(C=0.3, class_weight="balanced")), None),
        "E minilm+balanced logreg": (
            make_pipeline(Rows(vectors), LogisticRegression(max_iter=3000, class_weight="balanced")),
            {"logisticregression__C": [1, 10, 100]}),
    }


def baselines(texts: list[str], vectors: np.ndarray, labels: np.ndarray, train: np.ndarray, test: np.ndarray,
              verbose: bool = True, fixed: dict[str, dict] | None = None) -> dict[str, dict]:
    """Fit every baseline on rows ``train`` (C by 3-fold CV where it has a grid, or the C in ``fixed[name]``);
    predictions and scores on ``test``."""
    ids = np.arange(len(texts)).reshape(-1, 1)
    results = {}
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    for name, (model, grid) in baseline_models(texts, vectors).items():
        start = time.perf_counter()
        if fixed and isinstance(fixed.get(name), dict):
            model, grid = model.set_params(**fixed[name]), None
        fitted = (GridSearchCV(model, grid, cv=cv, scoring="f1_macro", n_jobs=1) if grid else model)
        fitted.fit(ids[train], labels[train])
        predicted = fitted.predict(ids[test])
        results[name] = {**label_scores(labels[test], predicted), "predicted": predicted,
                         "params": getattr(fitted, "best_params_", (fixed or {}).get(name, "fixed")),
                         "seconds": round(time.perf_counter() - start, 1)}
        if verbose:
            print(f"  {name:34s} macro_f1 {results[name]['macro_f1']:.3f} accuracy {results[name]['accuracy']:.3f} "
                  f"{results[name]['params']} {results[name]['seconds']}s", flush=True)
    return results


def _top_label_ece(classes: np.ndarray, proba: np.ndarray, labels: list[str]) -> float:
    correct = classes[proba.argmax(axis=1)] == np.asarray(labels, dtype=object)
    return expected_calibration_error(proba.max(axis=1), correct)


def fit_default(task: Task, **params: object) -> tuple[RootCauseClassifier, np.ndarray, dict]:
    """complaintkit's default head (optionally with ``params``) fitted on the train split: head,
    test-split probabilities and test scores."""
    start = time.perf_counter()
    head = RootCauseClassifier(**params).fit(task.train_texts, task.train_labels)
    seconds = time.perf_counter() - start
    proba = head.predict_proba(task.test_texts)
    raw = softmax(head.decision_function(task.test_texts), axis=1)
    predicted = head.classes_[proba.argmax(axis=1)]
    scores = {**label_scores(task.test_labels, predicted), "predicted": predicted,
              "ece": _top_label_ece(head.classes_, proba, task.test_labels),
              "ece_uncalibrated": _top_label_ece(head.classes_, raw, task.test_labels),
              "calibration": head.calibration_, **head.chosen_settings(), "cv_scheme": head.cv_scheme_,
              "cv_candidates": head.cv_macro_f1_, "train_seconds": round(seconds, 1)}
    return head, proba, scores


def complaintkit_default(task: Task, **params: object) -> dict:
    """Test scores of complaintkit's default head (optionally with ``params``) fitted on the train split."""
    return fit_default(task, **params)[2]


def hierarchical(task: Task) -> dict:
    """Predict the parent (product) first, then the issue with a model of that product's rows."""
    parent = RootCauseClassifier().fit(task.train_texts, task.train_parents)
    predicted_parent = parent.predict(task.test_texts)
    predicted = np.empty(len(task.test_texts), dtype=object)
    train_parents = np.asarray(task.train_parents, dtype=object)
    labels = np.asarray(task.train_labels, dtype=object)
    texts = np.asarray(task.train_texts, dtype=object)
    for value in np.unique(predicted_parent):
        rows = np.flatnonzero(predicted_parent == value)
        mine = train_parents == value
        issues, counts = np.unique(labels[mine], return_counts=True)
        if len(issues) < 2 or counts.min() < 2:
            predicted[rows] = issues[counts.argmax()]
            continue
        child = RootCauseClassifier().fit(texts[mine].tolist(), labels[mine])
        predicted[rows] = child.predict([task.test_texts[i] for i in rows])
    return label_scores(task.test_labels, predicted)


PREVIOUS_DEFAULT = {"use_tfidf": True, "cv_repeats": 1, "selection": "best"}


def task_rows(task: Task) -> tuple[list[str], np.ndarray]:
    """All texts of a task (train split first) and their labels."""
    return task.train_texts + task.test_texts, np.asarray(task.train_labels + task.test_labels, dtype=object)


def truncated_vectors(texts: list[str]) -> np.ndarray:
    """MiniLM embeddings truncated at the encoder's limit (the baselines' features), from the cache."""
    return SentenceTransformerEmbedder(max_words_per_chunk=None).fit().transform(texts)


def compare_on_test(result: dict, test_labels: list[str], headline: str) -> None:
    """Add bootstrap intervals of every model and paired intervals of the default's lead to ``result``."""
    default = result["complaintkit"]
    for scores in [default, *result["baselines"].values()]:
        scores["ci"] = classification_intervals(test_labels, scores["predicted"])
    for name, scores in result["baselines"].items():
        scores["default_minus_this"] = paired_difference(test_labels, default["predicted"], scores["predicted"])
        gap = scores["default_minus_this"][headline]
        print(f"  default − {name}: {headline} {gap['difference']:+.3f} (paired bootstrap 95% CI "
              f"{gap['interval'][0]:+.3f} to {gap['interval'][1]:+.3f}; default ahead in {gap['share_a_better']:.0%} "
              "of resamples)", flush=True)


def run_task(name: str, cold_cache: bool, other_calibrations: list[str], extras: bool) -> dict:
    task = load_task(name)
    print(f"{name}: {len(task.train_texts)} train / {len(task.test_texts)} test, "
          f"{len(set(task.train_labels))} classes (load {load_average()})", flush=True)
    texts, labels = task_rows(task)
    n_train = len(task.train_texts)
    result = {"baselines": baselines(texts, truncated_vectors(texts), labels, np.arange(n_train),
                                     np.arange(n_train, len(texts)))}
    if cold_cache:
        os.environ["COMPLAINTKIT_CACHE_DIR"] = tempfile.mkdtemp(prefix="ck-cold-")
    head, proba, default = fit_default(task)
    print(f"  complaintkit default     macro_f1 {default['macro_f1']:.3f} accuracy {default['accuracy']:.3f} "
          f"ECE {default['ece_uncalibrated']:.3f} before / {default['ece']:.3f} after {default['calibration']} "
          f"calibration, C {default['C']}, embedding weight {default['embedding_weight']}, TF-IDF "
          f"{default['use_tfidf']}, train {default['train_seconds']}s{' (cold cache)' if cold_cache else ''} "
          f"(load {load_average()})", flush=True)
    result["complaintkit"] = default
    for row in sorted(default["cv_candidates"], key=lambda r: -r["macro_f1"]):
        print(f"    CV {'*' if row['chosen'] else ' '} TF-IDF {row['use_tfidf']!s:5} weight {row['embedding_weight']} "
              f"C {row['C']}: macro-F1 {row['macro_f1']:.4f} ± {row['se']:.4f}")
    compare_on_test(result, task.test_labels, task.headline)
    previous = result["previous_default"] = complaintkit_default(task, **PREVIOUS_DEFAULT)
    print(f"  previous default (TF-IDF always on, one 3-fold CV, best mean): macro_f1 {previous['macro_f1']:.3f} "
          f"accuracy {previous['accuracy']:.3f}, C {previous['C']}, embedding weight {previous['embedding_weight']}, "
          f"train {previous['train_seconds']}s vs {default['train_seconds']}s (load {load_average()})", flush=True)
    for method in other_calibrations:
        variant = result[f"complaintkit_{method}"] = complaintkit_default(task, calibration=method)
        print(f"  default with {method} calibration: macro_f1 {variant['macro_f1']:.3f} accuracy "
              f"{variant['accuracy']:.3f} ECE {variant['ece']:.3f}", flush=True)
    if extras and name.startswith("cfpb"):
        truncated = result["complaintkit_truncated"] = complaintkit_default(task, max_words_per_chunk=None)
        print(f"  default, truncated at 256 tokens instead of chunk-pooled: {truncated['macro_f1']:.3f} / "
              f"{truncated['accuracy']:.3f}")
    if extras and name == "cfpb_product":
        review = fit_review_threshold(head, pd.Series(task.train_labels), 0.9)
        kept = proba.max(axis=1) >= review["threshold"]
        correct = head.classes_[proba.argmax(axis=1)] == np.asarray(task.test_labels, dtype=object)
        result["review_at_90"] = {"threshold": review["threshold"], "test_coverage": float(kept.mean()),
                                  "test_precision": float(correct[kept].mean())}
        print(f"  needs_review at 90% target precision: threshold {review['threshold']:.3f}, test coverage "
              f"{kept.mean():.1%} at precision {correct[kept].mean():.3f}")
    if extras and task.train_parents:
        result["hierarchical"] = hierarchical(task)
        print(f"  issue within predicted product: {result['hierarchical']}")
    return result


def repeated_splits(name: str, repeats: int, default_params: dict, baseline_params: dict | None = None) -> dict:
    """Default and baselines on ``repeats`` random stratified train/test splits of all of a task's rows.

    ``default_params`` fix the default's settings (else it searches on each split's training rows);
    ``baseline_params`` fix each baseline's C (else each chooses it by CV on each split).
    """
    task = load_task(name)
    texts, labels = task_rows(task)
    vectors = truncated_vectors(texts)
    test_size = len(task.test_texts) / len(texts)
    splitter = StratifiedShuffleSplit(n_splits=repeats, test_size=test_size, random_state=0)
    per_split: dict[str, list[float]] = {}
    for k, (train_rows, test_rows) in enumerate(splitter.split(np.zeros(len(labels)), labels)):
        split_task = Task(name, [texts[i] for i in train_rows], labels[train_rows].tolist(),
                          [texts[i] for i in test_rows], labels[test_rows].tolist(), headline=task.headline)
        models = baselines(texts, vectors, labels, train_rows, test_rows, verbose=False, fixed=baseline_params)
        models["complaintkit"] = fit_default(split_task, **default_params)[2]
        for model, scores in models.items():
            per_split.setdefault(model, []).append(scores[task.headline])
        print(f"  {name} split {k + 1}/{repeats}: " + ", ".join(
            f"{model.split()[0]} {values[-1]:.3f}" for model, values in per_split.items())
            + f" (load {load_average()})", flush=True)
    default = np.asarray(per_split["complaintkit"])
    summary = {"splits": repeats, "test_size": round(test_size, 3), "metric": task.headline,
               "default_params": default_params or "as shipped (searched on each split's training rows)",
               "baseline_params": baseline_params or "C chosen by 3-fold CV on each split's training rows",
               "models": {m: {"per_split": v, "mean": float(np.mean(v)), "sd": float(np.std(v, ddof=1))}
                          for m, v in per_split.items()}}
    for model, values in per_split.items():
        if model != "complaintkit":
            gaps = default - np.asarray(values)
            summary["models"][model]["default_minus_this"] = {**mean_interval(gaps),
                                                              "default_wins": int((gaps > 0).sum())}
    return summary


def print_repeated(name: str, summary: dict) -> None:
    print(f"\n{name}: {summary['splits']} random stratified splits ({summary['test_size']:.0%} test), "
          f"{summary['metric']}, default {summary['default_params']}, baselines {summary['baseline_params']}")
    print("| model | mean | sd | default − model: mean [95% t-interval] | default wins |")
    print("|---|---|---|---|---|")
    for model, row in summary["models"].items():
        gap = row.get("default_minus_this")
        cells = (f"{gap['mean']:+.3f} [{gap['interval'][0]:+.3f}, {gap['interval'][1]:+.3f}] | "
                 f"{gap['default_wins']}/{summary['splits']}") if gap else "— | —"
        print(f"| {model} | {row['mean']:.3f} | {row['sd']:.3f} | {cells} |")


def _jsonable(value: object) -> object:
    return value.tolist() if isinstance(value, np.ndarray) else str(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", default="cfpb_product,cfpb_issue,airline,banking77",
                        help="comma-separated")
    parser.add_argument("--out", default="out/benchmark_accuracy.json")
    parser.add_argument("--cold-cache", action="store_true", help="time the default's training with an empty cache")
    parser.add_argument("--calibrations", default="",
                        help="also score the default head with these calibration methods, e.g. isotonic,sigmoid")
    parser.add_argument("--repeats", type=int, default=0,
                        help="also compare on this many random stratified train/test splits of --repeat-tasks")
    parser.add_argument("--repeat-tasks", default="cfpb_product,cfpb_issue")
    parser.add_argument("--repeat-fixed", action="store_true",
                        help="on the repeated splits, fix every model's settings to those it chose on the fixed "
                             "split's training rows (bounds the run time); needs the task in --tasks")
    parser.add_argument("--extras", action="store_true",
                        help="also the truncated-embedding, hierarchical and needs_review variants")
    args = parser.parse_args()
    others = [method for method in args.calibrations.split(",") if method]
    results = {name: run_task(name, args.cold_cache and name == "cfpb_product", others, args.extras)
               for name in args.tasks.split(",") if name}
    if results:
        names = list(next(iter(results.values()))["baselines"])
        print("\n| task | metric | " + " | ".join(names) + " | complaintkit |")
        print("|---|---|" + "---|" * (len(names) + 1))
    for name, r in results.items():
        metric = load_task(name).headline
        cells = [f"{r['baselines'][b][metric]:.3f} [{r['baselines'][b]['ci'][metric][0]:.3f}, "
                 f"{r['baselines'][b]['ci'][metric][1]:.3f}]" for b in r["baselines"]]
        ck = r["complaintkit"]
        print(f"| {name} | {metric} | {' | '.join(cells)} | **{ck[metric]:.3f}** [{ck['ci'][metric][0]:.3f}, "
              f"{ck['ci'][metric][1]:.3f}] |")
    if args.repeats:
        results["repeated_splits"] = {}
        for name in filter(None, args.repeat_tasks.split(",")):
            default_params, baseline_params = {}, None
            if args.repeat_fixed:
                fixed = results[name]
                default_params = {k: fixed["complaintkit"][k] for k in ("C", "embedding_weight", "use_tfidf")}
                baseline_params = {b: r["params"] for b, r in fixed["baselines"].items()}
            results["repeated_splits"][name] = repeated_splits(name, args.repeats, default_params, baseline_params)
        for name, summary in results["repeated_splits"].items():
            print_repeated(name, summary)
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as handle:
        json.dump(results, handle, indent=2, default=_jsonable)


if __name__ == "__main__":
    main()
