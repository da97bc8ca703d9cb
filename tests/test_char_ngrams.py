"""The numpy char_wb counting gives exactly scikit-learn's TF-IDF matrix, and survives a bundle round trip."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import TfidfVectorizer

from complaintkit.heads.char_ngrams import CharNgramTfidfVectorizer

TRAIN = ["I was charged twice for the same bill", "the agent hung up on me, twice!", "Ça coûte trop cher 😀",
         "a b c  d\te\nf", "no  internet\u00a0since Monday", "x", "", "refund refund refund"]
# Letters seen in training, unseen ones, pad-like spaces and other whitespace, emoji and a lone surrogate.
ALPHABET = st.sampled_from(list("abcdeghinrtuwy ,.!ÇçœX\t\n\r\u00a0\u2003\x1c😀€") + ["\ud800"])


@pytest.mark.parametrize("options", [
    {"ngram_range": (2, 5), "min_df": 1, "sublinear_tf": True},
    {"ngram_range": (1, 3), "lowercase": False},
    {"ngram_range": (3, 3), "binary": True, "use_idf": False},
])
@settings(max_examples=60, deadline=None)
@given(documents=st.lists(st.text(ALPHABET, max_size=40), min_size=1, max_size=6))
def test_char_wb_transform_equals_scikit_learn(options, documents):
    reference = TfidfVectorizer(analyzer="char_wb", **options).fit(TRAIN)
    fast = CharNgramTfidfVectorizer(analyzer="char_wb", **options).fit(TRAIN)
    assert fast.vocabulary_ == reference.vocabulary_
    expected, found = reference.transform(documents), fast.transform(documents)
    assert expected.shape == found.shape and (expected != found).nnz == 0


def test_other_analyzers_are_scikit_learns():
    documents = ["charged twice", "agent was rude", "charged"]
    reference = TfidfVectorizer(ngram_range=(1, 2)).fit(TRAIN).transform(documents)
    assert (CharNgramTfidfVectorizer(ngram_range=(1, 2)).fit(TRAIN).transform(documents) != reference).nnz == 0


def test_documents_counted_in_several_batches_give_the_same_matrix(monkeypatch):
    from complaintkit.heads import char_ngrams

    documents = [f"{text} number {i}" for i, text in enumerate(TRAIN * 5)]
    reference = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5)).fit(TRAIN).transform(documents)
    monkeypatch.setattr(char_ngrams, "_BATCH_CHARS", 50)
    found = CharNgramTfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5)).fit(TRAIN).transform(documents)
    assert (found != reference).nnz == 0


@pytest.mark.parametrize("options", [
    {"ngram_range": (2, 5), "min_df": 2, "sublinear_tf": True, "max_features": 40},
    {"ngram_range": (1, 3), "lowercase": False, "max_df": 0.6},
    {"ngram_range": (3, 3), "binary": True, "use_idf": False},
])
@settings(max_examples=60, deadline=None)
@given(documents=st.lists(st.text(ALPHABET, max_size=40), min_size=1, max_size=8))
def test_char_wb_fit_equals_scikit_learn(options, documents):
    documents = documents + TRAIN  # at least one n-gram, so both fit
    reference = TfidfVectorizer(analyzer="char_wb", **options)
    fast = CharNgramTfidfVectorizer(analyzer="char_wb", **options)
    expected, found = reference.fit_transform(documents), fast.fit_transform(documents)
    assert fast.vocabulary_ == reference.vocabulary_
    if options.get("use_idf", True):
        assert (fast.idf_ == reference.idf_).all()
    # The same counts; a row's norm may be summed in another order (a last-bit difference).
    assert expected.shape == found.shape and abs(expected - found).max() <= 1e-12


def test_fitting_in_several_batches_gives_the_same_vocabulary_and_matrix(monkeypatch):
    from complaintkit.heads import char_ngrams

    documents = [f"{text} number {i}" for i, text in enumerate(TRAIN * 5)]
    reference = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2)
    expected = reference.fit_transform(documents)
    monkeypatch.setattr(char_ngrams, "_BATCH_CHARS", 50)
    fast = CharNgramTfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2)
    assert abs(fast.fit_transform(documents) - expected).max() <= 1e-12 and fast.vocabulary_ == reference.vocabulary_


def test_documents_without_any_ngram_raise_scikit_learns_error():
    with pytest.raises(ValueError, match="empty vocabulary"):
        CharNgramTfidfVectorizer(analyzer="char_wb").fit(["", "   "])
