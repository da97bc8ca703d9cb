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
    rng = np.random.default_rng(SEED)
    keys = rng.random(len(frame))
    ranked = pd.Series(keys, index=frame.index).groupby(frame[by].to_numpy()).rank(method="first")
    return frame[ranked.to_numpy() <= per_group]


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


def cause_examples(scored: pd.DataFrame, texts: Texts, cause: str, confidence: str | None,
                   n: int, limit: int) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """For each cause, ``n`` representative and ``n`` most confident distinct complaints, redacted.

    Only the sampled rows' texts and the most confident rows' texts are read from ``texts``.
    """
    present = scored.loc[texts.present.to_numpy(), [cause, *([confidence] if confidence else [])]]
    sample = sample_groups(present, cause)
    sampled = texts.take(sample.index)
    ranked = representative(sampled, sample[cause].astype(str), n * 3)
    out: dict[str, dict[str, list[dict[str, Any]]]] = {}
    keys = present[cause].astype(str)
    ranking = present[confidence] if confidence else pd.Series(0.0, index=present.index)
    top = ranking.groupby(keys).nlargest(n * 3)  # ties keep table order
    confident = texts.take(top.index.get_level_values(-1).difference(sampled.index))
    shown = pd.concat([sampled, confident]) if len(confident) else sampled
    for name in keys.unique():
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
