"""One chunk of complaints → its output columns: the predictions of a bundle, or embeddings.

Every way of scoring (a file through any engine, :meth:`Bundle.predict`, a DataFrame in a
notebook) goes through :func:`predict_frame`, so they all give the same columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..embedding import RecentVectors, SentenceTransformerEmbedder, run_settings
from ..io import join_text_columns
from ..schema import CAUSE, CHURN, CONFIDENCE, EMBEDDING, LANGUAGE, PARENT, REASON, REVIEW, TOP_K, ranked_cause
from ..text import is_blank, normalise_text

if TYPE_CHECKING:
    from ..bundle import Bundle


def predict_frame(bundle: Bundle, frame: pd.DataFrame, texts: pd.Series, *, explain: bool = False,
                  language: bool = False, precision: str = "fp32") -> pd.DataFrame:
    """Prediction columns for ``frame`` (whose complaint texts are ``texts``), same index.

    ``explain`` adds the nearest training examples and top terms of the predicted cause
    (:func:`complaintkit.explain.explain_frame`); ``language`` adds the detected ``language``;
    ``precision`` is the encoder's ("fp32" or "bf16", see :func:`~complaintkit.embedding.resolve_precision`).
    """
    out = pd.DataFrame(index=frame.index)
    if frame.empty:
        return out
    with run_settings(bundle.embedders, precision, RecentVectors()):  # both heads embed each text once
        if bundle.root_cause is not None:
            out = pd.DataFrame(_cause_columns(bundle, texts), index=frame.index)  # one frame: no insert per column
            if explain:
                from ..explain import explain_frame

                out = out.join(explain_frame(bundle.root_cause, texts, out[CAUSE]))
        if bundle.churn is not None:
            out[CHURN] = bundle.churn.predict_proba(frame.assign(text=texts))[:, 1]
    if language:
        from ..language import detect_languages

        out[LANGUAGE] = detect_languages(texts)
    return out


def _cause_columns(bundle: Bundle, texts: pd.Series) -> dict[str, np.ndarray]:
    """The root-cause columns of ``texts``, in output order: the ranked causes and their probabilities,
    ``needs_review`` and, with a hierarchy, the parent of the top cause."""
    codes, distinct = pd.factorize(texts, use_na_sentinel=False)  # the head reads text alone: once each
    proba = bundle.root_cause.predict_proba(distinct.tolist())[codes]
    classes = np.asarray(bundle.root_cause.classes_, dtype=object)
    order = np.argsort(-proba, axis=1, kind="stable")[:, :TOP_K]
    columns = {}
    for k in range(order.shape[1]):
        label, probability = ranked_cause(k + 1)
        columns[label] = classes[order[:, k]]
        columns[probability] = np.take_along_axis(proba, order[:, k : k + 1], axis=1)[:, 0]
    columns[REVIEW] = columns[CONFIDENCE] < bundle.review_threshold
    if bundle.hierarchy:
        columns[PARENT] = pd.Series(columns[CAUSE]).map(bundle.hierarchy).to_numpy()
    return columns


def score_frame(bundle: Bundle, frame: pd.DataFrame, text_cols: Sequence[str] | None = None, *,
                explain: bool = False, language: bool = False, precision: str = "fp32") -> pd.DataFrame:
    """Return ``frame`` with the prediction columns of :func:`predict_frame` appended.

    Rows with an empty text get no prediction (NaN) and ``reject_reason`` "empty_text";
    for streaming, lossless scoring of files use :func:`~complaintkit.scoring.score_file`.
    """
    texts = join_text_columns(frame, list(text_cols or bundle.text_cols))
    empty = is_blank(texts)
    scored = predict_frame(bundle, frame[~empty], texts[~empty], explain=explain, language=language,
                           precision=precision)
    result = pd.concat([frame, scored.reindex(frame.index)], axis=1)
    if empty.any():
        result[REASON] = np.where(empty, "empty_text", None)
    return result


def embed_frame(embedder: SentenceTransformerEmbedder, frame: pd.DataFrame, texts: pd.Series, *,
                precision: str = "fp32") -> pd.DataFrame:
    """An ``embedding`` column (float32 unit vectors of normalised texts) for ``frame``, same index."""
    normalised = [normalise_text(t) for t in texts.tolist()]
    with run_settings([embedder], precision):
        vectors = embedder.transform(normalised) if normalised else np.zeros((0, 0), dtype=np.float32)
    return pd.DataFrame({EMBEDDING: list(vectors)}, index=frame.index)
