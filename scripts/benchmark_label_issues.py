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
3. the same regression class-balanced (``class_weight="balanced"``), ranked and flagged the same way;
   random order (the baseline every method must beat: its expected precision is the noise share);
4. for ``--head-seeds``, the previous complaintkit method: the default head's own 3-fold
   out-of-fold probabilities (as ``training.out_of_fold_proba`` makes them, with fixed ``--C``,
   ``--embedding-weight`` and TF-IDF on instead of the settings search), ranked by
   self-confidence. Costly: one head fit per fold.

Reported: precision at k = number of flipped rows (share of flipped rows among each ranking's
first k), and each flagged list's size, precision and recall; mean over seeds with a Student-t
95% interval. Embeddings come from the project's SQLite cache.

With ``--recovery TASK:SEEDS`` (e.g. ``airline:0,1,2,3,4``), each seed also draws a stratified
sample of ``--recovery-rows`` training rows, flips ``--noise`` of its labels, and fits
complaintkit's default root-cause head on the flipped labels (its settings search, with
``--recovery-cv-repeats`` repeats); the settings it chooses are kept for the other fits, so that
they differ only in their labels (and each costs a few SVM fits, not a search). The other fits:
the clean labels; the flipped labels minus the rows complaintkit flags on that sample (what
``train`` writes to label_issues.csv); the flipped labels minus as many random rows (the
baseline); and variants of the cleaning: flagged rows relabelled with their suggested label; only
the flagged rows whose suggested label has out-of-fold probability of at least ``--confident``
dropped; only the k most doubtful rows dropped (k = ``cleanlab.count.num_label_issues``); every row
kept with ``sample_weight`` = its given label's out-of-fold probability (or that over the row's
largest probability), scaled to mean 1; cleanlab's own recipe, ``CleanLearning`` around the
head with ``--clean-learning-folds`` folds; the rows whose given label's out-of-fold probability is below
chance (1 / the number of classes) or half of it dropped, with the regression above or a class-balanced one
(which also ranks the k most doubtful rows); and the flipped rows themselves dropped (the oracle: the most any
way of dropping rows can win back). Each is scored by macro-F1 on the task's clean test split; the
recovered fraction of each is (F1 - F1 noisy) / (F1 clean - F1 noisy), per seed, with its mean and
a Student-t 95% interval over seeds.

    COMPLAINTKIT_SHARED_DATA=../shared/data python scripts/benchmark_label_issues.py --seeds 0 1 2 3 4
    COMPLAINTKIT_SHARED_DATA=../shared/data python scripts/benchmark_label_issues.py --tasks airline \
        --recovery airline:0,1,2,3,4 banking77:0,1,2
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Sequence

import numpy as np
import pandas as pd

from _benchdata import label_scores, load_average, load_task
from complaintkit import RootCauseClassifier, SentenceTransformerEmbedder
from complaintkit.intervals import mean_interval
from complaintkit.label_issues import doubtful_rows, embedding_oof_proba, find_label_issues
from complaintkit.training import out_of_fold_proba

COMPLAINTKIT = "complaintkit (train's label_issues.csv)"
RECIPE = "cleanlab recipe (LogReg on MiniLM, defaults)"
RANDOM = "random order"
HEAD = "previous: default head's own OOF"
BALANCED_RECIPE = "class-balanced LogReg on MiniLM"

CLEAN, NOISY = "clean labels", "flipped labels"
DROP_FLAGGED, DROP_RANDOM = "minus flagged rows", "minus as many random rows"
RELABEL, DROP_CONFIDENT = "flagged rows relabelled", "minus flagged rows with a confident suggestion"
DROP_TOP_K = "minus the k most doubtful rows (k estimated)"
WEIGHT_GIVEN, WEIGHT_RELATIVE = "weighted by given label's OOF proba", "weighted by given / top OOF proba"
CLEANLEARNING = "cleanlab CleanLearning around the head"
DROP_BELOW_CHANCE = "minus rows whose given label is below chance"
DROP_BELOW_HALF_CHANCE = "minus rows whose given label is below half chance"
DROP_FLIPPED = "minus the flipped rows (oracle)"
BALANCED = " (balanced regression)"
HEAD_OOF = " (the head's own OOF)"
BOTH = " (balanced regression and the head's OOF both)"
MEAN = " (mean of balanced regression and head OOF)"
CLEAN_MINUS_DOUBTFUL = "clean labels minus their own rows below half chance (the head's OOF)"
TRAINING_SETS = (CLEAN, NOISY, DROP_FLAGGED, DROP_RANDOM, RELABEL, DROP_CONFIDENT, DROP_TOP_K, WEIGHT_GIVEN,
                 WEIGHT_RELATIVE, CLEANLEARNING, DROP_BELOW_CHANCE, DROP_BELOW_HALF_CHANCE,
                 DROP_TOP_K + BALANCED, DROP_BELOW_CHANCE + BALANCED, DROP_BELOW_HALF_CHANCE + BALANCED,
                 DROP_BELOW_CHANCE + HEAD_OOF, DROP_BELOW_HALF_CHANCE + HEAD_OOF, DROP_BELOW_CHANCE + BOTH,
                 DROP_BELOW_CHANCE + MEAN, DROP_FLIPPED, CLEAN_MINUS_DOUBTFUL)


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

    balanced = embedding_oof_proba(vectors, noisy.tolist(), 3, seed, class_weight="balanced")
    flagged[BALANCED_RECIPE] = find_label_issues(balanced, noisy.tolist(), classes,
                                                 np.arange(len(texts)))["row_id"].to_numpy(dtype=int)
    rankings[BALANCED_RECIPE] = np.argsort(get_label_quality_scores(given, balanced), kind="stable")

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
    order = [COMPLAINTKIT, RECIPE, BALANCED_RECIPE, HEAD, RANDOM]
    methods = sorted({m for r in runs for m in r["precision_at_k"]}, key=order.index)
    out = {}
    for method in methods:
        values = [r["precision_at_k"][method] for r in runs if method in r["precision_at_k"]]
        row = {"precision_at_k": mean_interval(values)}
        flagged = [r["flagged"][method] for r in runs if method in r["flagged"]]
        if flagged:
            row.update({key: mean_interval([f[key] for f in flagged]) for key in ("rows", "precision", "recall")})
        out[method] = row
    return out


def stratified_sample(labels: np.ndarray, size: int, seed: int) -> np.ndarray:
    """Row numbers of a stratified random sample of ``size`` rows (all rows when there are no more)."""
    from sklearn.model_selection import train_test_split

    if size >= len(labels):
        return np.arange(len(labels))
    rows, _ = train_test_split(np.arange(len(labels)), train_size=size, stratify=labels, random_state=seed)
    return np.sort(rows)


def estimated_label_errors(proba: np.ndarray, given: np.ndarray) -> int:
    """cleanlab's estimate of how many labels are wrong (``cleanlab.count.num_label_issues``, its default
    ``off_diagonal`` count of the confident joint), from out-of-fold probabilities and the given label numbers."""
    from cleanlab.count import num_label_issues

    return int(num_label_issues(given, proba))


def oof_weights(proba: np.ndarray, given: np.ndarray, relative: bool) -> np.ndarray:
    """One training weight per row from its out-of-fold probabilities, scaled to mean 1 (so that the SVM's
    regularisation weighs as much as with unit weights): the given label's probability, or with ``relative`` that
    probability over the largest class probability of the row (1 when the given label is the most probable)."""
    weights = proba[np.arange(len(given)), given]
    if relative:
        weights = weights / proba.max(axis=1)
    return weights / weights.mean()


def cleaned_training_sets(clean: np.ndarray, noisy: np.ndarray, issues: pd.DataFrame, proba: np.ndarray,
                          balanced_proba: np.ndarray, head_proba: np.ndarray, confident: float,
                          rng: np.random.Generator) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray | None]]:
    """Each training set as (row numbers, labels, sample weights or None): clean, noisy, and the noisy labels
    cleaned in each way. "Below chance" drops the rows whose given label's out-of-fold probability is under
    1 / the number of classes (a label moved at random is about as probable as any wrong class); the oracle drops
    exactly the flipped rows (an upper bound for any way of dropping rows, not something a user can do). The
    "balanced regression" variants read ``balanced_proba``, a class-balanced regression's out-of-fold probabilities
    (rare classes' rows are not doubted for being rare); the "head's own OOF" variants read ``head_proba``, the
    root-cause head's calibrated out-of-fold probabilities (what ``train`` computes for ``needs_review``), alone,
    together with the balanced regression (a row is dropped when both put its label below chance) or averaged
    with it."""
    from cleanlab.rank import get_label_quality_scores

    every = np.arange(len(noisy))
    classes = np.unique(noisy)
    given = pd.Index(classes).get_indexer(noisy)
    given_proba, balanced_given = proba[every, given], balanced_proba[every, given]
    head_given = head_proba[every, given]
    chance = 1 / len(classes)
    flagged = issues["row_id"].to_numpy(dtype=int)
    sure = flagged[issues["suggested_proba"].to_numpy() >= confident]
    top_k = np.argsort(get_label_quality_scores(given, proba), kind="stable")[:estimated_label_errors(proba, given)]
    balanced_top_k = np.argsort(balanced_given, kind="stable")[:estimated_label_errors(balanced_proba, given)]
    relabelled = noisy.copy()
    relabelled[flagged] = issues["suggested_label"].to_numpy(dtype=object)
    dropped_at_random = rng.choice(len(noisy), size=len(flagged), replace=False)

    def without(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, None]:
        # the head needs two rows of a class it sees: a class the list would leave with a single row keeps its
        # last-listed row too (the least doubtful; happens for the k most doubtful rows of one airline sample)
        rows = np.asarray(rows, dtype=int)
        for label in classes:
            if (noisy == label).sum() - (noisy[rows] == label).sum() == 1:
                rows = np.delete(rows, np.flatnonzero(noisy[rows] == label)[-1])
        kept = np.setdiff1d(every, rows)
        return kept, noisy[kept], None

    return {CLEAN: (every, clean, None), NOISY: (every, noisy, None), DROP_FLAGGED: without(flagged),
            DROP_RANDOM: without(dropped_at_random), RELABEL: (every, relabelled, None),
            DROP_CONFIDENT: without(sure), DROP_TOP_K: without(top_k),
            WEIGHT_GIVEN: (every, noisy, oof_weights(proba, given, relative=False)),
            WEIGHT_RELATIVE: (every, noisy, oof_weights(proba, given, relative=True)),
            DROP_BELOW_CHANCE: without(np.flatnonzero(given_proba < 1 / len(classes))),
            DROP_BELOW_HALF_CHANCE: without(np.flatnonzero(given_proba < 0.5 / len(classes))),
            DROP_TOP_K + BALANCED: without(balanced_top_k),
            DROP_BELOW_CHANCE + BALANCED: without(np.flatnonzero(balanced_given < 1 / len(classes))),
            DROP_BELOW_HALF_CHANCE + BALANCED: without(np.flatnonzero(balanced_given < 0.5 / len(classes))),
            DROP_BELOW_CHANCE + HEAD_OOF: without(np.flatnonzero(head_given < chance)),
            DROP_BELOW_HALF_CHANCE + HEAD_OOF: without(np.flatnonzero(doubtful_rows(head_proba, noisy, classes))),
            DROP_BELOW_CHANCE + BOTH: without(np.flatnonzero((head_given < chance) & (balanced_given < chance))),
            DROP_BELOW_CHANCE + MEAN: without(np.flatnonzero((head_given + balanced_given) / 2 < chance)),
            DROP_FLIPPED: without(np.flatnonzero(clean != noisy))}


def clean_learning_fit(texts: list[str], noisy: np.ndarray, settings: dict, folds: int, seed: int
                       ) -> tuple[RootCauseClassifier, np.ndarray, np.ndarray]:
    """cleanlab's own recipe around the head: ``CleanLearning`` computes the head's ``folds``-fold out-of-fold
    probabilities, flags rows with ``find_label_issues``' defaults and refits the head without them (weighting
    each class by 1 / its estimated share of correct labels, as CleanLearning does for heads that take
    ``sample_weight``). Returns the fitted head (it predicts label numbers), the classes in their order, and
    the row numbers it dropped."""
    from cleanlab.classification import CleanLearning

    classes, given = np.unique(noisy, return_inverse=True)
    learner = CleanLearning(RootCauseClassifier(**settings), cv_n_folds=folds, seed=seed)
    learner.fit(np.asarray(texts, dtype=object), given)
    return learner.clf, classes, np.flatnonzero(learner.label_issues_mask)


def recovered_fraction(f1: dict[str, float], training_set: str) -> float:
    """(F1 of ``training_set`` - F1 noisy) / (F1 clean - F1 noisy): the share of the macro-F1 lost to noise won back."""
    lost = f1[CLEAN] - f1[NOISY]
    return float((f1[training_set] - f1[NOISY]) / lost) if lost != 0 else float("nan")


def recovery_seed(texts: list[str], labels: np.ndarray, test_texts: list[str], test_labels: list[str],
                  rows: int, noise: float, confident: float, cv_repeats: int, seed: int,
                  skip: Sequence[str] = (), clean_learning_folds: int = 5) -> dict:
    """Test macro-F1 of the default head trained on clean, flipped and cleaned labels of one sample and noise draw."""
    sample = stratified_sample(labels, rows, seed)
    texts = [texts[i] for i in sample]
    clean = labels[sample]
    noisy, flipped = flip_labels(clean, noise, np.random.default_rng(seed))
    vectors = SentenceTransformerEmbedder().fit().transform(texts)  # cached
    proba = embedding_oof_proba(vectors, noisy.tolist(), 3, seed)
    issues = find_label_issues(proba, noisy.tolist(), np.unique(noisy), np.arange(len(texts)))
    balanced_proba = embedding_oof_proba(vectors, noisy.tolist(), 3, seed, class_weight="balanced")
    started = time.perf_counter()  # the search runs on the labels a user has
    head = RootCauseClassifier(cv_repeats=cv_repeats).fit(texts, noisy)
    settings = head.chosen_settings()
    f1 = {NOISY: label_scores(test_labels, head.predict(test_texts))["macro_f1"]}
    rows_used, seconds = {NOISY: len(texts)}, {NOISY: round(time.perf_counter() - started, 1)}
    head_proba = out_of_fold_proba(head)[0]  # what train reads: the calibration folds' probabilities
    sets = cleaned_training_sets(clean, noisy, issues, proba, balanced_proba, head_proba, confident,
                                 np.random.default_rng(20_000 + seed))
    removed = {name: flagged_scores(np.setdiff1d(np.arange(len(texts)), sets[name][0]), flipped)
               for name in sets if name.startswith("minus") and name not in (DROP_FLAGGED, DROP_RANDOM,
                                                                            DROP_CONFIDENT)}
    for name in [n for n in sets if n != NOISY and n not in skip]:
        kept, given, weights = sets[name]
        started = time.perf_counter()
        head = RootCauseClassifier(cv_repeats=cv_repeats, **settings).fit([texts[i] for i in kept], given,
                                                                           sample_weight=weights)
        f1[name] = label_scores(test_labels, head.predict(test_texts))["macro_f1"]
        rows_used[name], seconds[name] = int(len(kept)), round(time.perf_counter() - started, 1)
        if name == CLEAN and CLEAN_MINUS_DOUBTFUL not in skip:  # what the rule costs where no label is wrong
            clean_proba = out_of_fold_proba(head)[0]
            kept = np.flatnonzero(~doubtful_rows(clean_proba, clean, np.unique(clean)))
            head = RootCauseClassifier(cv_repeats=cv_repeats, **settings).fit([texts[i] for i in kept], clean[kept])
            f1[CLEAN_MINUS_DOUBTFUL] = label_scores(test_labels, head.predict(test_texts))["macro_f1"]
            rows_used[CLEAN_MINUS_DOUBTFUL] = int(len(kept))
    if CLEANLEARNING not in skip:
        started = time.perf_counter()
        head, classes, dropped = clean_learning_fit(texts, noisy, settings, clean_learning_folds, seed)
        f1[CLEANLEARNING] = label_scores(test_labels, classes[head.predict(test_texts)])["macro_f1"]
        rows_used[CLEANLEARNING] = len(texts) - len(dropped)
        removed[CLEANLEARNING] = flagged_scores(dropped, flipped)
        seconds[CLEANLEARNING] = round(time.perf_counter() - started, 1)
    f1 = {name: f1[name] for name in TRAINING_SETS if name in f1}
    flagged = issues["row_id"].to_numpy(dtype=int)
    return {"seed": seed, "rows": len(texts), "flipped": int(flipped.sum()), "macro_f1": f1, "rows_used": rows_used,
            "fit_seconds": seconds, "head_settings": settings, "flagged": flagged_scores(flagged, flipped),
            "removed": removed,
            "relabelled_correctly": float((issues["suggested_label"].to_numpy(dtype=object)
                                           == clean[flagged]).mean()) if len(flagged) else 0.0,
            "recovered": {name: recovered_fraction(f1, name) for name in TRAINING_SETS[2:] if name in f1},
            "load_average": load_average()}


def summarise_recovery(runs: list[dict]) -> dict[str, dict]:
    """Mean and 95% interval over seeds of each training set's macro-F1, its gain over noisy, and the recovered
    fraction; plus the ratio of the mean gain to the mean loss."""
    loss = mean_interval([r["macro_f1"][CLEAN] - r["macro_f1"][NOISY] for r in runs])
    out = {}
    for name in [s for s in TRAINING_SETS if s in runs[0]["macro_f1"]]:
        row = {"macro_f1": mean_interval([r["macro_f1"][name] for r in runs]),
               "rows_used": mean_interval([r["rows_used"][name] for r in runs])}
        if name in TRAINING_SETS[2:]:
            gain = mean_interval([r["macro_f1"][name] - r["macro_f1"][NOISY] for r in runs])
            row.update({"gain": gain, "recovered": mean_interval([r["recovered"][name] for r in runs]),
                        "recovered_of_mean_loss": gain["mean"] / loss["mean"] if loss["mean"] else float("nan")})
        out[name] = row
    out["loss_to_noise"] = loss
    return out


def print_recovery(name: str, runs: list[dict], summary: dict[str, dict]) -> None:
    """The recovery table of one task."""
    print(f"\n== recovery, {name}: {runs[0]['rows']} training rows sampled per seed, {runs[0]['flipped']} flipped, "
          f"seeds {[r['seed'] for r in runs]}; test macro-F1, mean [95% t-interval over seeds]")
    loss = summary["loss_to_noise"]
    print(f"macro-F1 lost to noise (clean - flipped): {loss['mean']:+.4f} [{loss['interval'][0]:+.4f}, "
          f"{loss['interval'][1]:+.4f}]")
    print(f"{'training labels':48} {'rows':>6} {'macro-F1':>24} {'gain over flipped':>28} {'recovered fraction':>28} "
          f"{'gain/loss of means':>19}")
    for training_set in [s for s in TRAINING_SETS if s in summary]:
        row = summary[training_set]
        f1 = row["macro_f1"]
        line = (f"{training_set:48} {row['rows_used']['mean']:6.0f} {f1['mean']:.4f} [{f1['interval'][0]:.4f}, "
                f"{f1['interval'][1]:.4f}]")
        if "gain" in row:
            g, r = row["gain"], row["recovered"]
            line += (f" {g['mean']:+.4f} [{g['interval'][0]:+.4f}, {g['interval'][1]:+.4f}]"
                     f" {r['mean']:+.2f} [{r['interval'][0]:+.2f}, {r['interval'][1]:+.2f}]"
                     f" {row['recovered_of_mean_loss']:+19.2f}")
        print(line)
    flagged = mean_interval([r["flagged"]["rows"] for r in runs])
    precision = mean_interval([r["flagged"]["precision"] for r in runs])
    for name in runs[0]["removed"]:
        scores = {key: mean_interval([r["removed"][name][key] for r in runs])["mean"]
                  for key in ("rows", "precision", "recall")}
        print(f"rows removed by {name}: {scores['rows']:.0f} a seed, precision {scores['precision']:.3f}, "
              f"recall {scores['recall']:.3f}")
    print(f"flagged per seed: {flagged['mean']:.0f} rows, precision {precision['mean']:.3f}; per seed recovered "
          f"({' / '.join(runs[0]['recovered'])}): "
          + "; ".join(f"{r['seed']}: " + " / ".join(f"{v:+.2f}" for v in r["recovered"].values()) for r in runs),
          flush=True)


def run_recovery(spec: str, args: argparse.Namespace, results: dict, started_all: float) -> None:
    """The recovery measurement of one ``TASK:SEEDS`` spec, into ``results``."""
    name, _, seeds_text = spec.partition(":")
    seeds = [int(s) for s in seeds_text.split(",")] if seeds_text else args.seeds
    task = load_task(name)
    labels = np.asarray(task.train_labels, dtype=object)
    runs = results.setdefault("recovery", {}).get(name, {}).get("runs", [])  # specs may alternate tasks
    for seed in seeds:
        runs.append(recovery_seed(task.train_texts, labels, task.test_texts, task.test_labels, args.recovery_rows,
                                  args.noise, args.confident, args.recovery_cv_repeats, seed, args.skip,
                                  args.clean_learning_folds))
        f1 = runs[-1]["macro_f1"]
        print(f"[recovery {name}] seed {seed}: " + ", ".join(f"{k} {v:.4f}" for k, v in f1.items())
              + f" ({time.perf_counter() - started_all:.0f} s, load {load_average()})", flush=True)
        results["recovery"][name] = {"runs": runs, "summary": summarise_recovery(runs)}
        _write_json(args.json, results)
    print_recovery(name, runs, results["recovery"][name]["summary"])


def merge_recovery(paths: Sequence[str]) -> None:
    """Print the recovery table of each task over the runs of every ``--json`` file in ``paths``."""
    pooled: dict[str, list[dict]] = {}
    for path in paths:
        with open(path) as handle:
            for task, result in json.load(handle).get("recovery", {}).items():
                pooled.setdefault(task, []).extend(result["runs"])
    for task, runs in pooled.items():
        common = set.intersection(*(set(r["macro_f1"]) for r in runs))
        runs = [{**r, "macro_f1": {k: v for k, v in r["macro_f1"].items() if k in common},
                 "rows_used": {k: v for k, v in r["rows_used"].items() if k in common},
                 "recovered": {k: v for k, v in r["recovered"].items() if k in common},
                 "removed": {k: v for k, v in r["removed"].items() if k in common}} for r in runs]
        print_recovery(task, runs, summarise_recovery(runs))


def _write_json(path: str | None, results: dict) -> None:
    if path:
        with open(path, "w") as handle:
            json.dump(results, handle, indent=2, default=float)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="*", default=["airline", "banking77"])
    parser.add_argument("--noise", type=float, default=0.10)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--head-seeds", type=int, nargs="*", default=[],
                        help="Seeds on which the previous method (the default head's own OOF) runs too; costly.")
    parser.add_argument("--head-tasks", nargs="*", default=["airline"], help="Tasks on which --head-seeds apply.")
    parser.add_argument("--C", type=float, default=0.3, help="The default head's C for --head-seeds.")
    parser.add_argument("--embedding-weight", type=float, default=1.0)
    parser.add_argument("--recovery", nargs="*", default=[], metavar="TASK:SEEDS",
                        help="Also measure retraining on cleaned labels, e.g. airline:0,1,2,3,4 (seeds default to "
                             "--seeds); after the precision runs of --tasks.")
    parser.add_argument("--recovery-rows", type=int, default=3000, help="Stratified training sample per seed.")
    parser.add_argument("--recovery-cv-repeats", type=int, default=1,
                        help="Repeats of the default head's settings search (its own default: 3 up to 3,000 rows).")
    parser.add_argument("--confident", type=float, default=0.5,
                        help="Suggested-label probability from which a flagged row is dropped in that variant.")
    parser.add_argument("--skip", nargs="*", default=[], choices=TRAINING_SETS[2:],
                        help="Cleaned training sets not to fit (each costs one head fit per seed).")
    parser.add_argument("--clean-learning-folds", type=int, default=5,
                        help="Folds of CleanLearning's out-of-fold probabilities of the head (its default: 5).")
    parser.add_argument("--json", help="Also write the results as JSON here (rewritten after every recovery seed).")
    parser.add_argument("--merge", nargs="*", default=[], metavar="JSON",
                        help="Only print the recovery tables of the runs in these --json files, pooled per task "
                             "(the training sets that every run measured).")
    args = parser.parse_args()
    if args.merge:
        merge_recovery(args.merge)
        return
    print(f"load average at start: {load_average()}")
    started_all = time.perf_counter()
    results: dict = {}
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
        results.setdefault("precision", {})[name] = {
            "runs": runs, "summary": summary, "train_rows": len(clean), "flipped": runs[0]["flipped"],
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
        _write_json(args.json, results)
    for spec in args.recovery:
        run_recovery(spec, args, results, started_all)
    print(f"\nload average at end: {load_average()}")


if __name__ == "__main__":
    main()
