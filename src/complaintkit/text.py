"""Text normalisation and splitting of long complaints into chunks."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from .redaction import check_kinds, redact

_REDACTED_DATE = re.compile(r"\b(?:XX|\d{1,2})/(?:XX|\d{1,2})/(?:XXXX|\d{2,4})\b")
_REDACTED_RUN = re.compile(r"\b(?:X{2,}\b[\s,./-]*)+")
_BRACED_AMOUNT = re.compile(r"\{\$([\d,]+(?:\.\d+)?)\}")
_WHITESPACE = re.compile(r"\s+")

REDACTION_TOKEN = "[redacted]"
DATE_TOKEN = "[date]"


def normalise_text(text: str) -> str:
    """Return ``text`` with CFPB-style redactions folded into tokens and whitespace collapsed.

    Examples
    --------
    >>> normalise_text("On XX/XX/2019 XXXX XXXX charged me {$25.00}")
    'On [date] [redacted] charged me $25.00'
    """
    text = unicodedata.normalize("NFC", text)
    text = _REDACTED_DATE.sub(DATE_TOKEN, text)
    text = _REDACTED_RUN.sub(REDACTION_TOKEN + " ", text)
    text = _BRACED_AMOUNT.sub(r"$\1", text)
    return _WHITESPACE.sub(" ", text).strip()


def split_into_chunks(text: str, max_words: int) -> list[str]:
    """Split ``text`` into consecutive windows of at most ``max_words`` words.

    The last window is merged into the previous one when it would hold fewer than a
    quarter of ``max_words``, so no chunk is a stray tail.

    Examples
    --------
    >>> split_into_chunks("a b c d e", 2)
    ['a b', 'c d e']
    """
    words = text.split()
    if len(words) <= max_words:
        return [text]
    chunks = [words[i : i + max_words] for i in range(0, len(words), max_words)]
    if len(chunks) > 1 and len(chunks[-1]) < max(1, max_words // 4):
        chunks[-2].extend(chunks.pop())
    return [" ".join(chunk) for chunk in chunks]


def as_text_list(X: Iterable[str] | np.ndarray) -> list[str]:
    """Return the texts of a 1-D array-like (list, Series, 1-column frame) as ``str``s."""
    if hasattr(X, "columns"):
        if X.shape[1] != 1:
            raise ValueError(f"expected one text column, got {X.shape[1]} columns")
        X = X.iloc[:, 0]
    array = np.asarray(X, dtype=object)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(f"expected a 1-D sequence of texts, got shape {array.shape}")
    return ["" if t is None or (isinstance(t, float) and np.isnan(t)) else str(t) for t in array]


class TextNormaliser(TransformerMixin, BaseEstimator):
    """Stateless transformer applying :func:`normalise_text` to a sequence of texts.

    Parameters
    ----------
    redact : tuple of str, default=()
        Kinds of personal data (see :data:`complaintkit.redaction.KINDS`) masked before
        normalising, so they never reach the embedder or the TF-IDF vocabulary.
    """

    def __init__(self, redact: tuple[str, ...] = ()) -> None:
        self.redact = redact

    def fit(self, X: Iterable[str], y: object = None) -> TextNormaliser:
        check_kinds(self.redact)
        self.is_fitted_ = True
        return self

    def transform(self, X: Iterable[str]) -> np.ndarray:
        texts = as_text_list(X)
        kinds = getattr(self, "redact", ())  # absent in normalisers pickled by format 1 bundles
        if kinds:
            texts = [redact(t, kinds) for t in texts]
        return np.asarray([normalise_text(t) for t in texts], dtype=object)

    def __sklearn_tags__(self):  # noqa: D105
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.requires_fit = False
        return tags
