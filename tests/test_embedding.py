import pickle
from pathlib import Path

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
    with pytest.raises(ValueError, match="'batch_size' parameter must be None or a positive int. Got 0"):
        SentenceTransformerEmbedder(batch_size=0).fit()


@pytest.mark.parametrize(("batch_size", "precision"),
                         [(None, "int8"), (None, "fp32"), (None, "bf16"), (8, "int8"), (8, "fp32")])
def test_each_precision_has_its_own_default_batch_size(batch_size: int | None, precision: str) -> None:
    embedder = SentenceTransformerEmbedder(batch_size=batch_size, precision=precision).fit()
    cpuinfo = Path("/proc/cpuinfo")
    vnni = cpuinfo.exists() and "avx512_vnni" in cpuinfo.read_text().split()
    expected = batch_size or (16 if precision == "int8" and vnni else 64)
    assert embedder._encode_function().keywords["batch_size"] == expected


def test_embedders_saved_with_the_old_default_batch_size_take_the_new_ones(
        embedder: SentenceTransformerEmbedder) -> None:
    state = embedder.__getstate__()
    state["batch_size"] = 64  # what every embedder saved before the per-precision defaults held
    restored = SentenceTransformerEmbedder.__new__(SentenceTransformerEmbedder)
    restored.__setstate__(state)
    assert restored.batch_size is None and restored.get_params()["batch_size"] is None


THOUSAND_WORDS = " ".join(f"word{i}" for i in range(1000))


@pytest.mark.parametrize(("long_texts", "windows"), [("chunks", 6), ("head", 1), ("head_tail", 1)])
def test_each_long_text_policy_encodes_its_windows(long_texts: str, windows: int,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    embedder = SentenceTransformerEmbedder(long_texts=long_texts, cache=False).fit()
    encoded: list[str] = []

    def encode(texts: list[str]) -> np.ndarray:
        encoded.extend(texts)
        return np.eye(len(texts), 384, dtype=np.float32)

    monkeypatch.setattr(embedder, "_encode_function", lambda: encode)
    vectors = embedder.transform([THOUSAND_WORDS, "a short complaint"])
    assert vectors.shape == (2, 384) and len(encoded) == windows + 1
    first = encoded[0].split()
    if long_texts == "head":
        assert first == [f"word{i}" for i in range(180)]
    elif long_texts == "head_tail":
        assert first == [f"word{i}" for i in range(90)] + [f"word{i}" for i in range(910, 1000)]
        assert first[0] == "word0" and first[-1] == "word999"
    else:
        assert sum(len(chunk.split()) for chunk in encoded[:windows]) == 1000
    assert encoded[-1] == "a short complaint"  # a short text is one window under every policy


def test_head_tail_keeps_the_tail_that_head_drops(embedder: SentenceTransformerEmbedder) -> None:
    head = "My mortgage servicer lost my payment. " * 40
    tail = "Also the credit card company charged an annual fee I never agreed to. " * 40
    only_tail = embedder.transform([tail])[0]
    head_tail = SentenceTransformerEmbedder(long_texts="head_tail").fit().transform([head + tail])[0]
    head_only = SentenceTransformerEmbedder(long_texts="head").fit().transform([head + tail])[0]
    assert head_tail @ only_tail > head_only @ only_tail + 0.05


def test_long_text_policies_are_cached_apart(embedder: SentenceTransformerEmbedder) -> None:
    keys = {policy: SentenceTransformerEmbedder(long_texts=policy).fit()._keys(["same text"])[0]
            for policy in ("chunks", "head", "head_tail")}
    assert len(set(keys.values())) == 3
    assert keys["chunks"] == embedder._keys(["same text"])[0]  # chunk-pooled vectors cached before stay valid


def test_embedders_saved_before_long_texts_existed_chunk(embedder: SentenceTransformerEmbedder) -> None:
    state = embedder.__getstate__()
    state.pop("long_texts")
    restored = SentenceTransformerEmbedder.__new__(SentenceTransformerEmbedder)
    restored.__setstate__(state)
    assert restored.long_texts == "chunks" and restored.get_params()["long_texts"] == "chunks"
    assert restored._keys(["x"]) == embedder._keys(["x"])


def test_unknown_long_text_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="'long_texts' parameter must be one of \\['chunks', 'head', 'head_tail'\\]"):
        SentenceTransformerEmbedder(long_texts="tail").fit()
