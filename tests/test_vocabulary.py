import pickle

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from complaintkit.bundle.skops_heads import dump_head, load_head
from complaintkit.heads.char_ngrams import CharNgramTfidfVectorizer
from complaintkit.heads.vocabulary import WordTfidfVectorizer

TEXTS = ["my card was charged twice", "the refund never arrived", "charged twice for one refund",
         "the agent never called back", "card declined at the shop"]


@pytest.mark.parametrize("vectorizer", [WordTfidfVectorizer(ngram_range=(1, 2)),
                                        CharNgramTfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4))])
def test_a_saved_vocabulary_is_one_string_and_loads_as_the_same_dict(tmp_path, vectorizer) -> None:
    fitted = vectorizer.fit(TEXTS)
    state = fitted.__getstate__()
    assert "vocabulary_" not in state and isinstance(state["_vocabulary_terms"], str)
    dump_head(fitted, tmp_path / "head.skops")
    for loaded in (load_head(tmp_path / "head.skops", trust=False), pickle.loads(pickle.dumps(fitted))):
        assert type(loaded) is type(fitted) and loaded.vocabulary_ == fitted.vocabulary_
        assert np.array_equal(loaded.transform(TEXTS).toarray(), fitted.transform(TEXTS).toarray())


def test_the_word_vectorizer_is_scikit_learns() -> None:
    ours = WordTfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit(TEXTS)
    plain = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit(TEXTS)
    assert ours.vocabulary_ == plain.vocabulary_ and ours.get_params() == plain.get_params()
    assert np.array_equal(ours.transform(TEXTS).toarray(), plain.transform(TEXTS).toarray())


def test_a_vocabulary_that_cannot_be_joined_is_saved_as_a_dict() -> None:
    with_newline = WordTfidfVectorizer(token_pattern=r"[a-z]+\n?").fit(["refund\nlate", "late refund"])
    assert any("\n" in term for term in with_newline.vocabulary_)
    state = with_newline.__getstate__()
    assert state["vocabulary_"] == with_newline.vocabulary_ and "_vocabulary_terms" not in state
    assert pickle.loads(pickle.dumps(with_newline)).vocabulary_ == with_newline.vocabulary_
    unfitted = WordTfidfVectorizer()
    assert "_vocabulary_terms" not in unfitted.__getstate__()
    assert pickle.loads(pickle.dumps(unfitted)).get_params() == unfitted.get_params()


def test_saving_a_bundle_leaves_compact_vocabularies_in_place(trained_bundle, tmp_path) -> None:
    blocks = dict(trained_bundle.root_cause.pipeline_.named_steps["features"].transformer_list)
    before = {name: blocks[name].vocabulary_ for name in ("tfidf", "chars")}
    trained_bundle.save(tmp_path / "bundle", overwrite=True)
    assert all(blocks[name].vocabulary_ is vocabulary for name, vocabulary in before.items())
