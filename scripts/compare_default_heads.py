"""Which root-cause head should be the default: the current default against simpler heads, repeated splits.

Every model is fitted and scored on the same ``--repeats`` random stratified train/test splits of all of a
task's labelled rows (the test share of the task's fixed split), in one run. To keep the run bounded, the
TF-IDF vocabularies and weights are fitted once on all of a task's texts (no labels; the same for every
model), not on each split's training rows, and the models with a C grid choose C by 3-fold CV on the first
split's training rows and keep it. Per model: mean macro-F1 and accuracy, the mean of the per-split
differences to the current default with a Student-t 95% interval, the splits it beat the default in, and its
mean fitting time. The JSON (``--out``) is rewritten after every split; ``--tables`` prints it.

Models (all class-balanced; texts normalised as the head does; embeddings are all-MiniLM-L6-v2, chunk-pooled
over 180-word chunks, read from the embedding cache):
  default         the default head's features (embedding × weight ⊕ word 1-2-gram TF-IDF ⊕ character
                  2-5-gram TF-IDF) and linear SVM, with the C and embedding weight its own search (repeated
                  stratified CV, one-SE rule) chose on the first split's training rows (timed once), or those
                  given by ``--default-settings``, kept on every split
  D               word TF-IDF ⊕ embedding + linear SVM, C = 0.3
  D-cv            the same, C in (0.1, 0.3, 1) by 3-fold CV
  svm-minilm      embedding + linear SVM, C in (0.1, 0.3, 1) by 3-fold CV
  logreg-minilm   embedding + logistic regression, C in (1, 10, 100) by 3-fold CV
Levers (``--levers``):
  D-trunc         (CFPB) D on the raw texts with the embedding truncated at 256 tokens instead of chunk-pooled
  default-head    (CFPB) the default (same blocks, C and embedding weight) with each text longer than 180 words
                  embedded as its first 180 words only (``long_texts="head"``) instead of every chunk, mean-pooled
  default-head_tail  (CFPB) the same with its first 90 and last 90 words as one window (``long_texts="head_tail"``)
  D-words13       (tasks with a parent label) D with word 1-3-grams
  D+parent        (tasks with a parent label) D's decision value of each issue plus the decision value of its
                  parent product from a second D model
Usage: nice -n 5 python scripts/compare_default_heads.py [--tasks cfpb_product,cfpb_issue,airline,banking77]
       [--repeats 10] [--levers] [--models default,D,D-cv] [--max-train-rows 3000]
       [--default-settings JSON] [--out out/compare_default_heads.json]
       python scripts/compare_default_heads.py --tables out/compare_*.json
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold, StratifiedShuffleSplit
from sklearn.svm import LinearSVC

from _benchdata import cpu_flags, label_scores, load_average, load_task
from complaintkit import RootCauseClassifier, SentenceTransformerEmbedder
from complaintkit.heads.char_ngrams import CharNgramTfidfVectorizer
from complaintkit.intervals import mean_interval
from complaintkit.text import TextNormaliser

LONG_TEXT_LEVERS = ("head", "head_tail")  # long_texts policies compared with the default's "chunks"


def svm(C: float) -> LinearSVC:
    return LinearSVC(C=C, class_weight="balanced", max_iter=5000, random_state=0)


def logreg(C: float) -> LogisticRegression:
    return LogisticRegression(C=C, class_weight="balanced", max_iter=3000)


def fit_by_cv(make: Callable[[float], object], grid: tuple[float, ...], X: object, y: np.ndarray
              ) -> tuple[object, float]:
    """``make(C)`` fitted on all of X with the C of the best 3-fold CV macro-F1 on X."""
    folds = list(StratifiedKFold(3, shuffle=True, random_state=0).split(np.zeros(len(y)), y))
    scores = [np.mean([f1_score(y[te], make(C).fit(X[tr], y[tr]).predict(X[te]), average="macro", zero_division=0)
                       for tr, te in folds]) for C in grid]
    C = grid[int(np.argmax(scores))]
    return make(C).fit(X, y), C


def word_tfidf(ngrams: int = 2) -> TfidfVectorizer:
    """The head's word TF-IDF block (as in ``RootCauseClassifier._features``), of 1- to ``ngrams``-grams."""
    return TfidfVectorizer(ngram_range=(1, ngrams), min_df=2, max_df=0.9, sublinear_tf=True, max_features=200_000)


def default_blocks() -> list[object]:
    """The default head's TF-IDF blocks, as in ``RootCauseClassifier._features``."""
    return [word_tfidf(), CharNgramTfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True,
                                     max_features=300_000)]


class Split:
    """One random split of a task: row indices, labels and the feature blocks of every row."""

    def __init__(self, labels: np.ndarray, parents: np.ndarray | None, blocks: dict[str, object],
                 train: np.ndarray, test: np.ndarray) -> None:
        self.labels, self.parents, self.blocks, self.train, self.test = labels, parents, blocks, train, test
        self.y_train, self.y_test = labels[train], labels[test]

    def features(self, weight: float, tfidf: str | None, vectors: str = "vectors"
                 ) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
        """Train and test matrices: ``weight`` × the embedding ``vectors`` ⊕ the TF-IDF block ``tfidf``."""
        parts = [sparse.csr_matrix(self.blocks[vectors] * weight)] + ([self.blocks[tfidf]] if tfidf else [])
        matrix = sparse.hstack(parts).tocsr()
        return matrix[self.train], matrix[self.test]


def with_parent(split: Split, make_features: Callable[[], tuple], C: float) -> np.ndarray:
    """Issue predictions from the sum of each issue's decision value and that of its (majority) parent."""
    X_train, X_test = make_features()
    issue_model = svm(C).fit(X_train, split.y_train)
    parent_model = svm(C).fit(X_train, split.parents[split.train])
    pairs: dict[str, dict[str, int]] = {}
    for issue, parent in zip(split.y_train, split.parents[split.train], strict=True):
        pairs.setdefault(issue, {}).setdefault(parent, 0)
        pairs[issue][parent] += 1
    parent_of = {issue: max(counts, key=counts.get) for issue, counts in pairs.items()}
    parent_index = {p: i for i, p in enumerate(parent_model.classes_)}
    columns = [parent_index[parent_of[issue]] for issue in issue_model.classes_]
    scores = issue_model.decision_function(X_test) + parent_model.decision_function(X_test)[:, columns]
    return issue_model.classes_[scores.argmax(axis=1)]


def run_models(split: Split, default_settings: dict, levers: bool, chosen_C: dict[str, float],
               only: set[str] | None = None) -> dict[str, tuple[np.ndarray, float]]:
    """Every model's test predictions and fitting seconds on one split.

    The models with a C grid choose C by 3-fold CV on the first split they see and record it in ``chosen_C``;
    on later splits they keep it (the run stays bounded).
    """
    out: dict[str, tuple[np.ndarray, float]] = {}
    weight, C_default = default_settings["embedding_weight"], default_settings["C"]

    def timed(name: str, fit_predict: Callable[[], np.ndarray]) -> None:
        if only and name not in only:
            return
        start = time.perf_counter()
        predicted = fit_predict()
        out[name] = (predicted, time.perf_counter() - start)

    def default(vectors: str = "vectors") -> np.ndarray:
        X_train, X_test = split.features(weight, "default_tfidf", vectors)
        return svm(C_default).fit(X_train, split.y_train).predict(X_test)

    def fixed_d(vectors: str = "vectors", words: str = "words") -> Callable[[], np.ndarray]:
        def fit_predict() -> np.ndarray:
            X_train, X_test = split.features(1.0, words, vectors)
            return svm(0.3).fit(X_train, split.y_train).predict(X_test)
        return fit_predict

    def by_cv(name: str, make: Callable[[float], object], grid: tuple[float, ...], X_train: object
              ) -> object:
        if name not in chosen_C:
            model, chosen_C[name] = fit_by_cv(make, grid, X_train, split.y_train)
            return model
        return make(chosen_C[name]).fit(X_train, split.y_train)

    def d_cv() -> np.ndarray:
        X_train, X_test = split.features(1.0, "words")
        return by_cv("D-cv", svm, (0.1, 0.3, 1.0), X_train).predict(X_test)

    def embedding_only(name: str, make: Callable[[float], object], grid: tuple[float, ...]
                       ) -> Callable[[], np.ndarray]:
        def fit_predict() -> np.ndarray:
            vectors = split.blocks["vectors"]
            return by_cv(name, make, grid, vectors[split.train]).predict(vectors[split.test])
        return fit_predict

    timed("default", default)
    for policy in LONG_TEXT_LEVERS:
        if f"vectors_{policy}" in split.blocks:
            timed(f"default-{policy}", lambda policy=policy: default(f"vectors_{policy}"))
    timed("D", fixed_d())
    timed("D-cv", d_cv)
    if "truncated" in split.blocks and levers:
        timed("D-trunc", fixed_d("truncated", "raw_words"))
    timed("svm-minilm", embedding_only("svm-minilm", svm, (0.1, 0.3, 1.0)))
    timed("logreg-minilm", embedding_only("logreg-minilm", logreg, (1.0, 10.0, 100.0)))
    if levers and split.parents is not None:
        timed("D-words13", fixed_d(words="words13"))
        timed("D+parent", lambda: with_parent(split, lambda: split.features(1.0, "words"), 0.3))
    return out


def compare_task(name: str, repeats: int, levers: bool, max_search_rows: int, settings: dict | None,
                 save: Callable[[dict], None], only: set[str] | None = None, max_train_rows: int = 0) -> dict:
    """Every model on ``repeats`` random stratified splits of a task; ``save`` gets the summary after each split."""
    task = load_task(name)
    raw = task.train_texts + task.test_texts
    labels = np.asarray(task.train_labels + task.test_labels, dtype=object)
    parents = (np.asarray(task.train_parents + task.test_parents, dtype=object) if task.train_parents else None)
    texts = TextNormaliser().fit(raw).transform(raw)
    blocks: dict[str, object] = {"vectors": SentenceTransformerEmbedder().fit().transform(texts),
                                 "default_tfidf": sparse.hstack([b.fit_transform(texts) for b in default_blocks()]),
                                 "words": word_tfidf().fit_transform(texts)}
    if name.startswith("cfpb") and levers:  # the earlier baseline D: raw texts, embedding truncated at 256 tokens
        blocks["truncated"] = SentenceTransformerEmbedder(max_words_per_chunk=None).fit().transform(raw)
        blocks["raw_words"] = word_tfidf().fit_transform(raw)
    for policy in LONG_TEXT_LEVERS:  # the default's embedding of one window per long text
        if name.startswith("cfpb") and (levers or (only and f"default-{policy}" in only)):
            blocks[f"vectors_{policy}"] = SentenceTransformerEmbedder(long_texts=policy).fit().transform(texts)
    if levers and parents is not None:
        blocks["words13"] = word_tfidf(3).fit_transform(texts)
    test_size = len(task.test_texts) / len(raw)
    splits = list(StratifiedShuffleSplit(repeats, test_size=test_size, random_state=0)
                  .split(np.zeros(len(labels)), labels))
    first_train = np.sort(splits[0][0])
    search_rows = first_train
    if len(first_train) > max_search_rows:  # bound the one timed search on the largest task
        search_rows = np.sort(np.random.default_rng(0).choice(first_train, max_search_rows, replace=False))
    start = time.perf_counter()
    searched = [] if settings else RootCauseClassifier().fit([raw[i] for i in search_rows], labels[search_rows])
    search_seconds = time.perf_counter() - start
    settings = settings or searched.chosen_settings()
    print(f"{name}: {len(raw)} rows, {len(set(labels))} classes, {repeats} splits ({test_size:.0%} test); "
          f"the default's own fit (search + calibration) on {len(search_rows)} training rows of split 1: "
          f"{search_seconds:.0f} s, chose {settings} (load {load_average()})", flush=True)
    per_model: dict[str, dict[str, list[float]]] = {}
    chosen_C: dict[str, float] = {}
    summary = {"rows": len(raw), "classes": len(set(labels)), "test_size": round(test_size, 3),
               "default_settings": settings, "default_fit_seconds": round(search_seconds, 1),
               "default_search_rows": len(search_rows), "default_cv": getattr(searched, "cv_macro_f1_", "given"),
               "chosen_C_on_split_1": chosen_C, "max_train_rows": max_train_rows or "all"}
    for k, (train, test) in enumerate(splits):
        if max_train_rows and len(train) > max_train_rows:  # the same stratified subsample for every model
            keep = next(StratifiedShuffleSplit(1, train_size=max_train_rows, random_state=k)
                        .split(np.zeros(len(train)), labels[train]))[0]
            train = train[keep]
        split = Split(labels, parents, blocks, train, test)
        for model, (predicted, seconds) in run_models(split, settings, levers, chosen_C, only).items():
            scores = label_scores(split.y_test.tolist(), predicted)
            row = per_model.setdefault(model, {"macro_f1": [], "accuracy": [], "seconds": []})
            row["macro_f1"].append(scores["macro_f1"])
            row["accuracy"].append(scores["accuracy"])
            row["seconds"].append(seconds)
        print(f"  split {k + 1}/{repeats}: " + ", ".join(f"{m} {r['macro_f1'][-1]:.3f} ({r['seconds'][-1]:.0f}s)"
                                                         for m, r in per_model.items())
              + f" (load {load_average()})", flush=True)
        summary.update(splits=k + 1, models=summarise_models(per_model), load_average=load_average())
        save(summary)
    return summary


def summarise_models(per_model: dict[str, dict[str, list[float]]]) -> dict[str, dict]:
    """Mean and sd of every model's scores, and the Student-t interval of its per-split gap to the default."""
    default, models = per_model["default"], {}
    for model, row in per_model.items():
        entry = {metric: {"mean": float(np.mean(v)), "sd": float(np.std(v, ddof=1)) if len(v) > 1 else 0.0,
                          "per_split": list(v)} for metric, v in row.items()}
        if model != "default" and len(row["macro_f1"]) > 1:
            for metric in ("macro_f1", "accuracy"):
                gaps = np.asarray(row[metric]) - np.asarray(default[metric])
                entry[metric]["minus_default"] = {**mean_interval(gaps), "wins": int((gaps > 0).sum())}
        models[model] = entry
    return models


def print_summary(name: str, summary: dict) -> None:
    print(f"\n{name} ({summary['rows']} rows, {summary['classes']} classes, {summary['splits']} random stratified "
          f"splits, {summary['test_size']:.0%} test); default settings {summary['default_settings']}")
    print("| model | macro-F1 mean (sd) | model − default [95% t-interval] | splits won | accuracy mean | "
          "model − default accuracy [95%] | fit s/split |")
    print("|---|---|---|---|---|---|---|")
    for model, entry in summary["models"].items():
        f1, acc = entry["macro_f1"], entry["accuracy"]
        gap, gap_acc = f1.get("minus_default"), acc.get("minus_default")
        cells = (f"{gap['mean']:+.3f} [{gap['interval'][0]:+.3f}, {gap['interval'][1]:+.3f}] | "
                 f"{gap['wins']}/{summary['splits']}") if gap else "— | —"
        cells_acc = (f"{gap_acc['mean']:+.3f} [{gap_acc['interval'][0]:+.3f}, {gap_acc['interval'][1]:+.3f}]"
                     if gap_acc else "—")
        print(f"| {model} | {f1['mean']:.3f} ({f1['sd']:.3f}) | {cells} | {acc['mean']:.3f} | {cells_acc} | "
              f"{entry['seconds']['mean']:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", default="cfpb_product,cfpb_issue,airline,banking77")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--levers", action="store_true", help="also the parent-aware and word 1-3-gram variants")
    parser.add_argument("--max-search-rows", type=int, default=5000,
                        help="rows of split 1 on which the default's own (timed) search runs, at most")
    parser.add_argument("--default-settings", type=json.loads, default={},
                        help='JSON {task: {"C": .., "embedding_weight": ..}}: skip the search for these')
    parser.add_argument("--out", default="out/compare_default_heads.json")
    parser.add_argument("--models", default="", help="comma-separated subset of the models (default: all)")
    parser.add_argument("--max-train-rows", type=int, default=0,
                        help="fit every model on a stratified subsample of this many of each split's training rows")
    parser.add_argument("--tables", nargs="*", metavar="JSON",
                        help="only print the tables of earlier runs' JSON files (also of runs stopped part-way)")
    args = parser.parse_args()
    if args.tables is not None:
        for path in args.tables:
            with open(path) as handle:
                saved = json.load(handle)
            for name, summary in saved.items():
                if summary.get("models"):
                    print_summary(name, summary)
        return
    print(f"CPU: {cpu_flags()}; load {load_average()}", flush=True)
    results: dict[str, dict] = {}

    name = ""

    def save(summary: dict) -> None:
        os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
        with open(args.out, "w") as handle:
            json.dump({**results, f"{name} (part)": summary}, handle, indent=2, default=str)

    for name in filter(None, args.tasks.split(",")):
        results[name] = compare_task(name, args.repeats, args.levers, args.max_search_rows,
                                     args.default_settings.get(name), save,
                                     set(filter(None, args.models.split(","))) or None, args.max_train_rows)
        print_summary(name, results[name])
        name = ""
        save({})


if __name__ == "__main__":
    main()
