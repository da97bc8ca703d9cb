"""Churn head on REAL outcomes against TF-IDF + logistic regression, computed in the same run.

Data (read from ../shared/data, never copied into the repository; licences unknown,
research use only):

- Reclame Aqui (Portuguese): churn = ``would_deal_again == 0``, predicted from ``title`` +
  ``text`` only (``reply`` and ``final_consideration`` are written after the outcome and
  leak it). Base rates differ by company, so folds are stratified by company x outcome and
  ROC-AUC is reported pooled and within companies (median over companies whose held-out
  rows hold both outcomes).
- Skytrax (English): churn = ``recommended == 0``; three sources with different recommend
  rates, so folds are stratified by source x outcome and "within" means within source.

Protocol: stratified 5-fold cross-validation; every row is predicted once by a model that
never saw it. The baseline's C is chosen by 3-fold grid search on the training folds only
(ROC-AUC). The complaintkit head runs with its defaults (embedding + word TF-IDF, C=1,
isotonic calibration), or with ``--tune`` with TF-IDF on/off and C chosen the same way.
Metrics are computed on the pooled out-of-fold predictions, with bootstrap 95% intervals.

Run::

    PYTHONPATH=src python scripts/benchmark_churn.py --dataset reclameaqui
    PYTHONPATH=src python scripts/benchmark_churn.py --dataset skytrax --max-rows 3000
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV, StratifiedKFold  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

from complaintkit.evaluation import churn_metrics, within_group_auc  # noqa: E402
from complaintkit.heads import ChurnClassifier  # noqa: E402
from complaintkit.io import join_text_columns  # noqa: E402

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def load(dataset: str, max_rows: int | None, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Return (frame with a ``text`` column, churn outcome 0/1, group of each row)."""
    if dataset == "reclameaqui":
        frame = pd.read_csv(DATA / "reclameaqui" / "complaints_pt.csv")
        outcome, group = 1 - frame["would_deal_again"].to_numpy(dtype=int), "company"
    else:
        frame = pd.read_csv(DATA / "skytrax" / "reviews.csv")
        outcome, group = 1 - frame["recommended"].to_numpy(dtype=int), "source"
    if max_rows and max_rows < len(frame):
        strata = frame[group].astype(str) + "|" + outcome.astype(str)
        keep = frame.groupby(strata, group_keys=False).sample(frac=max_rows / len(frame), random_state=seed).index
        keep = np.sort(keep)
        frame, outcome = frame.loc[keep].reset_index(drop=True), outcome[keep]
    texts = join_text_columns(frame, ["title", "text"])
    return pd.DataFrame({"text": texts.to_numpy(dtype=object)}), outcome, frame[group].astype(str).to_numpy()


def baseline() -> GridSearchCV:
    """TF-IDF word 1-2 grams + logistic regression, C chosen by inner CV."""
    pipe = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
                         LogisticRegression(solver="liblinear"))
    return GridSearchCV(pipe, {"logisticregression__C": [1.0, 3.0, 10.0]}, cv=3, scoring="roc_auc")


def complaintkit_head(model: str, tune: bool) -> ChurnClassifier | GridSearchCV:
    """complaintkit's churn head: its defaults, or TF-IDF on/off and C chosen by inner CV."""
    head = ChurnClassifier(embedding_model=model)
    if not tune:
        return head
    grid = [{"use_tfidf": [False], "C": [1.0]}, {"use_tfidf": [True], "C": [1.0, 3.0, 10.0]}]
    return GridSearchCV(head, grid, cv=3, scoring="roc_auc")


def out_of_fold(make, frame: pd.DataFrame, outcome: np.ndarray, strata: np.ndarray,
                seed: int) -> tuple[np.ndarray, list[dict]]:
    """Out-of-fold churn probabilities and the settings chosen in each fold."""
    proba = np.full(len(outcome), np.nan)
    chosen = []
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The least populated class")
        for train, test in folds.split(frame, strata):
            model = make()
            inputs = frame if isinstance(getattr(model, "estimator", model), ChurnClassifier) else frame["text"]
            model.fit(inputs.iloc[train], outcome[train])
            proba[test] = model.predict_proba(inputs.iloc[test])[:, 1]
            chosen.append(getattr(model, "best_params_", "defaults"))
    return proba, chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", choices=["reclameaqui", "skytrax"], default="reclameaqui")
    parser.add_argument("--max-rows", type=int, default=None, help="Stratified sample of this many rows.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", nargs="+", default=["all-MiniLM-L6-v2", "multilingual"],
                        help="Embedding models for the complaintkit head (aliases or folders); 'multilingual' "
                             "needs `complaintkit build-multilingual` first.")
    parser.add_argument("--tune", action="store_true",
                        help="Choose the head's settings by inner CV (slow) instead of using its defaults.")
    parser.add_argument("--json", type=Path, help="Also write the results as JSON here.")
    args = parser.parse_args()

    frame, outcome, group = load(args.dataset, args.max_rows, args.seed)
    strata = np.char.add(group.astype(str), outcome.astype(str))
    print(f"{args.dataset}: {len(outcome)} rows, churn rate {outcome.mean():.3f}, {len(set(group))} groups; "
          "stratified 5-fold CV by group x outcome")
    candidates = {"TF-IDF + LogReg (baseline)": baseline}
    for model in args.models:
        name = "complaintkit churn head [" + Path(model).name + "]"
        candidates[name] = lambda model=model: complaintkit_head(model, args.tune)
    results = {}
    for name, make in candidates.items():
        start = time.perf_counter()
        proba, chosen = out_of_fold(make, frame, outcome, strata, args.seed)
        metrics = churn_metrics(outcome, proba, n_bootstrap=200, seed=args.seed)
        metrics["within_group_roc_auc"] = within_group_auc(outcome, proba, group)
        metrics["chosen"] = chosen
        metrics["seconds"] = round(time.perf_counter() - start, 1)
        results[name] = metrics
        print(f"  done {name} in {metrics['seconds']:.0f}s; settings per fold: {chosen}", flush=True)

    print(f"\n| model | pooled ROC-AUC | within-{'company' if args.dataset == 'reclameaqui' else 'source'} "
          "ROC-AUC (median) | PR-AUC | Brier | ECE | top-decile lift |")
    print("|---|---|---|---|---|---|---|")
    for name, m in results.items():
        ci, within = m["ci"], m["within_group_roc_auc"]
        print(f"| {name} | {m['roc_auc']:.3f} [{ci['roc_auc'][0]:.3f}, {ci['roc_auc'][1]:.3f}] "
              f"| {within['median']:.3f} ({within['groups']} groups) "
              f"| {m['pr_auc']:.3f} | {m['brier']:.3f} | {m['ece']:.3f} | {m['lift_top_decile']:.2f} |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=float))


if __name__ == "__main__":
    main()
