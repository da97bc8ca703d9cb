"""Settings of the self-trained zero-shot head, chosen on the airline train split only.

Inductive cross-validation inside the train split: for each of ``--folds`` folds (repeated with
each of ``--seeds``), the head self-trains on the texts of the other folds' negative tweets
(labels never read) and predicts the fold's tweets whose reason maps to a cause. The test split
is dropped when the tweets are loaded, so no choice here can be made on it. Printed for every
setting: mean macro-F1 (over the three causes that occur) and accuracy minus the fold's
majority-cause accuracy, their paired differences from the first setting (mean ± sd over the
folds), in how many folds accuracy is above the majority and macro-F1 at least 0.55, and the
transductive figures (self-trained on every train-split tweet, scored on its mapped ones).
With ``--calibration``: the default head's calibration on the same folds for each agreement
shrink of its calibration without labels (ECE, review rule).

Besides the head's own parameters, two levers that are not part of complaintkit are measured
by thin subclasses: word (and character) TF-IDF blocks in the linear view, and a class prior
estimated on the unlabelled tweets (EM, Saerens et al. 2002) added to the prototype view.

Usage: python scripts/tune_zero_shot.py [--folds 5] [--seeds 0 1] [--data PATH] [--model minilm] [--calibration]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import KFold

from benchmark_zero_shot import DATA, negative_tweets
from complaintkit.embedding import DEFAULT_MODEL, ENGLISH_ONLY_MODELS, SentenceTransformerEmbedder
from complaintkit.evaluation import expected_calibration_error
from complaintkit.heads import self_training
from complaintkit.heads.char_ngrams import CharNgramTfidfVectorizer
from complaintkit.heads.self_training import (
    SelfTrainedPrototypeClassifier,
    _log_softmax,
    _softmax,
    estimated_review_threshold,
)
from complaintkit.taxonomy import load_taxonomy
from complaintkit.text import TextNormaliser

# (name, parameters of SelfTrainedPrototypeClassifier, extra lever); the first is the reference
SETTINGS: list[tuple[str, dict, str]] = [
    ("default", {}, ""),
    ("plain zero-shot (rounds=0)", {"rounds": 0}, ""),
    ("previous default: C=1, class weights from the pseudo-labels", {"C": 1.0, "class_weight": None}, ""),
    ("C=1, balanced", {"C": 1.0}, ""),
    ("C=0.1, balanced", {"C": 0.1}, ""),
    ("C=0.001, balanced", {"C": 0.001}, ""),
    ("C=0.01, class weights from the pseudo-labels", {"class_weight": None}, ""),
    ("prototype_weight=0.3", {"prototype_weight": 0.3}, ""),
    ("prototype_weight=0.7", {"prototype_weight": 0.7}, ""),
    ("rounds=1", {"rounds": 1}, ""),
    ("rounds=5", {"rounds": 5, "shares": (0.3, 0.5, 0.7, 0.8, 0.9)}, ""),
    ("shares 0.1/0.2/0.3", {"shares": (0.1, 0.2, 0.3)}, ""),
    ("shares 0.5/0.7/0.9", {"shares": (0.5, 0.7, 0.9)}, ""),
    ("labelled_weight=1", {"labelled_weight": 1.0}, ""),
    ("labelled_weight=20", {"labelled_weight": 20.0}, ""),
    ("EM class prior on the prototype view", {}, "prior"),
    ("previous default + EM class prior", {"C": 1.0, "class_weight": None}, "prior"),
    ("previous default + word TF-IDF", {"C": 1.0, "class_weight": None}, "word"),
    ("previous default + word and char TF-IDF", {"C": 1.0, "class_weight": None}, "word+char"),
    ("word TF-IDF in the linear view", {}, "word"),
    ("word and char TF-IDF in the linear view", {}, "word+char"),
]


class WithTfidf(SelfTrainedPrototypeClassifier):
    """The head whose linear view reads ``[embedding | TF-IDF blocks]``; the prototype view reads the embedding.

    ``texts`` maps a vector's bytes to the text behind it; set it and ``blocks`` before ``fit``.
    """

    texts: dict[bytes, str]
    blocks: str

    def fit(self, X: np.ndarray, y: list[object]) -> WithTfidf:
        """Fit the TF-IDF blocks on the texts of ``X``, then self-train."""
        texts = self._texts(X)
        self.vectorizers_ = [TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_df=0.9, sublinear_tf=True,
                                             max_features=200_000).fit(texts)]
        if "char" in self.blocks:  # as the standard head's blocks
            self.vectorizers_.append(CharNgramTfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2,
                                                              sublinear_tf=True, max_features=300_000).fit(texts))
        return super().fit(X, y)

    def _texts(self, X: np.ndarray) -> list[str]:
        return [self.texts[np.asarray(v, dtype=np.float32).tobytes()] for v in X]

    def _features(self, X: np.ndarray) -> sparse.csr_matrix:
        texts = self._texts(X)
        return sparse.hstack([sparse.csr_matrix(X)] + [v.transform(texts) for v in self.vectorizers_]).tocsr()

    def _linear(self, X: np.ndarray, y: np.ndarray, weight: np.ndarray) -> LogisticRegression:
        return super()._linear(self._features(X), y, weight)

    def _linear_log(self, linear: LogisticRegression, X: np.ndarray) -> np.ndarray:
        return super()._linear_log(linear, self._features(X))


class WithPrior(SelfTrainedPrototypeClassifier):
    """The head whose prototype view is shifted by the class prior that EM estimates on the first rows it scores.

    In ``fit`` those are the unlabelled rows (the prototypes alone assume equal priors).
    """

    def fit(self, X: np.ndarray, y: list[object]) -> WithPrior:
        """Forget any previous prior, then self-train."""
        self.__dict__.pop("log_prior_", None)
        return super().fit(X, y)

    def _prototype_log(self, X: np.ndarray) -> np.ndarray:
        log_p = super()._prototype_log(X)
        if not hasattr(self, "log_prior_"):
            prior = np.full(log_p.shape[1], 1 / log_p.shape[1])
            for _ in range(50):
                prior = _softmax(log_p + np.log(prior)).mean(axis=0).clip(1e-6)
            self.log_prior_ = np.log(prior)
        return _log_softmax(log_p + self.log_prior_)


def make_head(params: dict, lever: str, texts: dict[bytes, str]) -> SelfTrainedPrototypeClassifier:
    """The head of one setting (probabilities are not tempered: the predicted causes do not change)."""
    if lever == "prior":
        return WithPrior(calibrate=False, **params)
    if lever:
        head = WithTfidf(calibrate=False, **params)
        head.texts, head.blocks = texts, lever
        return head
    return SelfTrainedPrototypeClassifier(calibrate=False, **params)


def settings_table(P: np.ndarray, T: np.ndarray, labels: list[str], texts: dict[bytes, str], cause: np.ndarray,
                   splits: list[tuple[np.ndarray, np.ndarray]]) -> None:
    """Print every setting of ``SETTINGS`` against the first, on the folds ``splits`` and transductively."""
    mapped = np.asarray([c is not None and c == c for c in cause])  # NaN: not mapped

    def predict(params: dict, lever: str, fit_rows: np.ndarray, scored: np.ndarray) -> np.ndarray:
        head = make_head(params, lever, texts).fit(np.vstack([P, T[fit_rows]]), labels + [None] * len(fit_rows))
        return head.predict(T[scored])

    def scores(scored: np.ndarray, predicted: np.ndarray) -> tuple[float, float, float]:
        truth = cause[scored]
        return (f1_score(truth, predicted, labels=sorted(set(truth)), average="macro", zero_division=0),
                float((truth == predicted).mean()), float((truth == "service_failure").mean()))

    reference = None
    every = np.arange(len(T))
    for name, params, lever in SETTINGS:
        start = time.perf_counter()
        folds = np.array([scores(held[mapped[held]], predict(params, lever, fit, held[mapped[held]]))
                          for fit, held in splits])
        reference = folds if reference is None else reference
        diff = folds - reference
        f1, accuracy, _ = scores(every[mapped], predict(params, lever, every, every[mapped]))
        print(json.dumps({
            "setting": name, "macro_f1": round(folds[:, 0].mean(), 3),
            "accuracy - majority": round((folds[:, 1] - folds[:, 2]).mean(), 3),
            "d macro_f1": f"{diff[:, 0].mean():+.3f} ± {diff[:, 0].std():.3f}",
            "d accuracy": f"{diff[:, 1].mean():+.3f} ± {diff[:, 1].std():.3f}",
            "folds accuracy > majority": f"{int((folds[:, 1] > folds[:, 2]).sum())}/{len(folds)}",
            "folds macro_f1 >= 0.55": f"{int((folds[:, 0] >= 0.55).sum())}/{len(folds)}",
            "transductive macro_f1 / accuracy": f"{f1:.3f} / {accuracy:.3f}",
            "seconds": round(time.perf_counter() - start), "load": round(os.getloadavg()[0], 2)},
            ensure_ascii=False), flush=True)


def calibration_table(P: np.ndarray, T: np.ndarray, labels: list[str], cause: np.ndarray,
                      splits: list[tuple[np.ndarray, np.ndarray]], precision: float = 0.9) -> None:
    """Print, for the default head and each ``AGREEMENT_SHRINK``, its calibration on the folds' mapped tweets.

    ECE and mean top probability against accuracy, and the review rule set for ``precision`` on
    the tweets the head adapted to: the share of mapped tweets it lets through and their accuracy.
    """
    mapped = np.asarray([c is not None and c == c for c in cause])
    for shrink in (0.8, 0.9, 1.0):
        self_training.AGREEMENT_SHRINK = shrink  # read when the head calibrates
        rows = []
        for fit, held in splits:
            scored = held[mapped[held]]
            head = SelfTrainedPrototypeClassifier().fit(np.vstack([P, T[fit]]), labels + [None] * len(fit))
            proba = head.predict_proba(T[scored])
            correct = head.classes_[proba.argmax(axis=1)] == cause[scored]
            auto = proba.max(axis=1) >= estimated_review_threshold(head.predict_proba(T[fit]).max(axis=1), precision)
            rows.append((expected_calibration_error(proba.max(axis=1), correct), proba.max(axis=1).mean(),
                         correct.mean(), auto.mean(), correct[auto].mean() if auto.any() else np.nan))
        table = np.array(rows)
        mean = np.nanmean(table, axis=0)
        print(json.dumps({"agreement shrink": shrink, "ece": round(mean[0], 3),
                          "mean top probability": round(mean[1], 3), "accuracy": round(mean[2], 3),
                          "auto share": round(mean[3], 3),
                          "accuracy when auto": round(mean[4], 3),
                          "lowest fold accuracy when auto": round(np.nanmin(table[:, 4]), 3),
                          "load": round(os.getloadavg()[0], 2)}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--model", default=DEFAULT_MODEL, help="embedding model (alias or folder)")
    parser.add_argument("--calibration", action="store_true",
                        help="measure the default head's calibration for each agreement shrink instead of the settings")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} (2 shared cores)")
    tweets = negative_tweets(args.data)
    tweets = tweets[tweets["split"] == "train"].reset_index(drop=True)  # the test split is never read
    # as `train --taxonomy` does: an English-only encoder gets the English phrases only
    prototypes, labels = load_taxonomy("default").prototype_table(["en"] if args.model in ENGLISH_ONLY_MODELS
                                                                  else None)
    normaliser = TextNormaliser().fit(prototypes)
    embedder = SentenceTransformerEmbedder(model=args.model).fit()
    clean_prototypes = normaliser.transform(prototypes).tolist()
    clean_tweets = normaliser.transform(tweets["text"].tolist()).tolist()
    P, T = embedder.transform(clean_prototypes), embedder.transform(clean_tweets)
    cause = tweets["cause"].to_numpy(dtype=object)
    print(f"{len(tweets)} train-split negative tweets, {int(tweets['cause'].notna().sum())} mapped; "
          f"{args.folds} folds x seeds {args.seeds}")
    splits = [(fit, held) for seed in args.seeds
              for fit, held in KFold(args.folds, shuffle=True, random_state=seed).split(tweets)]
    if args.calibration:
        calibration_table(P, T, labels, cause, splits)
        return
    texts = {v.tobytes(): t for v, t in zip(np.vstack([P, T]), clean_prototypes + clean_tweets, strict=True)}
    settings_table(P, T, labels, texts, cause, splits)


if __name__ == "__main__":
    main()
