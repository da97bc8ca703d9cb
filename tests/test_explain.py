"""Explanations: nearest labelled examples and the terms behind a predicted root cause."""

import numpy as np
import pandas as pd
import pytest

from complaintkit.explain import build_example_index, embed_for_head, top_terms
from complaintkit.scoring import score_frame


def test_nearest_examples_are_the_nearest_in_embedding_space() -> None:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(40, 8))
    index = build_example_index([f"id{i}" for i in range(40)], [f"text {i}" for i in range(40)],
                                ["a", "b"] * 20, vectors)
    queries = rng.normal(size=(6, 8))
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    positions, similarity = index.nearest(queries, k=3)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    brute = np.argsort(-(queries @ unit.T), axis=1)[:, :3]  # float64, no float16 storage
    assert positions.tolist() == brute.tolist()
    assert np.all(np.diff(similarity, axis=1) <= 0)
    assert index.vectors.dtype == np.float16


def test_hand_built_index_returns_the_obvious_neighbours() -> None:
    index = build_example_index(["east", "north", "west", "south"], ["e", "n", "w", "s"], ["x"] * 4,
                                np.array([[1, 0], [0, 1], [-1, 0], [0, -1]]))
    positions, _ = index.nearest(np.array([[0.8, 0.6], [-0.1, -0.99]]), k=2)
    assert index.ids[positions].tolist() == [["east", "north"], ["south", "west"]]


def test_index_is_capped() -> None:
    index = build_example_index(list(range(50)), ["t"] * 50, ["a"] * 50, np.ones((50, 3)), max_examples=10)
    assert len(index) == 10 and len(set(index.ids)) == 10


def test_score_explain_on_a_trained_bundle(trained_bundle, synthetic_frame: pd.DataFrame) -> None:
    head = trained_bundle.root_cause
    train_rows = synthetic_frame[synthetic_frame["split"] == "train"]
    assert len(head.example_index_) == len(train_rows)
    frame = pd.DataFrame({"text": ["I was charged twice on my bill and no refund came",
                                   "The engineer was rude and shouted at me"],
                          "tenure": [5, 5], "plan": ["basic", "basic"]})
    scored = score_frame(trained_bundle, frame, explain=True)
    # the reported neighbours are the nearest training rows by the head's own embeddings
    query = embed_for_head(head, frame["text"].tolist())
    train_vectors = embed_for_head(head, train_rows["text"].tolist())
    stored = build_example_index(train_rows.index.tolist(), train_rows["text"].tolist(), train_rows["cause"].tolist(),
                                 train_vectors)
    np.testing.assert_array_equal(head.example_index_.vectors, stored.vectors)  # the fit's own embeddings
    expected = np.argsort(-(query @ train_vectors.T), axis=1)[:, 0]
    assert scored["similar_1_text"].tolist() == train_rows["text"].iloc[expected].tolist()
    assert scored["similar_1_id"].astype(int).tolist() == train_rows.index[expected].tolist()
    assert (scored["similar_1_similarity"] >= scored["similar_3_similarity"]).all()
    # the top terms occur in the complaint and pull toward the predicted cause
    for text, terms in zip(frame["text"], scored["top_terms"], strict=True):
        assert terms, text
        assert all(term in text.lower() for term in terms.split(", "))


def test_top_terms_are_empty_without_tfidf(trained_bundle) -> None:
    class NoTfidf:
        pipeline_ = type("P", (), {"named_steps": {"features": None}})()

    assert top_terms(NoTfidf(), ["a text"], ["x"]) == [""]


@pytest.mark.parametrize("k", [1, 3])
def test_nearest_never_returns_more_than_the_index(k: int) -> None:
    index = build_example_index(["a", "b"], ["a", "b"], ["x", "y"], np.eye(2))
    positions, _ = index.nearest(np.eye(2), k=k)
    assert positions.shape == (2, min(k, 2))
