"""Which complaints to label next: uncertain ones, spread over the embedding space and over causes.

The most uncertain rows (smallest margin between the two most probable causes) form a pool
``pool_factor`` times the batch; when the labels already given are known, the pool is shared
among the predicted causes in inverse proportion to how many labels each already has, so rare
causes are not crowded out by the frequent ones. k-means++ seeding over the pool's embeddings
then picks a batch that covers the pool instead of many near-duplicates, starting from the
examples already labelled.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .bundle import Bundle
from .exceptions import InputError
from .explain import embed_for_head
from .io import join_text_columns


def margins(proba: np.ndarray) -> np.ndarray:
    """Probability of the most likely class minus that of the runner-up (small = uncertain).

    Examples
    --------
    >>> margins(np.array([[0.5, 0.3, 0.2], [0.9, 0.05, 0.05]])).round(2).tolist()
    [0.2, 0.85]
    """
    top = np.sort(proba, axis=1)[:, -2:]
    return top[:, 1] - top[:, 0]


def balanced_pool(proba: np.ndarray, size: int, label_counts: np.ndarray) -> np.ndarray:
    """The ``size`` most uncertain rows, shared among predicted classes by ``1 / (labels + 1)``.

    ``label_counts[k]`` is how many labelled examples class ``k`` (column ``k`` of ``proba``)
    has. Each predicted class gets a quota in inverse proportion to it; quotas a class cannot
    fill go to the most uncertain remaining rows.

    Examples
    --------
    >>> proba = np.array([[0.5, 0.5], [0.6, 0.4], [0.7, 0.3], [0.3, 0.7], [0.1, 0.9]])
    >>> balanced_pool(proba, 2, np.array([100, 0])).tolist()  # class 1 has no label yet
    [3, 4]
    >>> balanced_pool(proba, 2, np.array([0, 0])).tolist()
    [0, 3]
    """
    size = min(size, len(proba))
    order = np.argsort(margins(proba), kind="stable")
    predicted = proba.argmax(axis=1)[order]
    present = np.unique(predicted)
    weight = 1.0 / (np.asarray(label_counts, dtype=float)[present] + 1.0)
    share = size * weight / weight.sum()
    quota = np.floor(share).astype(int)
    quota[np.argsort(quota - share, kind="stable")[: size - quota.sum()]] += 1  # largest remainders
    chosen = np.concatenate([order[predicted == k][:q] for k, q in zip(present, quota, strict=True)])
    rest = order[~np.isin(order, chosen)][: size - len(chosen)]
    return np.sort(np.concatenate([chosen, rest]).astype(int))


def select_for_labelling(proba: np.ndarray, embeddings: np.ndarray, n: int, *, pool_factor: int = 5,
                         labelled: np.ndarray | None = None, label_counts: np.ndarray | None = None,
                         seed: int = 0) -> np.ndarray:
    """Positions of ``n`` rows to label next, most valuable first.

    Parameters
    ----------
    proba : array, shape (rows, classes)
        The current model's probabilities.
    embeddings : array, shape (rows, dimension)
        Unit-length embeddings of the same rows.
    n : int
        How many to pick.
    pool_factor : int
        The pool is the ``n * pool_factor`` rows with the smallest margin.
    labelled : array or None
        Embeddings of rows already labelled; picks avoid their neighbourhoods.
    label_counts : array or None
        Labelled examples per class (aligned with ``proba``'s columns); the pool then favours
        rows predicted as classes with few labels (:func:`balanced_pool`).
    seed : int
        Seed of the k-means++ draws.
    """
    if n < 1:
        raise InputError(f"the number of complaints to suggest must be at least 1; got {n}.")
    rng = np.random.default_rng(seed)
    if label_counts is None:
        pool = np.argsort(margins(proba), kind="stable")[: min(len(proba), n * pool_factor)]
    else:
        pool = balanced_pool(proba, n * pool_factor, label_counts)
        pool = pool[np.argsort(margins(proba[pool]), kind="stable")]  # most uncertain first
    vectors = np.asarray(embeddings, dtype=np.float32)[pool]
    distance = np.full(len(pool), np.inf)  # squared distance of unit vectors to the nearest chosen one
    if labelled is not None and len(labelled):
        reference = np.asarray(labelled, dtype=np.float32)
        for start in range(0, len(reference), 2048):
            nearest = (vectors @ reference[start:start + 2048].T).max(axis=1)
            distance = np.minimum(distance, (2 - 2 * nearest).clip(min=0))
    chosen: list[int] = []
    for _ in range(min(n, len(pool))):
        weights = distance.copy()
        weights[chosen] = 0
        if np.isinf(weights).all():
            pick = 0  # nothing labelled yet: start with the most uncertain row
        elif weights.sum() > 0:
            pick = int(rng.choice(len(pool), p=weights / weights.sum()))
        else:  # the rest duplicate what is chosen: take them by uncertainty
            pick = int(np.setdiff1d(np.arange(len(pool)), chosen)[0])
        chosen.append(pick)
        distance = np.minimum(distance, (2 - 2 * (vectors @ vectors[pick])).clip(min=0))
    return pool[np.asarray(chosen, dtype=int)]


def suggest(bundle: Bundle, frame: pd.DataFrame, n: int = 200, *, text_cols: Sequence[str] | None = None,
            pool_factor: int = 5, seed: int = 0) -> pd.DataFrame:
    """The ``n`` rows of ``frame`` most worth labelling next for ``bundle``'s root-cause head.

    Returns those rows, in the order picked, with ``suggest_rank`` (1 = first to label),
    the current ``root_cause`` guess, its probability and the ``margin`` to the runner-up.
    Rows with an empty text are never suggested.
    """
    head = bundle.root_cause
    if head is None:
        raise InputError("the model has no root-cause head; `suggest` picks complaints to label for one. "
                         "Train with --label-col or --taxonomy.")
    texts = join_text_columns(frame, list(text_cols or bundle.text_cols))
    usable = texts.fillna("").str.strip() != ""
    if not usable.any():
        raise InputError("every text is empty; name the complaint column with --text-col.")
    candidates, candidate_texts = frame[usable], texts[usable].tolist()
    proba = head.predict_proba(candidate_texts)
    embeddings = embed_for_head(head, candidate_texts)
    if embeddings is None:
        raise InputError("the model's root-cause head uses no embeddings; `suggest` needs them for diversity.")
    index = getattr(head, "example_index_", None)
    labelled = index.vectors if index is not None and bundle.metadata.get("kind") != "zero-shot" else None
    classes = np.asarray(head.classes_, dtype=object)
    given = bundle.metadata.get("heads", {}).get("root_cause", {}).get("label_counts", {})
    counts = np.array([given.get(str(c), 0) for c in classes], dtype=float)
    picked = select_for_labelling(proba, embeddings, n, pool_factor=pool_factor, labelled=labelled,
                                  label_counts=counts, seed=seed)
    out = candidates.iloc[picked].copy()
    out.insert(0, "suggest_rank", np.arange(1, len(picked) + 1))
    out["root_cause"] = classes[proba[picked].argmax(axis=1)]
    out["root_cause_proba"] = proba[picked].max(axis=1)
    out["margin"] = margins(proba[picked])
    return out
