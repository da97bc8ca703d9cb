"""Zero-shot root causes on real labelled complaints: airline tweets mapped to the default taxonomy.

The airline `negativereason` labels are mapped to taxonomy causes with
data/mappings/airline_to_taxonomy.yaml (unclear reasons dropped from scoring). Printed in one run,
each with a bootstrap 95% interval of macro-F1, accuracy, and accuracy minus the majority cause's
(paired: on the same resampled tweets):
- baselines: the majority cause, and TF-IDF cosine similarity to the same descriptions and
  examples (a lexical zero-shot model);
- plain zero-shot (similarity to each cause's prototypes, nothing learnt from complaints);
- zero-shot + self-training (`AdaptiveZeroShotClassifier`), two ways of using unlabelled tweets:
  * inductive: self-trained on the texts of the negative tweets of the train split (labels
    never read), scored on the mapped tweets of the test split;
  * transductive: self-trained on the texts of every negative tweet, including the scored ones
    (labels never read), scored on every mapped tweet.
  Self-training reads every negative tweet's text, mapped reason or not: a company's unlabelled
  complaints are not pre-filtered to the causes a mapping happens to cover.
Also: F1 of each mapped cause (in alphabetical order), ECE, the `needs_review` rule (estimated from
the model's own probabilities for 90% precision) with its real coverage and accuracy, and how often
the tweets whose reason fits no cause of the taxonomy ("Bad Flight", "longlines", "Can't Tell") are flagged for review.

Usage: python scripts/benchmark_zero_shot.py [--models minilm multilingual] [--taxonomy PATH] [--data PATH]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score

from _benchdata import REPO as ROOT
from _benchdata import SHARED
from complaintkit.embedding import ENGLISH_ONLY_MODELS
from complaintkit.evaluation import expected_calibration_error
from complaintkit.heads import AdaptiveZeroShotClassifier, ZeroShotClassifier
from complaintkit.heads.self_training import estimated_review_threshold
from complaintkit.taxonomy import load_taxonomy

DATA = SHARED / "airline" / "tweets.csv"
NO_CAUSE = ("Bad Flight", "longlines", "Can't Tell")  # reasons that fit none of the ten causes


def negative_tweets(path: Path) -> pd.DataFrame:
    """Every negative tweet with its mapped cause (missing where the reason is not mapped)."""
    mapping = yaml.safe_load((ROOT / "data" / "mappings" / "airline_to_taxonomy.yaml").read_text())["mapping"]
    tweets = pd.read_csv(path)
    tweets = tweets[tweets["sentiment"] == "negative"].reset_index(drop=True)
    return tweets.assign(cause=tweets["negativereason"].map(mapping), text=tweets["text"].astype(str))


def bootstrap(y_true: np.ndarray, y_pred: np.ndarray, majority: str, draws: int = 300,
              seed: int = 0) -> dict[str, str]:
    """Macro-F1 (over the causes present), accuracy, and accuracy minus that of always answering ``majority``
    (paired: on the same resampled rows), with percentile bootstrap 95% intervals."""
    rng = np.random.default_rng(seed)
    labels = sorted(set(y_true))

    def three(rows: np.ndarray) -> tuple[float, float, float]:
        accuracy = float((y_true[rows] == y_pred[rows]).mean())
        return (f1_score(y_true[rows], y_pred[rows], labels=labels, average="macro", zero_division=0),
                accuracy, accuracy - float((y_true[rows] == majority).mean()))

    point = three(np.arange(len(y_true)))
    samples = np.array([three(rng.integers(0, len(y_true), len(y_true))) for _ in range(draws)])
    low, high = np.percentile(samples, [2.5, 97.5], axis=0)
    return {"macro_f1": f"{point[0]:.3f} [{low[0]:.3f}, {high[0]:.3f}]",
            "accuracy": f"{point[1]:.3f} [{low[1]:.3f}, {high[1]:.3f}]",
            "accuracy - majority": f"{point[2]:+.3f} [{low[2]:+.3f}, {high[2]:+.3f}]"}


def row(name: str, scored: pd.DataFrame, proba: np.ndarray, classes: list[str], majority: str,
        no_cause: np.ndarray | None = None) -> dict[str, object]:
    """Metrics of ``proba`` on the mapped rows of ``scored`` (accuracy also against always answering
    ``majority``); review figures when ``no_cause`` is given."""
    mapped = scored["cause"].notna().to_numpy()
    y_true = scored.loc[mapped, "cause"].to_numpy(dtype=object)
    p = proba[mapped]
    y_pred = np.asarray(classes, dtype=object)[p.argmax(axis=1)]
    present = sorted(set(y_true))
    restricted = np.asarray(present, dtype=object)[p[:, [classes.index(c) for c in present]].argmax(axis=1)]
    out = {"model": name, "rows": int(mapped.sum()), **bootstrap(y_true, y_pred, majority),
           "F1 per cause": "/".join(f"{v:.2f}" for v in f1_score(y_true, y_pred, labels=present, average=None)),
           "macro_f1 (argmax among mapped causes)": round(f1_score(y_true, restricted, average="macro"), 3),
           "ece": round(expected_calibration_error(p.max(axis=1), (y_pred == y_true).astype(int)), 3)}
    if no_cause is not None:
        threshold = estimated_review_threshold(proba.max(axis=1), 0.9)
        auto = p.max(axis=1) >= threshold
        out.update({"review threshold": round(threshold, 3), "auto share": round(float(auto.mean()), 3),
                    "accuracy when auto": round(float((y_pred == y_true)[auto].mean()), 3) if auto.any() else None,
                    "flagged: fits no cause": round(float((proba[no_cause].max(axis=1) < threshold).mean()), 3),
                    "flagged: mapped": round(float((~auto).mean()), 3)})
    return out


def majority_row(name: str, scored: pd.DataFrame, majority: str, classes: list[str]) -> dict[str, object]:
    return row(f"{name} ({majority})", scored, np.eye(len(classes))[np.full(len(scored), classes.index(majority))],
               classes, majority)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["minilm", "multilingual"])
    parser.add_argument("--taxonomy", default="default", help="taxonomy file, or `default` (the packaged one)")
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} (2 shared cores)")
    taxonomy = load_taxonomy(args.taxonomy)
    tweets = negative_tweets(args.data)
    mapped = tweets["cause"].notna()
    test = tweets[tweets["split"] == "test"].reset_index(drop=True)
    train_texts = tweets.loc[tweets["split"] == "train", "text"].tolist()
    print(f"{len(tweets)} negative tweets ({len(train_texts)} train split); {int(mapped.sum())} with a mapped reason: "
          f"{tweets['cause'].value_counts().to_dict()}; taxonomy {taxonomy.source}")
    classes = sorted(taxonomy.ids)
    no_cause_all = tweets["negativereason"].isin(NO_CAUSE).to_numpy()
    no_cause_test = test["negativereason"].isin(NO_CAUSE).to_numpy()
    majority = tweets.loc[mapped & (tweets["split"] == "train"), "cause"].mode().iloc[0]
    rows = [majority_row("all mapped: majority cause of train split", tweets, majority, classes),
            majority_row("test split: majority cause of train split", test, majority, classes)]
    prototypes, labels = taxonomy.prototype_table(["en"])
    tfidf = TfidfVectorizer(sublinear_tf=True).fit(prototypes + tweets["text"].tolist())
    centroids = np.vstack([np.asarray(tfidf.transform([p for p, lab in zip(prototypes, labels, strict=True)
                                                       if lab == c]).mean(axis=0)) for c in classes])
    lexical = np.asarray(tfidf.transform(tweets["text"]) @ centroids.T) + 1e-9
    rows.append(row("all mapped: TF-IDF similarity to the taxonomy", tweets, lexical, classes, majority))
    for model in args.models:
        # as `train --taxonomy` does: an English-only encoder gets the English phrases only
        prototypes, labels = taxonomy.prototype_table(["en"] if model in ENGLISH_ONLY_MODELS else None)
        plain = ZeroShotClassifier(embedding_model=model).fit(prototypes, labels)
        rows.append(row(f"all mapped: zero-shot {model}", tweets, plain.predict_proba(tweets["text"]), classes,
                        majority, no_cause_all))
        rows.append(row(f"test split: zero-shot {model}", test, plain.predict_proba(test["text"]), classes,
                        majority, no_cause_test))
        for scope, unlabelled, scored, no_cause in (
                ("test split: inductive", train_texts, test, no_cause_test),
                ("all mapped: transductive", tweets["text"].tolist(), tweets, no_cause_all)):
            start = time.perf_counter()
            head = AdaptiveZeroShotClassifier(embedding_model=model).fit(
                prototypes + unlabelled, labels + [None] * len(unlabelled))
            seconds = time.perf_counter() - start
            rows.append({**row(f"{scope} self-trained {model}", scored, head.predict_proba(scored["text"]), classes,
                               majority, no_cause), "fit s": round(seconds, 1)})
            print(f"{scope} {model}: calibration {head.calibration_}; load {os.getloadavg()[0]:.2f}", flush=True)
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(table.to_string(index=False))
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
