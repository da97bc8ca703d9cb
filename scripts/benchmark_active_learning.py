"""Learning curve: labels picked by `suggest` (uncertainty + diversity) vs random labels.

Tasks: airline `negativereason` (10 real complaint reasons, ../shared/data/airline/tweets.csv;
pool = train split, scored on the test split) or banking77 (77 intents; pool = 4,000 sampled train
queries, scored on 1,500 sampled test queries). Every run
starts from the same 50 random labels per seed, then adds 50 labels per round chosen by
(a) random sampling, (b) smallest margin only, (c) `select_for_labelling` without class balance
(the previous `suggest`), (d) `select_for_labelling` as `suggest` uses it now, the uncertain pool
shared among predicted classes by how few labels they have; (e) ``typical-clusters`` and
(f) ``uncertain-clusters``: `select_by_clusters`, k-means into (labels + 50) clusters, one row from
each of the 50 largest clusters without a label (its most typical / most uncertain row), tried as
alternatives to `suggest` and not adopted (docs/zero-shot-and-multilingual.md);
the head inside the loop is a logistic regression on all-MiniLM-L6-v2 embeddings (cheap
stand-in for the full root-cause head). Embeddings are computed once (or read from
/tmp/ck_shared_emb/airline_raw.npy when a previous run left them there).

Usage: python scripts/benchmark_active_learning.py [--task airline|banking77] [--seeds 5] [--pool-factor 5]
       [--strategies random margin suggest]
"""

from __future__ import annotations

import argparse
import json
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

from _benchdata import SHARED as SHARED_DATA
from complaintkit.active_learning import margins, select_for_labelling
from complaintkit.embedding import SentenceTransformerEmbedder

SHARED = Path("/tmp/ck_shared_emb")
CHECKPOINTS = (100, 200, 500)
START, STEP = 50, 50


def airline() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Embeddings, labels, pool and test positions (embeddings reused from a previous run if there)."""
    tweets = pd.read_csv(SHARED_DATA / "airline" / "tweets.csv")
    tweets = tweets[tweets["negativereason"].notna()]
    meta = SHARED / "airline_raw.json"
    if meta.exists() and json.loads(meta.read_text())["keys"] == tweets.index.tolist():
        X = np.load(SHARED / "airline_raw.npy")
    else:
        X = SentenceTransformerEmbedder().fit().transform(tweets["text"].astype(str).tolist())
    split = tweets["split"].to_numpy()
    return X, tweets["negativereason"].to_numpy(dtype=object), np.flatnonzero(split == "train"), \
        np.flatnonzero(split == "test")


def banking77() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """4,000 train and 1,500 test queries of banking77, sampled with seed 0."""
    train = pd.read_csv(SHARED_DATA / "banking77" / "train.csv").sample(4000, random_state=0)
    test = pd.read_csv(SHARED_DATA / "banking77" / "test.csv").sample(1500, random_state=0)
    both = pd.concat([train, test], ignore_index=True)
    X = SentenceTransformerEmbedder().fit().transform(both["text"].astype(str).tolist())
    return X, both["category"].to_numpy(dtype=object), np.arange(4000), np.arange(4000, 5500)


def select_by_clusters(proba: np.ndarray, embeddings: np.ndarray, n: int, *, labelled: np.ndarray | None = None,
                       within: str = "typical", neighbours: int = 20, seed: int = 0) -> np.ndarray:
    """Positions of ``n`` rows to label next: one from each of the largest clusters that hold no label yet.

    The rows and the labelled examples are split by k-means into ``len(labelled) + n`` clusters;
    the ``n`` largest clusters without a labelled example each give one row: the most typical
    (``within="typical"``: densest, the inverse mean distance to its ``neighbours`` nearest rows
    of the cluster) or the most uncertain (``"uncertain"``: smallest margin of ``proba``). With
    few labels, covering the common kinds of complaint first teaches a model more than its most
    ambiguous rows do.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1; got {n}.")
    if within not in ("typical", "uncertain"):
        raise ValueError(f"within must be 'typical' or 'uncertain'; got {within!r}.")
    vectors = np.asarray(embeddings, dtype=np.float32)
    reference = np.zeros((0, vectors.shape[1]), np.float32) if labelled is None else np.asarray(labelled, np.float32)
    k = min(len(vectors), len(reference) + n)
    found = KMeans(k, n_init=1, max_iter=50, random_state=seed).fit(np.vstack([vectors, reference])).labels_
    cluster, covered = found[: len(vectors)], set(found[len(vectors):].tolist())
    sizes = np.bincount(cluster, minlength=k)
    order = [c for c in np.argsort(-sizes, kind="stable") if c not in covered and sizes[c] > 0]
    order += [c for c in np.argsort(-sizes, kind="stable") if c in covered and sizes[c] > 0]  # if too few are new
    uncertainty = margins(proba)
    picked = []
    for c in order[:n]:
        members = np.flatnonzero(cluster == c)
        if within == "uncertain":
            picked.append(int(members[np.argmin(uncertainty[members])]))
            continue
        distance = (2 - 2 * vectors[members] @ vectors[members].T).clip(min=0)
        nearest = np.sort(distance, axis=1)[:, 1: neighbours + 1]
        typicality = 1.0 / (nearest.mean(axis=1) + 1e-6) if nearest.size else np.ones(len(members))
        picked.append(int(members[np.argmax(typicality)]))
    return np.asarray(picked, dtype=int)


def curve(strategy: str, X: np.ndarray, y: np.ndarray, pool: np.ndarray, X_test: np.ndarray, y_test: np.ndarray,
          seed: int, pool_factor: int, class_weight: str | None = None) -> dict[int, float]:
    rng = np.random.default_rng(seed)
    labelled = list(rng.choice(pool, START, replace=False))
    scores = {}
    while True:
        model = LogisticRegression(max_iter=2000, C=10.0, class_weight=class_weight).fit(X[labelled], y[labelled])
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
            elif strategy in ("typical-clusters", "uncertain-clusters"):
                picked = rest[select_by_clusters(proba, X[rest], STEP, labelled=X[labelled],
                                                 within=strategy.split("-")[0], seed=seed)]
            else:
                counts = None
                if strategy == "suggest":
                    given = pd.Series(y[labelled]).value_counts()
                    counts = given.reindex(model.classes_).fillna(0).to_numpy()
                picked = rest[select_for_labelling(proba, X[rest], STEP, pool_factor=pool_factor,
                                                   labelled=X[labelled], label_counts=counts, seed=seed)]
        labelled.extend(int(i) for i in picked)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=["airline", "banking77"], default="airline")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--pool-factor", type=int, default=5, help="as `suggest --pool-factor`")
    parser.add_argument("--class-weight", choices=["none", "balanced"], default="none",
                        help="of the logistic regression in the loop; complaintkit's heads are class-balanced")
    parser.add_argument("--strategies", nargs="+", default=["random", "margin", "diverse", "suggest"])
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message="The number of unique classes")  # 77 classes, 50 first labels
    X, y, train, test = {"airline": airline, "banking77": banking77}[args.task]()
    print(f"load average {os.getloadavg()[0]:.2f} (2 shared cores)")
    print(f"{args.task}: pool {len(train)}, test {len(test)}, {len(set(y))} classes; seeds {args.seeds}; "
          f"class weight of the head in the loop: {args.class_weight}")
    rows = []
    for strategy in args.strategies:
        weight = None if args.class_weight == "none" else args.class_weight
        runs = pd.DataFrame([curve(strategy, X, y, train, X[test], y[test], seed, args.pool_factor, weight)
                             for seed in range(args.seeds)])
        rows.append({"strategy": strategy, **{f"macro-F1 @{n}": f"{runs[n].mean():.3f} ± {runs[n].std():.3f}"
                                             for n in CHECKPOINTS}})
        print(rows[-1], flush=True)
    full = LogisticRegression(max_iter=2000, C=10.0, class_weight=weight).fit(X[train], y[train])
    print(f"\nall {len(train)} train labels: macro-F1 {f1_score(y[test], full.predict(X[test]), average='macro'):.3f}")
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
