"""Few-label training: the selection rule, the estimator, and a bundle holding a fine-tuned encoder."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from sklearn.base import clone

from _helpers import SYNTHETIC
from complaintkit.exceptions import BundleError, InputError
from complaintkit.fine_tuning import balanced_batches, length_groups, supervised_contrastive_loss
from complaintkit.heads.few_label import FewLabelClassifier, choose_root_cause_head, is_unlabelled

TEXTS = [t for texts in SYNTHETIC.values() for t in texts]
LABELS = [label for label, texts in SYNTHETIC.items() for _ in texts]


def test_rule_picks_few_label_below_the_median_threshold() -> None:
    few = ["a"] * 8 + ["b"] * 8 + ["c"] * 200
    many = ["a"] * 40 + ["b"] * 32 + ["c"] * 5
    assert choose_root_cause_head("auto", few)[0] == "few-label"  # median 8
    assert choose_root_cause_head("auto", many)[0] == "standard"  # median 32
    assert choose_root_cause_head("standard", few)[0] == "standard"
    assert "median 8" in choose_root_cause_head("auto", few)[1]
    many_classes = [f"intent{k}" for k in range(77) for _ in range(16)]  # median 16, but 1,232 rows
    assert choose_root_cause_head("auto", many_classes) == (
        "standard", "1232 labelled examples in all >= 1000 (median 16 per class)")
    assert choose_root_cause_head("auto", many_classes[: 77 * 8 * 2: 2])[0] == "few-label"  # 616 rows
    with pytest.raises(InputError, match="must be one of"):
        choose_root_cause_head("setfit", few)


def test_unlabelled_values_are_none_nan_and_blank() -> None:
    values = np.asarray(["x", None, float("nan"), " ", "", "y"], dtype=object)
    assert is_unlabelled(values).tolist() == [False, True, True, True, True, False]


def test_batches_hold_positives_of_several_labels() -> None:
    labels = np.repeat(np.arange(10), 8)
    batches = balanced_batches(labels, steps=5, batch_size=32, rng=np.random.default_rng(0))
    for rows in batches:
        found, counts = np.unique(labels[rows], return_counts=True)
        assert len(found) >= 5 and counts.min() >= 2


def test_length_groups_split_a_batch_into_runs_of_similar_length() -> None:
    lengths = np.array([9, 40, 12, 10, 38, 11, 41, 8])
    groups = length_groups(np.arange(8), lengths, groups=3)
    assert sorted(np.concatenate(groups).tolist()) == list(range(8))  # every row once
    assert [lengths[g].tolist() for g in groups] == [[8, 9, 10], [11, 12, 38], [40, 41]]
    assert [g.tolist() for g in length_groups(np.array([2, 5]), lengths, groups=4)] == [[5], [2]]


def test_contrastive_loss_prefers_separated_labels() -> None:
    torch = pytest.importorskip("torch")
    labels = torch.tensor([0, 0, 1, 1])
    apart = torch.tensor([[1.0, 0.0], [1.0, 0.1], [0.0, 1.0], [0.1, 1.0]])
    mixed = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.1], [0.1, 1.0]])
    assert supervised_contrastive_loss(apart, labels, 0.1) < supervised_contrastive_loss(mixed, labels, 0.1)


def test_few_label_estimator_without_fine_tuning_learns_and_self_trains() -> None:
    unlabelled = ["the invoice charged me twice", "internet down again since yesterday", "the agent was so rude"]
    texts = TEXTS + unlabelled
    labels = LABELS + [None, "", float("nan")]
    model = FewLabelClassifier(fine_tune=False, self_training_rounds=1, pseudo_labels_per_class=1).fit(texts, labels)
    assert list(model.classes_) == sorted(SYNTHETIC)
    assert model.n_pseudo_labelled_ == 3 and model.steps_ == 0
    assert model.predict(["my bill has a wrong charge", "no signal on the line"]).tolist() == [
        "billing_error", "service_failure"]
    proba = model.predict_proba(TEXTS[:4])
    assert proba.shape == (4, 3) and np.allclose(proba.sum(axis=1), 1.0)
    assert clone(model).get_params() == model.get_params()


def test_few_label_with_tfidf_fits_the_standard_head_on_the_same_encoder() -> None:
    from complaintkit.heads.root_cause import RootCauseClassifier

    # Two account codes that only the labels tie to a cause: a word the TF-IDF block can learn.
    coded = [f"question about my account, reference {code} number {i}" for code in ("qqalpha", "zzbeta")
             for i in range(4)]
    coded_labels = ["billing_error"] * 4 + ["staff_attitude"] * 4
    unlabelled = ["the invoice charged me twice", "internet down again since yesterday", "the agent was so rude"]
    model = FewLabelClassifier(fine_tune=False, tfidf=True, self_training_rounds=1, pseudo_labels_per_class=1).fit(
        TEXTS + coded + unlabelled, LABELS + coded_labels + [None, "", float("nan")])
    head = model.pipeline_.named_steps["classifier"]
    assert list(model.pipeline_.named_steps) == ["normalise", "classifier"]
    assert isinstance(head.estimator_, RootCauseClassifier) and head.temperature == model.temperature_ != 1.0
    assert head.estimator_.chosen_settings() == model.head_settings_ and model.head_settings_["use_tfidf"]
    assert model.embedder_ is head.estimator_.embedder_ and model.n_pseudo_labelled_ == 3
    assert model.oof_folds_ == 2 and model.oof_proba_.shape == (len(TEXTS) + len(coded), 3)
    np.testing.assert_allclose(model.oof_proba_.sum(axis=1), 1.0)
    assert model.predict(["my bill has a wrong charge", "no signal on the line",
                          "reference qqalpha again", "reference zzbeta again"]).tolist() == [
        "billing_error", "service_failure", "billing_error", "staff_attitude"]
    assert clone(model).get_params() == model.get_params()


def test_few_label_heads_saved_before_the_tfidf_option_still_predict() -> None:
    model = FewLabelClassifier(fine_tune=False, calibration_folds=0).fit(TEXTS, LABELS)
    state = model.__getstate__()
    del state["tfidf"], state["C_grid"], state["frozen_layers"]
    old = FewLabelClassifier.__new__(FewLabelClassifier)
    old.__setstate__(state)
    assert old.tfidf is False and old.C_grid == (1.0, 10.0) and old.get_params()["frozen_layers"] == 0
    assert old.predict(TEXTS).tolist() == model.predict(TEXTS).tolist()


def test_few_label_probabilities_are_temperature_scaled_on_held_out_predictions() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from complaintkit.evaluation import expected_calibration_error
    from complaintkit.heads.temperature import TemperatureScaledClassifier

    model = FewLabelClassifier(fine_tune=False, C=1.0).fit(TEXTS, LABELS)
    head = model.pipeline_.named_steps["classifier"]
    assert isinstance(head, TemperatureScaledClassifier) and head.temperature == model.temperature_
    assert model.oof_folds_ == 2 and model.oof_proba_.shape == (len(TEXTS), 3)
    np.testing.assert_allclose(model.oof_proba_.sum(axis=1), 1.0)
    truth = np.asarray(LABELS, dtype=object)
    vectors = model.embedder_.transform(TEXTS)
    raw = cross_val_predict(LogisticRegression(class_weight="balanced", max_iter=2000), vectors, truth,
                            cv=StratifiedKFold(2, shuffle=True, random_state=0), method="predict_proba")

    def ece(proba: np.ndarray) -> float:
        return expected_calibration_error(proba.max(axis=1), model.classes_[proba.argmax(axis=1)] == truth)

    # C=1 on unit-length embeddings gives flat probabilities; the temperature sharpens them toward the accuracy
    assert model.temperature_ < 1 and ece(model.oof_proba_) < ece(raw) - 0.1
    np.testing.assert_array_equal(model.predict(TEXTS), head.estimator_.predict(vectors))  # same decisions
    off = FewLabelClassifier(fine_tune=False, calibration_folds=0).fit(TEXTS, LABELS)
    assert off.oof_proba_ is None and off.temperature_ == 1.0


def test_few_label_chooses_c_within_one_standard_error_on_the_held_out_predictions() -> None:
    causes = sorted(SYNTHETIC)
    noisy = [causes[(causes.index(y) + 1) % 3] if i % 6 == 5 else y for i, y in enumerate(LABELS)]
    model = FewLabelClassifier(fine_tune=False, C_grid=(10.0, 0.001)).fit(TEXTS, noisy)
    rows = model.held_out_macro_f1_
    assert [row["C"] for row in rows] == [0.001, 10.0] and [row["chosen"] for row in rows].count(True) == 1
    best = max(rows, key=lambda row: row["macro_f1"])
    simplest_close = next(row for row in rows if row["macro_f1"] >= best["macro_f1"] - best["se"])
    regression = model.pipeline_.named_steps["classifier"].estimator_
    assert simplest_close["chosen"] and model.head_settings_ == {"C": simplest_close["C"]}
    assert simplest_close["C"] == regression.C
    weak = FewLabelClassifier(fine_tune=False, C_grid=(1.0, 1.0001)).fit(TEXTS, noisy)
    assert weak.head_settings_ == {"C": 1.0}  # a tie goes to the stronger regularisation
    without_folds = FewLabelClassifier(fine_tune=False, calibration_folds=0).fit(TEXTS, LABELS)
    assert without_folds.head_settings_ == {"C": 1.0} and without_folds.held_out_macro_f1_ == []
    fixed = FewLabelClassifier(fine_tune=False, C=3.0).fit(TEXTS, LABELS)
    assert fixed.head_settings_ == {"C": 3.0} and len(fixed.held_out_macro_f1_) == 1


def test_few_label_review_threshold_asks_the_precision_lower_bound() -> None:
    import pandas as pd

    from complaintkit.training import few_label_review_threshold, fit_review_threshold

    causes = sorted(SYNTHETIC)
    noisy = [causes[(causes.index(y) + 1) % 3] if i % 6 == 5 else y for i, y in enumerate(LABELS)]  # 1 in 6 wrong
    model = FewLabelClassifier(fine_tune=False).fit(TEXTS, noisy)
    labels = pd.Series(noisy, index=np.arange(len(noisy)) * 2)
    observed = fit_review_threshold(model, labels, 0.9, oof=(model.oof_proba_, model.oof_folds_))
    top = model.oof_proba_.max(axis=1)
    correct = model.classes_[model.oof_proba_.argmax(axis=1)] == np.asarray(noisy, dtype=object)
    kept = top >= observed["threshold"]
    assert correct.mean() < 0.9 and 0.2 < kept.mean() < 1.0 and correct[kept].mean() >= 0.9
    review = few_label_review_threshold(model, labels, 0.9)
    # 24 labelled rows cannot show 90% precision with 95% confidence: every prediction is flagged
    assert review["threshold"] == 1.0 and review["oof_coverage"] == 0.0 and "lower bound" in review["rule"]
    single = FewLabelClassifier(fine_tune=False).fit(TEXTS[:9], LABELS[:8] + ["service_failure"])
    assert single.oof_proba_ is None and single.oof_folds_ == 0
    assert few_label_review_threshold(single, pd.Series(LABELS[:8] + ["service_failure"]), 0.9)["threshold"] == 0.0


def test_few_label_estimator_refuses_bad_settings() -> None:
    with pytest.raises(ValueError, match="'steps' parameter"):
        FewLabelClassifier(steps=0).fit(TEXTS, LABELS)
    for bad in ({"C": 0.0}, {"C": "big"}, {"C_grid": ()}, {"C_grid": (1.0, -1.0)}):
        with pytest.raises(ValueError, match="'C"):
            FewLabelClassifier(fine_tune=False, **bad).fit(TEXTS, LABELS)
    with pytest.raises(InputError, match="at least two classes"):
        FewLabelClassifier(fine_tune=False).fit(TEXTS[:3], ["a", None, None])


@pytest.mark.slow
@pytest.mark.parametrize("tfidf", [False, True])
def test_bundle_with_fine_tuned_encoder_round_trips_offline(tmp_path, monkeypatch, tfidf) -> None:
    from complaintkit import Bundle

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("COMPLAINTKIT_CACHE_DIR", str(tmp_path / "cache"))  # fine-tuned vectors stay out of the cache
    head = FewLabelClassifier(steps=3, batch_size=12, tfidf=tfidf, encoder_dir=str(tmp_path / "encoders")).fit(
        TEXTS, LABELS)
    assert head.steps_ == 3 and head.embedder_.model.startswith(str(tmp_path / "encoders"))
    assert head.oof_folds_ == 2 and len(list((tmp_path / "encoders").iterdir())) == 1  # fold encoders removed
    bundle = Bundle(metadata={"name": "few", "columns": {"text": ["text"]}}, root_cause=head)
    first = bundle.save(tmp_path / "a")
    files = json.loads((first / "metadata.json").read_text())["artifacts"]
    assert "encoder/model.safetensors" in files and not any(name.endswith((".bin", ".pkl")) for name in files)
    assert json.loads((first / "metadata.json").read_text())["embedding_model"]["name"] == "bundle:encoder"
    before = head.predict_proba(TEXTS)
    moved = tmp_path / "elsewhere" / "b"
    shutil.copytree(first, moved)  # relocatable: nothing in it points at the training machine's folders
    shutil.rmtree(tmp_path / "encoders")  # the bundle needs only its own copy
    loaded = Bundle.load(moved)
    assert loaded.root_cause.embedder_.model == str((moved / "encoder").resolve())
    np.testing.assert_allclose(loaded.root_cause.predict_proba(TEXTS), before, atol=1e-6)
    assert loaded.root_cause.predict(TEXTS).tolist() == head.predict(TEXTS).tolist()
    loaded.save(tmp_path / "c")  # re-saving a loaded bundle gives the same head and encoder bytes
    assert json.loads((tmp_path / "c" / "metadata.json").read_text())["artifacts"] == files
    weights = moved / "encoder" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-8] + b"\x00" * 8)
    with pytest.raises(BundleError, match="was modified"):
        Bundle.load(moved)


@pytest.mark.slow
def test_train_gives_a_few_label_bundle_a_needs_review_threshold(synthetic_frame, tmp_path, monkeypatch) -> None:
    from complaintkit.config import TrainConfig
    from complaintkit.training import train

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("COMPLAINTKIT_CACHE_DIR", str(tmp_path))  # the fine-tuned encoder goes to a scratch cache
    frame = synthetic_frame.drop(columns="split")
    bundle = train(frame, TrainConfig(text_cols=("text",), label_col="cause"), name="few")
    root = bundle.metadata["heads"]["root_cause"]
    assert root["path"]["head"] == "few-label" and root["chosen"]["calibration"]["method"] == "temperature"
    review = bundle.metadata["review"]
    assert review["threshold"] > 0 and review["target_precision"] == 0.9 and "held-out" in review["rule"]


@pytest.mark.slow
def test_replayed_kept_layers_give_the_embeddings_of_the_whole_encoder() -> None:
    import torch
    from sentence_transformers import SentenceTransformer

    from complaintkit.embedding import resolve_model_path
    from complaintkit.fine_tuning import _replayed_kept_layers

    model = SentenceTransformer(str(resolve_model_path("all-MiniLM-L6-v2")), device="cpu", local_files_only=True)
    texts = TEXTS[:5] + ["a much longer complaint about a card charged twice and nobody answering " * 4]
    model.eval()
    with torch.no_grad():
        features = model.preprocess(texts)
        whole = model(features)["sentence_embedding"]
        with _replayed_kept_layers(model, texts, 3, batch_size=4) as replay:  # batches differ from the one below
            features = model.preprocess(texts)
            replay.select(np.arange(len(texts)), features["input_ids"].shape[1])
            replayed = model(features)["sentence_embedding"]
            grouped = []
            for part in length_groups(np.arange(len(texts)), np.array([len(t) for t in texts]), groups=2):
                features = model.preprocess([texts[i] for i in part])
                replay.select(part, features["input_ids"].shape[1])
                grouped.append((part, model(features)["sentence_embedding"]))
    torch.testing.assert_close(replayed, whole, atol=1e-5, rtol=0)
    for part, embeddings in grouped:  # padding each group to its own length changes nothing
        torch.testing.assert_close(embeddings, whole[part], atol=1e-5, rtol=0)
    assert len(model[0].auto_model.encoder.layer) == 6  # the real layers are back


@pytest.mark.slow
def test_fine_tuning_with_kept_layers_trains_only_the_layers_above_them(tmp_path, monkeypatch) -> None:
    from safetensors.numpy import load_file

    from complaintkit.embedding import resolve_model_path
    from complaintkit.fine_tuning import fine_tune_encoder

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    folder = fine_tune_encoder(TEXTS, LABELS, "all-MiniLM-L6-v2", steps=3, batch_size=12, frozen_layers=3,
                               output_dir=str(tmp_path))
    base = load_file(str(resolve_model_path("all-MiniLM-L6-v2") / "model.safetensors"))
    tuned = load_file(str(folder / "model.safetensors"))

    def changed(prefix: str) -> bool:
        names = [name for name in tuned if prefix in name]
        assert names
        return any(not np.array_equal(tuned[name], base[name]) for name in names)

    assert not changed("embeddings.") and not any(changed(f"layer.{i}.") for i in range(3))
    assert all(changed(f"layer.{i}.") for i in range(3, 6))
    with pytest.raises(ValueError, match="between 0 and 5"):
        fine_tune_encoder(TEXTS, LABELS, "all-MiniLM-L6-v2", steps=1, frozen_layers=6, output_dir=str(tmp_path))


def test_heads_saved_with_steps_growing_with_the_rows_refit_with_40() -> None:
    state = FewLabelClassifier().__getstate__()
    state["steps"] = "auto"  # what heads saved before the fixed 40 steps hold
    restored = FewLabelClassifier.__new__(FewLabelClassifier)
    restored.__setstate__(state)
    assert restored.get_params()["steps"] == 40
    restored._check_params()
