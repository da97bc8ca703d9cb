"""Learning curve: labels picked by `suggest` (uncertainty + diversity) vs random labels.

Task: airline `negativereason` (10 real complaint reasons, ../shared/data/airline/tweets.csv).
The unlabelled pool is the train split, the score is macro-F1 on the fixed test split. Every run
starts from the same 50 random labels per seed, then adds 50 labels per round chosen by
(a) random sampling, (b) smallest margin only, (c) `select_for_labelling` as `suggest` uses it;
the head inside the loop is a logistic regression on all-MiniLM-L6-v2 embeddings (cheap
stand-in for the full root-cause head). Embeddings are computed once (or read from
/tmp/ck_shared_emb/airline_raw.npy when a previous run left them there).

Usage: python scripts/benchmark_active_learning.py [--seeds 5] [--pool-factor 5] [--strategies ...]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

from complaintkit.active_learning import margins, select_for_labelling
from complaintkit.embedding import SentenceTransformerEmbedder

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "airline" / "tweets.csv"
SHARED = Path("/tmp/ck_shared_emb")
CHECKPOINTS = (100, 200, 500)
START, STEP = 50, 50


def embeddings(tweets: pd.DataFrame) -> np.ndarray:
    meta = SHARED / "airline_raw.json"
    if meta.exists():
        keys = json.loads(meta.read_text())["keys"]
        if keys == tweets.index.tolist():
            return np.load(SHARED / "airline_raw.npy")
    return SentenceTransformerEmbedder().fit().transform(tweets["text"].astype(str).tolist())


def curve(strategy: str, X: np.ndarray, y: np.ndarray, pool: np.ndarray, X_test: np.ndarray, y_test: np.ndarray,
          seed: int, pool_factor: int) -> dict[int, float]:
    rng = np.random.default_rng(seed)
    labelled = list(rng.choice(pool, START, replace=False))
    scores = {}
    while True:
        model = LogisticRegression(max_iter=2000, C=10.0).fit(X[labelled], y[labelled])
        if len(labelled) in CHECKPOINTS:
            scores[len(labelled)] = f1_score(y_test, model.predict(X_test), average="macro")
        if len(labelled) >= max(CHECKPOINTS):
            return scores
        rest = np.setdiff1d(pool, labelled)
        if strategy == "random":
            picked = rng.choice(rest, STEP, replace=False)
        else:
            proba = model.predict_proba(X[rest])
            if strategy == "margin":
                picked = rest[np.argsort(margins(proba), kind="stable")[:STEP]]
            else:
                picked = rest[select_for_labelling(proba, X[rest], STEP, pool_factor=pool_factor,
                                                   labelled=X[labelled], seed=seed)]
        labelled.extend(int(i) for i in picked)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--pool-factor", type=int, default=5, help="as `suggest --pool-factor`")
    parser.add_argument("--strategies", nargs="+", default=["random", "margin", "suggest"])
    args = parser.parse_args()
    tweets = pd.read_csv(DATA)
    tweets = tweets[tweets["negativereason"].notna()]
    X, y = embeddings(tweets), tweets["negativereason"].to_numpy(dtype=object)
    train = np.flatnonzero(tweets["split"].to_numpy() == "train")
    test = np.flatnonzero(tweets["split"].to_numpy() == "test")
    print(f"pool {len(train)} train tweets, test {len(test)} tweets, {len(set(y))} reasons; seeds {args.seeds}")
    rows = []
    for strategy in args.strategies:
        runs = pd.DataFrame([curve(strategy, X, y, train, X[test], y[test], seed, args.pool_factor)
                             for seed in range(args.seeds)])
        rows.append({"strategy": strategy, **{f"macro-F1 @{n}": f"{runs[n].mean():.3f} ± {runs[n].std():.3f}"
                                             for n in CHECKPOINTS}})
        print(rows[-1], flush=True)
    full = LogisticRegression(max_iter=2000, C=10.0).fit(X[train], y[train])
    print(f"\nall {len(train)} train labels: macro-F1 {f1_score(y[test], full.predict(X[test]), average='macro'):.3f}")
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
