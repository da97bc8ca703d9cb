"""Emerging issues: clusters of complaints that fit no known cause well, with ids stable across runs.

Low-confidence complaints are clustered (TF-IDF + k-means). Each cluster is described by its
top terms; a JSON state file keeps those descriptions, and the next run matches its clusters
to them (Hungarian assignment on term-profile cosine) so a recurring issue keeps its id.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans

from ..exceptions import InputError
from .examples import excerpt, vectorizer
from .texts import Texts

STATE_VERSION = 1
PROFILE_TERMS = 40
LABEL_TERMS = 4
MATCH_SIMILARITY = 0.35
MAX_ROWS = 10_000
FIT_ROWS = 5_000
MIN_ROWS = 20
SEED = 0


def low_confidence(scored: pd.DataFrame, confidence: str, review: str) -> tuple[pd.Series, str]:
    """Rows that fit no known cause well, and the rule used to pick them."""
    if review in scored and scored[review].fillna(False).astype(bool).any():
        return scored[review].fillna(False).astype(bool), "flagged needs_review by the model's threshold"
    cut = float(scored[confidence].quantile(0.1))
    return scored[confidence] <= cut, f"the least confident 10% (confidence ≤ {cut:.2f}; no review flags)"


def load_state(path: str | Path | None) -> dict[str, Any]:
    """The emerging-issue state of earlier runs (empty when ``path`` is None or absent)."""
    if path is None or not Path(path).exists():
        return {"version": STATE_VERSION, "next_id": 1, "clusters": []}
    try:
        state = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"state file {str(path)!r} is not valid JSON ({exc.msg}); "
                         "delete it to start afresh.") from None
    if state.get("version") != STATE_VERSION or not isinstance(state.get("clusters"), list):
        raise InputError(f"state file {str(path)!r} is not an emerging-issue state of version {STATE_VERSION}; "
                         "delete it or point --state elsewhere.")
    return state


def save_state(state: dict[str, Any], path: str | Path) -> None:
    """Write ``state`` atomically."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(state, indent=1), encoding="utf-8")
    tmp.replace(path)


def _profile(centroid: np.ndarray, terms: np.ndarray) -> dict[str, float]:
    top = np.argsort(-centroid, kind="stable")[:PROFILE_TERMS]
    norm = np.linalg.norm(centroid[top]) or 1.0
    return {str(terms[i]): round(float(centroid[i] / norm), 4) for i in top if centroid[i] > 0}


def _similarity(a: dict[str, float], b: dict[str, float]) -> float:
    return float(sum(w * b[t] for t, w in a.items() if t in b))


def _match(profiles: list[dict[str, float]], known: list[dict[str, Any]]) -> dict[int, int]:
    """New cluster position → position in ``known``, one-to-one, similar enough only."""
    if not profiles or not known:
        return {}
    sim = np.array([[_similarity(p, k["terms"]) for k in known] for p in profiles])
    rows, cols = linear_sum_assignment(-sim)
    return {int(r): int(c) for r, c in zip(rows, cols, strict=True) if sim[r, c] >= MATCH_SIMILARITY}


def emerging_sample(scored: pd.DataFrame, present: np.ndarray, mask: pd.Series, cause: str) -> tuple[pd.DataFrame, int]:
    """The rows :func:`emerging_issues` clusters, and how many they stand for.

    At most ``MAX_ROWS`` of the rows that ``mask`` selects and that have a text (``present``).
    """
    rows = scored.loc[mask & present, [cause]]
    return rows.sample(MAX_ROWS, random_state=SEED) if len(rows) > MAX_ROWS else rows, len(rows)


def emerging_issues(scored: pd.DataFrame, texts: Texts, chosen: tuple[pd.DataFrame, int], state: dict[str, Any],
                    run: str, cause: str, examples: int = 3,
                    excerpt_chars: int = 300) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """Cluster the rows :func:`emerging_sample` chose (``chosen``) and match them to ``state``.

    Returns the report section (None when too few rows) and the updated state. Only the chosen
    rows' texts are read from ``texts``.
    """
    sample, total = chosen
    if total < MIN_ROWS:
        return None, state
    texts = texts.take(sample.index).astype(str)
    vec = vectorizer(10_000)
    try:
        head = vec.fit_transform(texts.iloc[:FIT_ROWS])
    except ValueError:
        return None, state
    matrix = sparse.vstack([head, vec.transform(texts.iloc[FIT_ROWS:])]).tocsr() if len(texts) > FIT_ROWS else head
    k = int(np.clip(round(math.sqrt(len(sample) / 20)), 2, 8))
    labels = KMeans(n_clusters=k, n_init=4, random_state=SEED).fit_predict(matrix)
    terms = vec.get_feature_names_out()
    overall = np.asarray(matrix.mean(axis=0)).ravel()
    scale = total / len(sample)
    clusters = []
    for c in range(k):
        members = np.flatnonzero(labels == c)
        if len(members) == 0:
            continue
        centroid = np.asarray(matrix[members].mean(axis=0)).ravel()
        distinctive = np.argsort(-(centroid - overall), kind="stable")[:LABEL_TERMS]
        closest = members[np.argsort(-(matrix[members] @ centroid), kind="stable")]
        shown, seen = [], set()
        for i in closest:
            text = excerpt(texts.iloc[i], excerpt_chars)
            if text not in seen:
                seen.add(text)
                shown.append(text)
            if len(shown) == examples:
                break
        nearest = sample[cause].iloc[members].astype(str).value_counts()
        clusters.append({"label": " · ".join(terms[distinctive]), "terms": _profile(centroid, terms),
                         "size": int(round(len(members) * scale)), "share_of_all": len(members) * scale / len(scored),
                         "nearest_cause": str(nearest.index[0]), "examples": shown})
    clusters.sort(key=lambda c: -c["size"])
    known = state["clusters"]
    matches = _match([c["terms"] for c in clusters], known)
    next_id = int(state.get("next_id", 1))
    remembered = {k["id"]: dict(k) for k in known}
    for position, cluster in enumerate(clusters):
        if position in matches:
            before = known[matches[position]]
            cluster["id"], cluster["status"] = before["id"], "recurring"
            cluster["first_seen"] = before.get("first_seen", run)
            previous_share = before.get("share_of_all")
            cluster["growth"] = cluster["share_of_all"] / previous_share - 1 if previous_share else None
        else:
            cluster["id"], cluster["status"], cluster["first_seen"], cluster["growth"] = (
                f"E{next_id:03d}", "new", run, None)
            next_id += 1
        remembered[cluster["id"]] = {"id": cluster["id"], "label": cluster["label"], "terms": cluster["terms"],
                                     "size": cluster["size"], "share_of_all": cluster["share_of_all"],
                                     "first_seen": cluster["first_seen"], "last_seen": run}
    new_state = {"version": STATE_VERSION, "next_id": next_id,
                 "clusters": sorted(remembered.values(), key=lambda c: c["id"])}
    section = {"rows": total, "sampled": len(sample) if total > len(sample) else None, "clusters": clusters,
               "k": k}
    return section, new_state
