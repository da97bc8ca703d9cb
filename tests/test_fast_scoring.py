"""Fast scoring: the int8 encoder, the load-aware thread default, the static embedding and the fast tier."""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from pathlib import Path

import numpy as np
import onnx
import pandas as pd
import pytest

import complaintkit.cpu as cpu
from complaintkit import Bundle, RootCauseClassifier, TrainConfig, train
from complaintkit.bundle import file_sha256
from complaintkit.bundle.skops_heads import dump_head, load_head
from complaintkit.embedding import load_sentence_transformer, model_fingerprint, resolve_model_path
from complaintkit.embedding.onnx_encoder import build_onnx_encoder, encode_int8, onnx_encoder_path
from complaintkit.embedding.static import STATIC_DIMS, StaticEmbedder, distil_static_table, static_table_path
from complaintkit.engines import local
from complaintkit.exceptions import BundleError
from complaintkit.heads.cascade import CascadeRootCauseClassifier, choose_threshold
from complaintkit.heads.char_ngrams import CharNgramTfidfVectorizer
from complaintkit.heads.root_cause import FOLD_TOL
from complaintkit.scoring import score_file


@pytest.fixture(scope="module")
def fast_bundle(random_static_table, synthetic_frame) -> Bundle:
    """A fast-tier bundle trained on the synthetic frame (not saved)."""
    config = TrainConfig(text_cols=("text",), label_col="cause", fast_tier=True,  # shares the review's refits
                         root_cause_head="standard")  # 24 rows would pick few-label training
    return train(synthetic_frame, config, name="fast")


def _cached_table() -> Path:
    return static_table_path(model_fingerprint(resolve_model_path("minilm")), STATIC_DIMS)


def test_int8_graph_is_built_once_per_model_and_gives_vectors_close_to_fp32(tmp_path):
    path = resolve_model_path("minilm")
    graph = build_onnx_encoder(path)
    assert graph == onnx_encoder_path(model_fingerprint(path))  # keyed by the model's hash, in the cache folder
    assert graph.suffix == ".onnx" and graph.read_bytes()[:1] != b"\x80"  # a protobuf graph, never a pickle
    operators = {node.op_type for node in onnx.load(str(graph)).graph.node}
    assert {"QAttention", "SkipLayerNormalization", "BiasGelu"} <= operators  # fused, then quantised
    built = graph.stat().st_mtime_ns
    texts = ["my bill is wrong again", "the engineer never came", "refund please", "x " * 400]
    int8 = encode_int8(path, texts, batch_size=2)
    assert build_onnx_encoder(path).stat().st_mtime_ns == built  # reused, not rebuilt
    fp32 = load_sentence_transformer(str(path)).encode(texts, normalize_embeddings=True)
    np.testing.assert_allclose(np.linalg.norm(int8, axis=1), 1.0, rtol=1e-4)
    assert (np.sum(int8 * fp32, axis=1) > 0.95).all()
    # activations are quantised per batch, so a text's vector moves a little with its batch-mates, no more
    assert float(encode_int8(path, texts[:1], batch_size=2)[0] @ int8[0]) > 0.98


def test_int8_encoder_agrees_with_fp32_and_is_cached_apart(tmp_path, trained_bundle, synthetic_frame):
    synthetic_frame.to_csv(tmp_path / "in.csv", index=False)
    score_file(trained_bundle, tmp_path / "in.csv", tmp_path / "fp32.parquet", precision="fp32")
    run = score_file(trained_bundle, tmp_path / "in.csv", tmp_path / "int8.parquet", precision="int8")
    assert run.precision == "int8"
    fp32, int8 = pd.read_parquet(tmp_path / "fp32.parquet"), pd.read_parquet(tmp_path / "int8.parquet")
    assert (fp32["root_cause"] == int8["root_cause"]).mean() >= 0.9
    # not served from the fp32 cache (the root-cause head can be saturated on this tiny set; churn's is not)
    assert not np.array_equal(fp32["churn_proba"], int8["churn_proba"])


@pytest.mark.parametrize(("load", "workers", "expected"), [
    (0.2, 1, None),   # idle: torch's own threads
    (0.8, 1, 1),      # one core busy elsewhere
    (2.5, 1, 1),      # loaded: one thread
    (0.0, 2, 1),      # two workers share two cores
    (9.0, 2, 1),
])
def test_thread_default_uses_the_idle_cores(monkeypatch, load, workers, expected):
    monkeypatch.setattr(cpu, "load_average", lambda: load)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert local.default_threads(workers) == expected


def test_static_embedder_gives_unit_vectors_by_text_alone(random_static_table):
    embedder = StaticEmbedder().fit()
    texts = ["my bill is wrong", "the line is down", "", "my bill is wrong"]
    vectors = embedder.transform(texts)
    assert vectors.shape == (4, STATIC_DIMS) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors[[0, 1, 3]], axis=1), 1.0, rtol=1e-5)
    assert not vectors[2].any()  # no token, no direction
    np.testing.assert_array_equal(vectors[0], vectors[3])
    np.testing.assert_allclose(embedder.transform(texts[::-1])[::-1], vectors, rtol=1e-6)
    assert embedder.transform([]).shape == (0, STATIC_DIMS)
    with pytest.raises(ValueError, match="'dims' parameter"):
        StaticEmbedder(dims=2).fit()


def test_choose_threshold_keeps_the_loss_within_bounds():
    labels = np.array(["a", "b"] * 50)
    full = labels.copy()
    fast = np.where(np.arange(100) < 20, np.where(labels == "a", "b", "a"), labels)  # first 20 wrong
    confidence = np.where(np.arange(100) < 20, 0.4, 0.9)
    threshold, f1 = choose_threshold(confidence, fast, full, labels, max_f1_loss=0.0)
    assert 0.4 < threshold <= 0.9 and f1 == 1.0  # the 20 unsure rows escalated, no loss
    assert choose_threshold(confidence, fast, full, labels, max_f1_loss=0.5)[0] == 0.4  # loose: keep all


def test_cascade_escalates_unsure_rows_to_the_full_head(random_static_table, synthetic_frame):
    texts, labels = synthetic_frame["text"].tolist(), synthetic_frame["cause"].to_numpy()
    full = RootCauseClassifier().fit(texts, labels)
    cascade = CascadeRootCauseClassifier(full, max_f1_loss=0.0).fit(texts, labels)
    assert cascade.full_ is full and cascade.fast_.embedder_.__class__ is StaticEmbedder
    assert cascade.example_index_ is full.example_index_ is not None and cascade.fast_.example_index_ is None
    assert cascade.oof_["cascade_macro_f1"] >= cascade.oof_["full_macro_f1"]
    full_blocks, fast_blocks = (dict(head.pipeline_.named_steps["features"].transformer_list)
                                for head in (full, cascade.fast_))
    assert fast_blocks["tfidf"] is full_blocks["tfidf"] and fast_blocks["chars"] is full_blocks["chars"]  # stored once
    assert fast_blocks["embedding"] is not full_blocks["embedding"]
    final_svm = cascade.fast_.pipeline_.named_steps["classifier"].calibrated_classifiers_[0].estimator
    assert final_svm.tol == FOLD_TOL  # where its calibration folds stop
    fast_proba, escalate = cascade.escalated(texts)
    cascade.threshold_ = float(np.median(fast_proba.max(axis=1)))  # split the rows, whatever was chosen
    fast_proba, escalate = cascade.escalated(texts)
    assert 0 < escalate.sum() < len(texts)
    proba = cascade.predict_proba(texts)
    escalated_texts = [t for t, e in zip(texts, escalate, strict=True) if e]
    np.testing.assert_allclose(proba[escalate], full.predict_proba(escalated_texts))
    np.testing.assert_allclose(proba[~escalate], fast_proba[~escalate])
    assert list(cascade.classes_) == list(full.classes_)


def test_a_cascade_that_fits_its_full_head_passes_its_tfidf_outputs_on(random_static_table, synthetic_frame,
                                                                       monkeypatch):
    texts, labels = synthetic_frame["text"].tolist(), synthetic_frame["cause"].to_numpy()
    transformed = []
    transform = CharNgramTfidfVectorizer.transform

    def counting(self, X):
        transformed.append(len(X))
        return transform(self, X)

    monkeypatch.setattr(CharNgramTfidfVectorizer, "transform", counting)
    cascade = CascadeRootCauseClassifier(RootCauseClassifier(C=0.3, embedding_weight=1.0)).fit(texts, labels)
    assert transformed == []  # the fast head took the full head's outputs on the training texts
    assert not hasattr(cascade.full_, "text_block_outputs_")  # and they were let go
    full = RootCauseClassifier(C=0.3, embedding_weight=1.0).fit(texts, labels)
    given = CascadeRootCauseClassifier(full).fit(texts, labels, full_oof_proba=full.held_out_proba_)
    assert transformed == [len(texts)]  # a full head fitted without keeping them: computed again
    kept = RootCauseClassifier(C=0.3, embedding_weight=1.0).fit(texts, labels, keep_text_block_outputs=True)
    CascadeRootCauseClassifier(kept).fit(texts, labels, full_oof_proba=kept.held_out_proba_)
    assert transformed == [len(texts)] and not hasattr(kept, "text_block_outputs_")  # used, then let go
    np.testing.assert_allclose(given.fast_.held_out_proba_, cascade.fast_.held_out_proba_, atol=1e-6)


def test_fast_tier_bundle_round_trip_and_scores(fast_bundle, tmp_path, synthetic_frame):
    bundle = fast_bundle
    assert "target_precision" in bundle.metadata["review"]
    info = bundle.metadata["heads"]["root_cause"]["fast_tier"]
    assert set(info["out_of_fold"]) >= {"full_macro_f1", "fast_macro_f1", "cascade_macro_f1", "escalated"}
    loaded = Bundle.load(bundle.save(tmp_path / "fast"))
    assert isinstance(loaded.root_cause, CascadeRootCauseClassifier)
    full_blocks, fast_blocks = (dict(pipeline.named_steps["features"].transformer_list)
                                for pipeline in loaded.root_cause.pipelines_)
    assert fast_blocks["tfidf"] is full_blocks["tfidf"]  # written once, read back shared
    texts = synthetic_frame["text"].tolist()
    np.testing.assert_allclose(loaded.root_cause.predict_proba(texts), bundle.root_cause.predict_proba(texts),
                               rtol=1e-5)
    synthetic_frame.to_csv(tmp_path / "in.csv", index=False)
    summary = score_file(loaded, tmp_path / "in.csv", tmp_path / "out.parquet")
    assert summary.rows_scored == len(synthetic_frame)
    assert pd.read_parquet(tmp_path / "out.parquet")["root_cause"].isin(set(synthetic_frame["cause"])).all()


def test_fast_tier_bundle_carries_its_static_table(fast_bundle, tmp_path, synthetic_frame, monkeypatch):
    texts = synthetic_frame["text"].tolist()
    expected = fast_bundle.root_cause.predict_proba(texts)
    saved = fast_bundle.save(tmp_path / "saved" / "fast")
    name = f"static/{_cached_table().name}"
    metadata = json.loads((saved / "metadata.json").read_text())
    assert metadata["artifacts"][name] == file_sha256(saved / name)
    assert metadata["embedding_model"]["static_tables"] == [name]
    assert name in (saved / "README.md").read_text()
    assert (saved / name).read_bytes() == _cached_table().read_bytes()
    assert fast_bundle.root_cause.fast_.embedder_.table_path_ is None  # the trained head is left as it was
    with zipfile.ZipFile(saved / "root_cause.skops") as head:  # no path of the saving machine in the head
        schema = head.read("schema.json").decode()
    assert f"bundle:{name}" in schema and str(tmp_path) not in schema
    assert os.environ["COMPLAINTKIT_CACHE_DIR"] not in schema

    moved = shutil.move(saved, tmp_path / "elsewhere" / "fast")
    with monkeypatch.context() as patched:  # a host without the cached table, where distilling fails
        import complaintkit.embedding.static as static

        patched.setattr(static, "build_static_table", _refuse_to_distil)
        aside = shutil.move(_cached_table(), tmp_path / "cached-table.npy")
        try:
            loaded = Bundle.load(moved)
            assert loaded.root_cause.fast_.embedder_.table_path_ == str((moved / name).resolve())
            assert name not in loaded.files
            np.testing.assert_array_equal(loaded.root_cause.predict_proba(texts), expected)
            assert not _cached_table().exists()
        finally:
            shutil.move(aside, _cached_table())


def _refuse_to_distil(*args, **kwargs):
    raise AssertionError("the static table was distilled again")


def test_changed_static_table_in_a_bundle_is_refused(fast_bundle, tmp_path):
    saved = fast_bundle.save(tmp_path / "fast")
    table = saved / "static" / _cached_table().name
    data = bytearray(table.read_bytes())
    data[-1] ^= 1
    table.write_bytes(bytes(data))
    with pytest.raises(BundleError, match=r"static/.*was modified"):
        Bundle.load(saved)


def test_fast_tier_bundle_saved_without_its_table_reads_the_cache(fast_bundle, tmp_path, synthetic_frame):
    """Bundles saved before they carried their tables: the stored embedder has no table_path_."""
    saved = fast_bundle.save(tmp_path / "fast")
    head = load_head(saved / "root_cause.skops", trust=False)
    del head.fast_.embedder_.__dict__["table_path_"]
    dump_head(head, saved / "root_cause.skops")
    shutil.rmtree(saved / "static")
    metadata = json.loads((saved / "metadata.json").read_text())
    metadata["artifacts"] = {name: file_sha256(saved / name) for name in metadata["artifacts"]
                             if not name.startswith("static/")}
    (saved / "metadata.json").write_text(json.dumps(metadata))
    loaded = Bundle.load(saved)
    assert loaded.root_cause.fast_.embedder_.table_path_ is None
    texts = synthetic_frame["text"].tolist()
    np.testing.assert_array_equal(loaded.root_cause.predict_proba(texts), fast_bundle.root_cause.predict_proba(texts))


def test_fast_tier_needs_a_label_column():
    from complaintkit.exceptions import InputError

    with pytest.raises(InputError, match="--fast-tier needs --label-col"):
        TrainConfig(churn_col="churned", fast_tier=True)


@pytest.mark.slow
def test_distilled_table_puts_related_words_together():
    table = distil_static_table(resolve_model_path("minilm"), dims=32, max_tokens=4000)
    from tokenizers import Tokenizer

    vocab = Tokenizer.from_file(str(resolve_model_path("minilm") / "tokenizer.json")).get_vocab()
    rows = {w: table[vocab[w]] / np.linalg.norm(table[vocab[w]]) for w in ("money", "paid", "water", "[unused5]")
            if w in vocab and vocab[w] < 4000}
    assert not table[vocab["[unused5]"]].any() and not table[0].any()  # never-seen tokens and padding are zero
    assert rows["money"] @ rows["paid"] > rows["money"] @ rows["water"]


def test_build_static_command_reports_the_table(random_static_table):
    from click.testing import CliRunner

    from complaintkit.cli import main

    result = CliRunner().invoke(main, ["build-static"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith(".npy") and "static embedding of all-MiniLM-L6-v2 ready" in result.output
