"""Example complaints: representative (closest to the cause's TF-IDF centre) and most confident."""

from __future__ import annotations

import html
import re
from typing import Any

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer

from ..redaction import redact
from .texts import Texts

SAMPLE_PER_GROUP = 400
SEED = 0
NOISE = re.compile(r"https?://\S+|www\.\S+|@\w+|\bx{2,}\b")


def _clean(text: str) -> str:
    """Lower case without URLs, @handles and CFPB ``XXXX`` masks (they name no issue)."""
    return NOISE.sub(" ", text.lower())


def vectorizer(max_features: int = 20_000) -> TfidfVectorizer:
    """TF-IDF over words, English stop words, URLs, handles and CFPB masks dropped."""
    return TfidfVectorizer(preprocessor=_clean, stop_words="english", token_pattern=r"(?u)\b[a-z][a-z']+\b",
                           sublinear_tf=True, min_df=2, max_df=0.6, max_features=max_features, dtype=np.float32)


def excerpt(text: object, limit: int) -> str:
    """``text`` with entities decoded, personal data masked, whitespace collapsed, cut at a word near ``limit``."""
    text = redact(" ".join(html.unescape(str(text)).split()))
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + " …"


def sample_groups(frame: pd.DataFrame, by: str, per_group: int = SAMPLE_PER_GROUP) -> pd.DataFrame:
    """At most ``per_group`` random rows of each group (seeded, so reruns agree)."""
    keys = np.random.default_rng(SEED).random(len(frame))
    groups = pd.factorize(frame[by])[0]  # -1: missing, in no group
    order = np.lexsort((keys, groups))
    ordered = groups[order]
    rank = np.arange(len(order)) - np.searchsorted(ordered, ordered)
    keep = np.zeros(len(frame), dtype=bool)
    keep[order[(rank < per_group) & (ordered >= 0)]] = True
    return frame[keep]


def representative(texts: pd.Series, groups: pd.Series, n: int) -> dict[str, list[int]]:
    """Index labels of the ``n`` texts of each group closest (cosine) to the group's TF-IDF centroid."""
    try:
        matrix = vectorizer().fit_transform(texts.fillna("").astype(str))
    except ValueError:  # every text is a stop word or empty
        return {}
    chosen: dict[str, list[int]] = {}
    labels = groups.to_numpy()
    for group in pd.unique(labels):
        rows = np.flatnonzero(labels == group)
        centroid = np.asarray(matrix[rows].mean(axis=0)).ravel()
        norm = np.linalg.norm(centroid)
        if norm == 0:
            continue
        scores = matrix[rows] @ (centroid / norm)
        chosen[str(group)] = texts.index[rows[np.argsort(-scores, kind="stable")]].tolist()
    return chosen


def example_rows(scored: pd.DataFrame, present: np.ndarray, cause: str, confidence: str | None,
                 n: int) -> tuple[pd.DataFrame, pd.Series]:
    """The rows :func:`cause_examples` reads: a sample per cause, and each cause's ``3 * n`` most confident.

    ``present`` marks the rows that have a text. The second value is indexed by (cause, row).
    """
    rows = scored.loc[present, [cause, *([confidence] if confidence else [])]]
    ranking = rows[confidence] if confidence else pd.Series(0.0, index=rows.index)
    return sample_groups(rows, cause), ranking.groupby(rows[cause].astype(str)).nlargest(n * 3)  # ties keep order


def cause_examples(scored: pd.DataFrame, texts: Texts, rows: tuple[pd.DataFrame, pd.Series], cause: str,
                   confidence: str | None, n: int, limit: int) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """For each cause, ``n`` representative and ``n`` most confident distinct complaints, redacted.

    ``rows`` is :func:`example_rows`'s choice; only their texts are read from ``texts``.
    """
    sample, top = rows
    sampled = texts.take(sample.index)
    ranked = representative(sampled, sample[cause].astype(str), n * 3)
    out: dict[str, dict[str, list[dict[str, Any]]]] = {}
    confident = texts.take(top.index.get_level_values(-1).difference(sampled.index))
    shown = pd.concat([sampled, confident]) if len(confident) else sampled
    for name in top.index.get_level_values(0).unique():
        out[name] = {"representative": _rows(scored, ranked.get(name, []), shown, confidence, n, limit),
                     "confident": _rows(scored, top.xs(name, level=0).index.tolist(), shown, confidence, n,
                                        limit)}
    return out


def _rows(scored: pd.DataFrame, index: list[Any], texts: pd.Series, confidence: str | None,
          n: int, limit: int) -> list[dict[str, Any]]:
    rows, seen = [], set()
    for label in index:
        text = excerpt(texts[label], limit)
        if text in seen:
            continue
        seen.add(text)
        rows.append({"text": text, "confidence": float(scored.at[label, confidence]) if confidence else None})
        if len(rows) == n:
            break
    return rows
