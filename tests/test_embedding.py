import pickle

import numpy as np
import pytest
from sklearn.base import clone

from complaintkit.embedding import (
    EmbeddingCache,
    SentenceTransformerEmbedder,
    default_cache_dir,
    resolve_model_path,
)
from complaintkit.exceptions import ModelNotFoundError


@pytest.fixture(scope="module")
def embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder().fit(["warm up"])


def test_vectors_are_unit_length_and_384_wide(embedder: SentenceTransformerEmbedder) -> None:
    vectors = embedder.transform(["my bill is wrong", "the line is down", ""])
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_similar_complaints_are_closer_than_unrelated_ones(embedder: SentenceTransformerEmbedder) -> None:
    a, b, c = embedder.transform(["I was charged twice", "double charge on my bill", "the agent was rude"])
    assert a @ b > a @ c


def test_cache_returns_identical_vectors_and_stores_them(embedder: SentenceTransformerEmbedder) -> None:
    texts = ["a unique complaint about cache behaviour 1", "another one 2"]
    first = embedder.transform(texts)
    stored = EmbeddingCache(default_cache_dir() / "embeddings.sqlite").get(embedder._keys(texts))
    assert len(stored) == 2
    np.testing.assert_array_equal(embedder.transform(texts), first)


def test_long_texts_are_chunked_not_truncated(embedder: SentenceTransformerEmbedder) -> None:
    head = "My mortgage servicer lost my payment. " * 40
    tail = "Also the credit card company charged an annual fee I never agreed to. " * 40
    chunked = embedder.transform([head + tail])[0]
    truncating = SentenceTransformerEmbedder(max_words_per_chunk=None).fit()
    truncated = truncating.transform([head + tail])[0]
    only_tail = embedder.transform([tail])[0]
    assert chunked @ only_tail > truncated @ only_tail + 0.05


def test_pickle_holds_a_reference_not_the_weights(embedder: SentenceTransformerEmbedder) -> None:
    blob = pickle.dumps(embedder)
    assert len(blob) < 10_000
    restored = pickle.loads(blob)
    np.testing.assert_allclose(restored.transform(["hello"]), embedder.transform(["hello"]), atol=1e-6)
    assert restored.model_sha256_ == embedder.model_sha256_ and len(embedder.model_sha256_) == 64


def test_estimator_api(embedder: SentenceTransformerEmbedder) -> None:
    assert clone(embedder).get_params() == embedder.get_params()
    assert embedder.get_feature_names_out()[0] == "embedding0"


def test_unknown_model_lists_the_offline_choices() -> None:
    with pytest.raises(ModelNotFoundError, match="models available offline: .*all-MiniLM-L6-v2"):
        resolve_model_path("/no/such/model")


def test_invalid_batch_size_is_refused() -> None:
    with pytest.raises(ValueError, match="'batch_size' parameter must be a positive int"):
        SentenceTransformerEmbedder(batch_size=0).fit()
