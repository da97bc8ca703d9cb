"""One chunk of complaints → its output columns: the predictions of a bundle, or embeddings.

Every way of scoring (a file through any engine, :meth:`Bundle.predict`, a DataFrame in a
notebook) goes through :func:`predict_frame`, so they all give the same columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import _logging
from ..embedding import RecentVectors, SentenceTransformerEmbedder, run_settings
from ..exceptions import InputError
from ..heads.cascade import CascadeRootCauseClassifier, full_head
from ..io import join_text_columns
from ..schema import CAUSE, CHURN, CONFIDENCE, EMBEDDING, LANGUAGE, PARENT, REASON, REVIEW, TOP_K, ranked_cause
from ..text import is_blank, normalise_text
from .choices import CASCADE_CHOICES

if TYPE_CHECKING:
    from ..bundle import Bundle


def check_cascade(cascade: str) -> None:
    """Raise :class:`InputError` unless ``cascade`` is one of :data:`CASCADE_CHOICES`."""
    if cascade not in CASCADE_CHOICES:
        raise InputError(f"cascade must be one of {list(CASCADE_CHOICES)} when scoring (off: the full root-cause "
                         f"head answers every row); got {cascade!r}.")


def root_cause_head(bundle: Bundle, cascade: str = "on") -> Any:
    """The root-cause head that answers for ``bundle`` (``None`` when it has none).

    With ``cascade="on"`` the bundle's own head: for a bundle trained with a scoring cascade, its
    fast head answers the rows it is sure of and the full head the rest. With ``"off"`` the
    cascade's full head (:func:`~complaintkit.heads.cascade.full_head`), which then answers every
    row; a bundle without a cascade has only that head. The bundle itself is left as it is.

    Raises
    ------
    InputError
        If ``cascade`` is neither "on" nor "off".
    """
    check_cascade(cascade)
    head = bundle.root_cause
    return full_head(head) if cascade == "off" and head is not None else head


def log_cascade(bundle: Bundle, cascade: str) -> None:
    """Log, once per run, which root-cause head answers: the cascade's heads, its full head, or the only one."""
    check_cascade(cascade)
    head = bundle.root_cause
    if isinstance(head, CascadeRootCauseClassifier):
        if cascade == "on" and not np.isfinite(head.threshold_):
            _logging.logger.info("scoring cascade on, with no fast-head threshold: the full head answers every row")
        elif cascade == "on":
            _logging.logger.info("scoring cascade on: a fast head answers the rows where its confidence is at "
                                 "least %.3f, the full head the rest (--cascade off: the full head for every row)",
                                 head.threshold_)
        else:
            _logging.logger.info("scoring cascade off: the full root-cause head answers every row")
    elif cascade == "off" and head is not None:
        _logging.logger.info("--cascade off changes nothing: this bundle has no scoring cascade, its one "
                             "root-cause head answers every row")


def predict_frame(bundle: Bundle, frame: pd.DataFrame, texts: pd.Series, *, explain: bool = False,
                  language: bool = False, precision: str = "fp32", cascade: str = "on") -> pd.DataFrame:
    """Prediction columns for ``frame`` (whose complaint texts are ``texts``), same index.

    ``explain`` adds the nearest training examples and top terms of the predicted cause
    (:func:`complaintkit.explain.explain_frame`); ``language`` adds the detected ``language``;
    ``precision`` is the encoder's ("fp32" or "bf16", see :func:`~complaintkit.embedding.resolve_precision`);
    ``cascade`` "off" has the full root-cause head answer every row (see :func:`root_cause_head`).
    """
    head = root_cause_head(bundle, cascade)
    out = pd.DataFrame(index=frame.index)
    if frame.empty:
        return out
    with run_settings(bundle.embedders, precision, RecentVectors()):  # both heads embed each text once
        if head is not None:
            out = pd.DataFrame(_cause_columns(bundle, head, texts), index=frame.index)  # one frame, not per column
            if explain:
                from ..explain import explain_frame

                out = out.join(explain_frame(head, texts, out[CAUSE]))
        if bundle.churn is not None:
            out[CHURN] = bundle.churn.predict_proba(frame.assign(text=texts))[:, 1]
    if language:
        from ..language import detect_languages

        out[LANGUAGE] = detect_languages(texts)
    return out


def _cause_columns(bundle: Bundle, head: Any, texts: pd.Series) -> dict[str, np.ndarray]:
    """The root-cause columns of ``texts`` by ``head``, in output order: the ranked causes and their
    probabilities, ``needs_review`` and, with a hierarchy, the parent of the top cause."""
    codes, distinct = pd.factorize(texts, use_na_sentinel=False)  # the head reads text alone: once each
    proba = head.predict_proba(distinct.tolist())[codes]
    classes = np.asarray(head.classes_, dtype=object)
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
                explain: bool = False, language: bool = False, precision: str = "fp32",
                cascade: str = "on") -> pd.DataFrame:
    """Return ``frame`` with the prediction columns of :func:`predict_frame` appended.

    Rows with an empty text get no prediction (NaN) and ``reject_reason`` "empty_text";
    for streaming, lossless scoring of files use :func:`~complaintkit.scoring.score_file`.
    """
    texts = join_text_columns(frame, list(text_cols or bundle.text_cols))
    empty = is_blank(texts)
    scored = predict_frame(bundle, frame[~empty], texts[~empty], explain=explain, language=language,
                           precision=precision, cascade=cascade)
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
