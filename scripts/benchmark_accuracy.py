"""Root-cause accuracy: complaintkit's default head against three baselines, same split, same run.

Baselines (C chosen by 3-fold CV on the training rows, like the default's own settings):
  A  TF-IDF (word 1-2 grams) + LinearSVC
  B  frozen MiniLM embedding (truncated at 256 tokens) + LogisticRegression
  C  TF-IDF ⊕ MiniLM + LinearSVC
The default's ECE is printed before calibration (softmax of the SVM's decision values) and after.
``--time-rows N`` also times ``complaintkit train`` (fit, needs_review threshold, save) with an empty
embedding cache on N CFPB narratives: the 2,896 real ones, repeated with a "[copy k]" prefix as
needed (a timing input only; no quality figure comes from it).
Usage: python scripts/benchmark_accuracy.py [--tasks cfpb_product,cfpb_issue,airline,banking77] [--out F.json]
       [--calibrations isotonic,sigmoid] [--time-rows 8500]
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
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import FeatureUnion, make_pipeline
from sklearn.svm import LinearSVC

from _benchdata import REPO, Task, label_scores, load_task
from complaintkit import RootCauseClassifier, SentenceTransformerEmbedder, TrainConfig, train
from complaintkit.evaluation import expected_calibration_error
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


def baselines(task: Task, texts: list[str], vectors: np.ndarray) -> dict[str, dict]:
    """Fit the three baselines with C chosen by CV; return their test scores."""
    n_train = len(task.train_texts)
    ids = np.arange(len(texts)).reshape(-1, 1)
    tfidf = make_pipeline(Rows(texts), TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2))
    models = {
        "A tfidf+svc": (make_pipeline(tfidf, LinearSVC()), {"linearsvc__C": [0.1, 0.3, 1, 3]}),
        "B minilm+logreg": (make_pipeline(Rows(vectors), LogisticRegression(max_iter=3000)),
                            {"logisticregression__C": [1, 10, 100]}),
        "C tfidf⊕minilm+svc": (make_pipeline(FeatureUnion([("tfidf", tfidf), ("emb", Rows(vectors))]), LinearSVC()),
                               {"linearsvc__C": [0.1, 0.3, 1, 3]}),
    }
    results = {}
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    for name, (model, grid) in models.items():
        start = time.perf_counter()
        search = GridSearchCV(model, grid, cv=cv, scoring="f1_macro", n_jobs=1).fit(ids[:n_train], task.train_labels)
        results[name] = {**label_scores(task.test_labels, search.predict(ids[n_train:])),
                         "params": search.best_params_, "seconds": round(time.perf_counter() - start, 1)}
        print(f"  {name:24s} {results[name]}", flush=True)
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
    scores = {**label_scores(task.test_labels, head.classes_[proba.argmax(axis=1)]),
              "ece": _top_label_ece(head.classes_, proba, task.test_labels),
              "ece_uncalibrated": _top_label_ece(head.classes_, raw, task.test_labels),
              "calibration": head.calibration_, "C": head.C_, "embedding_weight": head.embedding_weight_,
              "train_seconds": round(seconds, 1)}
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


def run_task(name: str, cold_cache: bool, other_calibrations: list[str]) -> dict:
    task = load_task(name)
    print(f"{name}: {len(task.train_texts)} train / {len(task.test_texts)} test, "
          f"{len(set(task.train_labels))} classes", flush=True)
    texts = task.train_texts + task.test_texts
    vectors = SentenceTransformerEmbedder(max_words_per_chunk=None).fit().transform(texts)
    result = {"baselines": baselines(task, texts, vectors)}
    if cold_cache:
        os.environ["COMPLAINTKIT_CACHE_DIR"] = tempfile.mkdtemp(prefix="ck-cold-")
    head, proba, default = fit_default(task)
    print(f"  complaintkit default     macro_f1 {default['macro_f1']:.3f} accuracy {default['accuracy']:.3f} "
          f"ECE {default['ece_uncalibrated']:.3f} before / {default['ece']:.3f} after {default['calibration']} "
          f"calibration, C {default['C']}, embedding weight {default['embedding_weight']}, "
          f"train {default['train_seconds']}s{' (cold cache)' if cold_cache else ''}")
    result["complaintkit"] = default
    for method in other_calibrations:
        variant = result[f"complaintkit_{method}"] = complaintkit_default(task, calibration=method)
        print(f"  default with {method} calibration: macro_f1 {variant['macro_f1']:.3f} accuracy "
              f"{variant['accuracy']:.3f} ECE {variant['ece']:.3f}", flush=True)
    if name.startswith("cfpb"):
        truncated = result["complaintkit_truncated"] = complaintkit_default(task, max_words_per_chunk=None)
        print(f"  default, truncated at 256 tokens instead of chunk-pooled: {truncated['macro_f1']:.3f} / "
              f"{truncated['accuracy']:.3f}")
    if name == "cfpb_product":
        review = fit_review_threshold(head, pd.Series(task.train_texts), pd.Series(task.train_labels), 0.9)
        kept = proba.max(axis=1) >= review["threshold"]
        correct = head.classes_[proba.argmax(axis=1)] == np.asarray(task.test_labels, dtype=object)
        result["review_at_90"] = {"threshold": review["threshold"], "test_coverage": float(kept.mean()),
                                  "test_precision": float(correct[kept].mean())}
        print(f"  needs_review at 90% target precision: threshold {review['threshold']:.3f}, test coverage "
              f"{kept.mean():.1%} at precision {correct[kept].mean():.3f}")
    if task.train_parents:
        result["hierarchical"] = hierarchical(task)
        print(f"  issue within predicted product: {result['hierarchical']}")
    return result


def time_cold_training(rows: int) -> dict:
    """Seconds of ``complaintkit train`` (fit, needs_review threshold, save) on ``rows`` CFPB narratives, cold cache."""
    real = pd.read_csv(REPO / "data" / "cfpb" / "complaints.csv", dtype=str)
    copies = [real.assign(narrative=real["narrative"] if k == 0 else f"[copy {k}] " + real["narrative"])
              for k in range(-(-rows // len(real)))]
    frame = pd.concat(copies, ignore_index=True).head(rows)
    os.environ["COMPLAINTKIT_CACHE_DIR"] = tempfile.mkdtemp(prefix="ck-cold-")
    start = time.perf_counter()
    bundle = train(frame, TrainConfig(text_cols=("narrative",), label_col="product_group"), name="timing")
    bundle.save(tempfile.mkdtemp(prefix="ck-timing-"), overwrite=True)
    seconds = time.perf_counter() - start
    load = os.getloadavg()[0]
    print(f"\ncomplaintkit train on {rows:,} CFPB narratives ({len(real):,} real, the rest prefixed copies), "
          f"empty embedding cache: {seconds / 60:.1f} min (1-min load average at the end {load:.1f})", flush=True)
    return {"rows": rows, "seconds": round(seconds, 1), "load_average_at_end": load}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", default="cfpb_product,cfpb_issue,airline,banking77",
                        help='comma-separated; "" with --time-rows only times training')
    parser.add_argument("--out", default="out/benchmark_accuracy.json")
    parser.add_argument("--cold-cache", action="store_true", help="time the default's training with an empty cache")
    parser.add_argument("--calibrations", default="",
                        help="also score the default head with these calibration methods, e.g. isotonic,sigmoid")
    parser.add_argument("--time-rows", type=int, default=0,
                        help="also time `complaintkit train` on this many CFPB narratives with an empty cache")
    args = parser.parse_args()
    others = [method for method in args.calibrations.split(",") if method]
    results = {name: run_task(name, args.cold_cache and name == "cfpb_product", others)
               for name in args.tasks.split(",") if name}
    if results:
        print("\n| task | metric | A tfidf+svc | B minilm+logreg | C tfidf⊕minilm+svc | complaintkit |")
        print("|---|---|---|---|---|---|")
    for name, r in results.items():
        metric = load_task(name).headline
        cells = [f"{r['baselines'][b][metric]:.3f}" for b in r["baselines"]]
        print(f"| {name} | {metric} | {' | '.join(cells)} | **{r['complaintkit'][metric]:.3f}** |")
    if args.time_rows:
        results["cold_training"] = time_cold_training(args.time_rows)
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as handle:
        json.dump(results, handle, indent=2, default=str)


if __name__ == "__main__":
    main()
