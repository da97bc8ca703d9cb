"""Text normalisation and splitting of long complaints into chunks."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Collection, Iterable

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import Tags

from .config import LONG_TEXT_POLICIES
from .redaction import check_kinds, redact

_REDACTED_DATE = re.compile(r"\b(?:XX|\d{1,2})/(?:XX|\d{1,2})/(?:XXXX|\d{2,4})\b")
_REDACTED_RUN = re.compile(r"\b(?:X{2,}\b[\s,./-]*)+")
_BRACED_AMOUNT = re.compile(r"\{\$([\d,]+(?:\.\d+)?)\}")
_WHITESPACE = re.compile(r"\s+")
# Characters that show nothing: zero-width spaces and joiners, word joiner, BOM, soft hyphen.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"
_STRIPPED = " \t\n\r\f\v\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
    "\u2028\u2029\u202f\u205f\u3000\x1c\x1d\x1e\x1f\x85" + _INVISIBLE

_TURN_PREFIX = re.compile(r"^\s*([A-Za-z][\w .-]{0,30}?)\s*:\s*(.*)$")
REDACTION_TOKEN = "[redacted]"
DATE_TOKEN = "[date]"


def is_blank(value: object) -> bool | pd.Series:
    """Whether a text is missing or only whitespace and invisible characters (zero-width spaces,
    joiners, BOM); element-wise (a boolean Series) for a Series.

    Examples
    --------
    >>> is_blank("  "), is_blank(None), is_blank("\u200b\u200d"), is_blank("bill")
    (True, True, True, False)
    """
    if isinstance(value, pd.Series):
        return (value.isna() | (value.astype("string").str.strip(_STRIPPED) == "")).fillna(True).astype(bool)
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return True
    return not str(value).strip(_STRIPPED)


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


def parse_transcript(text: str) -> list[tuple[str, str]] | None:
    r"""Turns of a transcript as ``(speaker, text)``, or ``None`` if ``text`` is not one.

    Accepts a JSON list of ``{"speaker": ..., "text": ...}`` objects, or plain text whose lines
    start with a speaker prefix such as ``Agent:`` / ``Customer:`` (lines without a prefix
    continue the previous turn).

    Examples
    --------
    >>> parse_transcript("Agent: hello\nCustomer: my bill is wrong\nagain")
    [('agent', 'hello'), ('customer', 'my bill is wrong again')]
    """
    stripped = text.strip()
    if stripped.startswith("[") and stripped.endswith("]"):
        try:
            turns = json.loads(stripped)
        except json.JSONDecodeError:
            return None
        if isinstance(turns, list) and turns and all(isinstance(t, dict) and "text" in t for t in turns):
            return [(str(t.get("speaker", "")).strip().lower(), str(t["text"])) for t in turns]
        return None
    turns: list[tuple[str, str]] = []
    for line in stripped.splitlines():
        match = _TURN_PREFIX.match(line)
        if match and match.group(1).strip().lower() in KNOWN_SPEAKERS:
            turns.append((match.group(1).strip().lower(), match.group(2)))
        elif turns:
            turns[-1] = (turns[-1][0], f"{turns[-1][1]} {line.strip()}")
        else:
            return None
    return turns if len(turns) > 1 else None


KNOWN_SPEAKERS = frozenset({"agent", "customer", "caller", "client", "operator", "rep", "representative",
                            "advisor", "user", "bot", "system", "consumer"})


def transcript_text(text: str, speakers: Collection[str] | None = None) -> str:
    r"""The text of a transcript's turns by ``speakers`` (all turns when ``None``), joined.

    Text that is not a transcript is returned unchanged.

    Examples
    --------
    >>> transcript_text("Agent: how can I help?\nCustomer: my line is dead", speakers=["customer"])
    'my line is dead'
    """
    turns = parse_transcript(text)
    if turns is None:
        return text
    wanted = None if speakers is None else {s.lower() for s in speakers}
    return " ".join(t for speaker, t in turns if wanted is None or speaker in wanted)


def split_into_chunks(text: str, max_words: int) -> list[str]:
    """Split ``text`` into consecutive windows of at most ``max_words`` words.

    The last window is merged into the previous one when it would hold fewer than a
    quarter of ``max_words``, so no chunk is a stray tail.

    Examples
    --------
    >>> split_into_chunks(" ".join("abcdefghijklmnopq"), 8)
    ['a b c d e f g h', 'i j k l m n o p q']
    """
    words = text.split()
    if len(words) <= max_words:
        return [text]
    chunks = [words[i : i + max_words] for i in range(0, len(words), max_words)]
    if len(chunks) > 1 and len(chunks[-1]) < max(1, max_words // 4):
        chunks[-2].extend(chunks.pop())
    return [" ".join(chunk) for chunk in chunks]




def check_long_texts(long_texts: object) -> None:
    """Raise a one-line ``ValueError`` unless ``long_texts`` is one of :data:`LONG_TEXT_POLICIES`."""
    if long_texts not in LONG_TEXT_POLICIES:
        raise ValueError(f"The 'long_texts' parameter must be one of {list(LONG_TEXT_POLICIES)}. "
                         f"Got {long_texts!r} instead.")


def text_windows(text: str, max_words: int, long_texts: str = "chunks") -> list[str]:
    """The windows of at most ``max_words`` words that ``text`` is embedded as.

    ``"chunks"``: every window (:func:`split_into_chunks`); ``"head"``: the first window only;
    ``"head_tail"``: the first ``max_words // 2`` words and the last ``max_words - max_words // 2``
    words joined into one window (Sun et al. 2019, "How to Fine-Tune BERT for Text Classification").
    A text of at most ``max_words`` words is one window, unchanged, under every policy.

    Examples
    --------
    >>> text = " ".join("abcdefghijklmnopq")
    >>> text_windows(text, 8, "head"), text_windows(text, 8, "head_tail")
    (['a b c d e f g h'], ['a b c d n o p q'])
    """
    check_long_texts(long_texts)
    if long_texts == "chunks":
        return split_into_chunks(text, max_words)
    words = text.split()
    if len(words) <= max_words:
        return [text]
    if long_texts == "head":
        return [" ".join(words[:max_words])]
    half = max_words // 2
    return [" ".join(words[:half] + words[len(words) - (max_words - half):])]


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


def string_input_tags(tags: Tags) -> Tags:
    """Mark scikit-learn estimator tags as taking a 1-D sequence of strings."""
    tags.input_tags.string = True
    tags.input_tags.one_d_array = True
    tags.input_tags.two_d_array = False
    return tags


class TextNormaliser(TransformerMixin, BaseEstimator):
    """Stateless transformer: transcripts to their turns' text, masking, then :func:`normalise_text`.

    Parameters
    ----------
    speakers : collection of str or None, default=None
        Keep only these speakers' turns of transcripts (e.g. ``("customer",)``); ``None`` keeps all.
    redact : tuple of str, default=()
        Kinds of personal data (see :data:`complaintkit.redaction.KINDS`) masked before
        normalising, so they never reach the embedder or the TF-IDF vocabulary.
    """

    def __init__(self, speakers: Collection[str] | None = None, redact: tuple[str, ...] = ()) -> None:
        self.speakers = speakers
        self.redact = redact

    def fit(self, X: Iterable[str], y: object = None) -> TextNormaliser:
        check_kinds(self.redact)
        self.is_fitted_ = True
        return self

    def transform(self, X: Iterable[str]) -> np.ndarray:
        texts = [transcript_text(t, self.speakers) for t in as_text_list(X)]
        if self.redact:
            texts = [redact(t, self.redact) for t in texts]
        return np.asarray([normalise_text(t) for t in texts], dtype=object)

    def __sklearn_tags__(self):  # noqa: D105
        tags = string_input_tags(super().__sklearn_tags__())
        tags.requires_fit = False
        return tags
