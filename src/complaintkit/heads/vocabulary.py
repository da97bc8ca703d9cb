"""TF-IDF vectorizers whose fitted vocabulary is saved as one string of terms.

A vocabulary of 200,000 terms saved as a dict is some 1.2 million small objects for skops to
write, renumber and read back: most of the time a bundle takes to save and to load. Saved as
its terms in column order, joined into one string, it is one object; loading rebuilds the same
dict. Pickling goes the same way.
"""

from __future__ import annotations

from sklearn.feature_extraction.text import TfidfVectorizer

_SEPARATOR = "\n"  # never inside a term: words and character n-grams are cut at whitespace


def _joined_terms(vocabulary: dict[str, int]) -> str | None:
    """The terms in column order joined by the separator, or ``None`` where that would not round-trip."""
    terms: list[str | None] = [None] * len(vocabulary)
    for term, column in vocabulary.items():
        if not 0 <= column < len(terms) or terms[column] is not None or _SEPARATOR in term:
            return None
        terms[column] = term
    return _SEPARATOR.join(terms) if terms else None  # type: ignore[arg-type]


class CompactVocabularyMixin:
    """Saves a fitted ``vocabulary_`` as ``_vocabulary_terms``, one string; loading rebuilds the dict."""

    def __getstate__(self) -> dict:
        state = super().__getstate__()  # type: ignore[misc]
        vocabulary = state.get("vocabulary_")
        joined = _joined_terms(vocabulary) if isinstance(vocabulary, dict) else None
        if joined is not None:
            state = {key: value for key, value in state.items() if key != "vocabulary_"}
            state["_vocabulary_terms"] = joined
        return state

    def __setstate__(self, state: dict) -> None:
        joined = state.pop("_vocabulary_terms", None)
        if joined is not None:
            state["vocabulary_"] = {term: column for column, term in enumerate(joined.split(_SEPARATOR))}
        super().__setstate__(state)  # type: ignore[misc]


class WordTfidfVectorizer(CompactVocabularyMixin, TfidfVectorizer):
    """``TfidfVectorizer`` (same parameters, same output) whose fitted vocabulary saves and loads quickly."""
