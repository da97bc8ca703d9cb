"""A TF-IDF vectorizer of character n-grams that counts them with numpy.

scikit-learn's ``char_wb`` analyzer builds every n-gram of every word as a Python string
and looks each up in a dict: on long complaints that is most of a cached scoring run and most
of fitting the TF-IDF blocks in training. :class:`CharNgramTfidfVectorizer` gives exactly
``TfidfVectorizer``'s vocabulary, weights and transformed matrices (``fit_transform``'s may differ
in the last bit, where a row's norm is summed in another order), but encodes each n-gram as an integer
(characters numbered within an alphabet) and counts them with a hash table when fitting and
``searchsorted`` against the vocabulary when transforming.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from .vocabulary import CompactVocabularyMixin

_MAX_KEY = np.iinfo(np.int64).max
_BATCH_CHARS = 1 << 20


class _Alphabet:
    """Characters numbered 1..n (0: a character outside the alphabet); n-grams of them as base-(n+1) integers."""

    def __init__(self, characters: Iterable[str], max_n: int) -> None:
        self.characters = sorted(set(characters))
        self.base = len(self.characters) + 1
        self.char_codes = {ord(char): code for code, char in enumerate(self.characters, start=1)}
        self.fits = self.base ** max_n <= _MAX_KEY

    def encode(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The code point and the code (0 outside the alphabet) of every character of ``text``."""
        points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        inverse, unique = pd.factorize(points)
        mapped = np.array([self.char_codes.get(int(p), 0) for p in unique], dtype=np.int64)
        return points, mapped[inverse]

    def decode(self, keys: np.ndarray, max_n: int) -> list[str]:
        """The n-grams (of length 1 to ``max_n``) whose integer keys are ``keys``."""
        points = np.array([0] + [ord(char) for char in self.characters], dtype=np.uint32)
        lengths = np.ones(len(keys), dtype=np.int64)
        for n in range(2, max_n + 1):  # an n-gram's key lies in [base ** (n - 1), base ** n)
            lengths[keys >= self.base ** (n - 1)] = n
        aligned = np.zeros((len(keys), max_n), dtype=np.uint32)  # trailing NULs: numpy strips them
        for position in range(max_n):
            power = lengths - 1 - position
            present = power >= 0
            aligned[present, position] = points[keys[present] // self.base ** power[present] % self.base]
        return aligned.view(f"<U{max_n}").ravel().tolist()


class _VocabularyCodes(_Alphabet):
    """The fitted vocabulary of a ``char_wb`` vectorizer as sorted integer keys, one array per length."""

    def __init__(self, vocabulary: dict[str, int], max_n: int) -> None:
        super().__init__({char for gram in vocabulary for char in gram}, max_n)
        self.keys: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        if not self.fits:
            return
        by_length: dict[int, list[tuple[int, int]]] = {}
        for gram, column in vocabulary.items():
            key = 0
            for char in gram:
                key = key * self.base + self.char_codes[ord(char)]
            by_length.setdefault(len(gram), []).append((key, column))
        for length, pairs in by_length.items():
            pairs.sort()
            self.keys[length] = (np.array([k for k, _ in pairs], dtype=np.int64),
                                 np.array([c for _, c in pairs], dtype=np.int32))


class CharNgramTfidfVectorizer(CompactVocabularyMixin, TfidfVectorizer):
    """``TfidfVectorizer`` whose ``char_wb`` fit and transform count n-grams with numpy (same output).

    Parameters are those of :class:`sklearn.feature_extraction.text.TfidfVectorizer`. Any
    other analyzer, or an alphabet too large for 64-bit n-gram keys, uses scikit-learn's path.
    """

    def _count_vocab(self, raw_documents: Iterable[str], fixed_vocab: bool):
        if self.analyzer != "char_wb":
            return super()._count_vocab(raw_documents, fixed_vocab)
        documents = list(raw_documents)
        if not fixed_vocab:
            return self._fit_counts(documents) or super()._count_vocab(documents, fixed_vocab)
        codes = self._vocabulary_codes()
        if not codes.fits:
            return super()._count_vocab(documents, fixed_vocab)
        return self.vocabulary_, self._char_wb_counts(documents, codes)

    def _vocabulary_codes(self) -> _VocabularyCodes:
        cached = self.__dict__.get("_codes")
        if cached is None or cached[0] is not self.vocabulary_:
            cached = (self.vocabulary_, _VocabularyCodes(self.vocabulary_, self.ngram_range[1]))
            self.__dict__["_codes"] = cached
        return cached[1]

    def __getstate__(self) -> dict:
        state = dict(super().__getstate__())  # a copy: object.__getstate__ gives the live __dict__
        state.pop("_codes", None)  # derived from vocabulary_; rebuilt on first transform
        return state

    def _padded(self, documents: list[str]) -> list[str]:
        """Each document's words (split on whitespace) padded with one space on each side, as ``_char_wb_ngrams``."""
        preprocess = self.build_preprocessor()
        padded = [" " + "  ".join(preprocess(self.decode(doc)).split()) + " " for doc in documents]
        return [text if text.strip() else "" for text in padded]  # a document without words has no n-grams

    def _fit_counts(self, documents: list[str]) -> tuple[dict[str, int], sp.csr_matrix] | None:
        """The vocabulary and counts of ``_count_vocab`` when fitting; ``None`` where scikit-learn's path must run
        (no n-gram at all, an alphabet too large for 64-bit keys, or a NUL character)."""
        padded = self._padded(documents)
        alphabet = _Alphabet(set().union(*map(set, padded)), self.ngram_range[1])
        if not alphabet.fits or "\x00" in alphabet.characters:
            return None
        blocks = [self._batch_keys(batch, alphabet) for batch in _batches(padded)]
        vocabulary_keys = np.sort(pd.unique(np.concatenate([keys for keys, _ in blocks])))
        if not len(vocabulary_keys):
            return None
        counts = sp.vstack([sp.csr_matrix((m.data, np.searchsorted(vocabulary_keys, keys)[m.indices], m.indptr),
                                          shape=(m.shape[0], len(vocabulary_keys))) for keys, m in blocks],
                           format="csr")
        counts.sort_indices()
        grams = alphabet.decode(vocabulary_keys, self.ngram_range[1])
        return dict(zip(grams, range(len(grams)), strict=True)), counts

    def _batch_keys(self, padded: list[str], alphabet: _Alphabet) -> tuple[np.ndarray, sp.csr_matrix]:
        """The distinct n-gram keys of a batch and its documents' counts of them (columns follow the keys)."""
        pieces = list(self._ngram_keys(padded, alphabet))
        rows = np.concatenate([r for r, _ in pieces]) if pieces else np.zeros(0, dtype=np.int32)
        keys = np.concatenate([k for _, k in pieces]) if pieces else np.zeros(0, dtype=np.int64)
        columns, distinct = pd.factorize(keys)  # hashing: several times faster than sorting every key
        counts = sp.coo_matrix((np.ones(len(rows), dtype=self.dtype), (rows, columns)),
                               shape=(len(padded), len(distinct))).tocsr()
        return distinct, counts

    def _char_wb_counts(self, documents: list[str], codes: _VocabularyCodes) -> sp.csr_matrix:
        """Counts of the vocabulary's n-grams in ``documents``, as ``_char_wb_ngrams`` makes them.

        Documents are counted in batches of about ``_BATCH_CHARS`` characters, which bounds the
        temporary arrays (about 100 bytes per character).
        """
        blocks = [self._batch_counts(batch, codes) for batch in _batches(self._padded(documents))]
        return sp.vstack(blocks, format="csr") if len(blocks) > 1 else blocks[0]

    def _batch_counts(self, padded: list[str], codes: _VocabularyCodes) -> sp.csr_matrix:
        rows, columns = [], []
        for n, (documents, keys) in zip(range(self.ngram_range[0], self.ngram_range[1] + 1),
                                        self._ngram_keys(padded, codes), strict=True):
            if n not in codes.keys:
                continue
            vocabulary_keys, vocabulary_columns = codes.keys[n]
            found = np.searchsorted(vocabulary_keys, keys).clip(max=len(vocabulary_keys) - 1)
            hit = vocabulary_keys[found] == keys
            rows.append(documents[hit])
            columns.append(vocabulary_columns[found[hit]])
        rows_all = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int32)
        columns_all = np.concatenate(columns) if columns else np.zeros(0, dtype=np.int32)
        counts = sp.coo_matrix((np.ones(len(rows_all), dtype=self.dtype), (rows_all, columns_all)),
                               shape=(len(padded), len(self.vocabulary_))).tocsr()
        counts.sort_indices()
        return counts

    def _ngram_keys(self, padded: list[str], alphabet: _Alphabet) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """For each n from ``min_n`` to ``max_n``: the document and the integer key of every n-gram inside a word."""
        lengths = np.fromiter((len(text) for text in padded), dtype=np.int64, count=len(padded))
        points, chars = alphabet.encode("".join(padded))
        document = np.repeat(np.arange(len(padded), dtype=np.int32), lengths)
        # The only spaces left are the pads, alternately a word's opening and closing one.
        closing = np.flatnonzero(points == ord(" "))[1::2]
        del points
        word_end = closing[np.searchsorted(closing, np.arange(len(chars)))] + 1 if len(chars) else chars
        min_n, max_n = self.ngram_range
        key = np.zeros(len(chars), dtype=np.int64)
        for n in range(1, max_n + 1):
            key = key[: len(chars) - n + 1] * alphabet.base + chars[n - 1 :]
            if n < min_n:
                continue
            starts = np.flatnonzero(word_end[: len(key)] - np.arange(len(key)) >= n)
            yield document[starts], key[starts]


def _batches(padded: list[str]) -> Iterator[list[str]]:
    """``padded`` in consecutive batches of about ``_BATCH_CHARS`` characters (one, maybe empty, at least)."""
    batch, size, given = [], 0, False
    for text in padded:
        batch.append(text)
        size += len(text)
        if size >= _BATCH_CHARS:
            yield batch
            batch, size, given = [], 0, True
    if batch or not given:
        yield batch
