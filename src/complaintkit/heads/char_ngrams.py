"""A TF-IDF vectorizer of character n-grams that counts them with numpy when transforming.

scikit-learn's ``char_wb`` analyzer builds every n-gram of every word as a Python string
and looks each up in a dict: on long complaints that is most of a cached scoring run.
:class:`CharNgramTfidfVectorizer` fits exactly like ``TfidfVectorizer`` and transforms to the
same matrix, but encodes each n-gram as an integer (characters numbered within the fitted
vocabulary's alphabet) and matches them against the vocabulary with ``searchsorted``.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

_MAX_KEY = np.iinfo(np.int64).max
_BATCH_CHARS = 1 << 20


class _VocabularyCodes:
    """The fitted vocabulary of a ``char_wb`` vectorizer as sorted integer keys, one array per length."""

    def __init__(self, vocabulary: dict[str, int], max_n: int) -> None:
        alphabet = sorted({char for gram in vocabulary for char in gram})
        self.base = len(alphabet) + 1  # code 0: a character the vocabulary never uses
        self.char_codes = {ord(char): code for code, char in enumerate(alphabet, start=1)}
        self.fits = self.base ** max_n <= _MAX_KEY
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

    def encode(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The code point and the code (0 outside the alphabet) of every character of ``text``."""
        points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        unique, inverse = np.unique(points, return_inverse=True)
        mapped = np.array([self.char_codes.get(int(p), 0) for p in unique], dtype=np.int64)
        return points, mapped[inverse].reshape(-1)


class CharNgramTfidfVectorizer(TfidfVectorizer):
    """``TfidfVectorizer`` whose ``char_wb`` transform counts n-grams with numpy (same output).

    Parameters are those of :class:`sklearn.feature_extraction.text.TfidfVectorizer`. Any
    other analyzer, or an alphabet too large for 64-bit n-gram keys, uses scikit-learn's path.
    """

    def _count_vocab(self, raw_documents: Iterable[str], fixed_vocab: bool):
        if not fixed_vocab or self.analyzer != "char_wb":
            return super()._count_vocab(raw_documents, fixed_vocab)
        codes = self._vocabulary_codes()
        if not codes.fits:
            return super()._count_vocab(raw_documents, fixed_vocab)
        return self.vocabulary_, self._char_wb_counts(list(raw_documents), codes)

    def _vocabulary_codes(self) -> _VocabularyCodes:
        cached = self.__dict__.get("_codes")
        if cached is None or cached[0] is not self.vocabulary_:
            cached = (self.vocabulary_, _VocabularyCodes(self.vocabulary_, self.ngram_range[1]))
            self.__dict__["_codes"] = cached
        return cached[1]

    def __getstate__(self) -> dict:
        state = super().__getstate__()
        state.pop("_codes", None)  # derived from vocabulary_; rebuilt on first transform
        return state

    def _char_wb_counts(self, documents: list[str], codes: _VocabularyCodes) -> sp.csr_matrix:
        """Counts of the vocabulary's n-grams in ``documents``, as ``_char_wb_ngrams`` makes them.

        Each word (split on whitespace) is padded with one space on each side; its n-grams
        are all its substrings of length ``min_n`` to ``min(max_n, len(padded word))``.
        Documents are counted in batches of about ``_BATCH_CHARS`` characters, which bounds
        the temporary arrays (about 100 bytes per character).
        """
        preprocess = self.build_preprocessor()
        padded = [" " + "  ".join(preprocess(self.decode(doc)).split()) + " " for doc in documents]
        padded = [text if text.strip() else "" for text in padded]  # a document without words has no n-grams
        blocks, batch, size = [], [], 0
        for text in padded:
            batch.append(text)
            size += len(text)
            if size >= _BATCH_CHARS:
                blocks.append(self._batch_counts(batch, codes))
                batch, size = [], 0
        if batch or not blocks:
            blocks.append(self._batch_counts(batch, codes))
        return sp.vstack(blocks, format="csr") if len(blocks) > 1 else blocks[0]

    def _batch_counts(self, padded: list[str], codes: _VocabularyCodes) -> sp.csr_matrix:
        lengths = np.fromiter((len(text) for text in padded), dtype=np.int64, count=len(padded))
        points, chars = codes.encode("".join(padded))
        document = np.repeat(np.arange(len(padded), dtype=np.int32), lengths)
        # The only spaces left are the pads, alternately a word's opening and closing one.
        closing = np.flatnonzero(points == ord(" "))[1::2]
        del points
        word_end = closing[np.searchsorted(closing, np.arange(len(chars)))] + 1 if len(chars) else chars
        rows, columns = [], []
        min_n, max_n = self.ngram_range
        key = np.zeros(len(chars), dtype=np.int64)
        for n in range(1, max_n + 1):
            key = key[: len(chars) - n + 1] * codes.base + chars[n - 1 :]
            if n < min_n or n not in codes.keys:
                continue
            starts = np.flatnonzero(word_end[: len(key)] - np.arange(len(key)) >= n)
            vocabulary_keys, vocabulary_columns = codes.keys[n]
            found = np.searchsorted(vocabulary_keys, key[starts]).clip(max=len(vocabulary_keys) - 1)
            hit = vocabulary_keys[found] == key[starts]
            rows.append(document[starts[hit]])
            columns.append(vocabulary_columns[found[hit]])
        rows_all = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int32)
        columns_all = np.concatenate(columns) if columns else np.zeros(0, dtype=np.int32)
        counts = sp.coo_matrix((np.ones(len(rows_all), dtype=self.dtype), (rows_all, columns_all)),
                               shape=(len(padded), len(self.vocabulary_))).tocsr()
        counts.sort_indices()
        return counts
