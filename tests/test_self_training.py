"""Zero-shot that adapts: the self-trained prototype head on synthetic vectors, and `train --taxonomy`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn.metrics import f1_score

from complaintkit import Bundle
from complaintkit.cli import main
from complaintkit.exceptions import InputError
from complaintkit.heads.self_training import SelfTrainedPrototypeClassifier, confident_per_class
from complaintkit.heads.zero_shot import PrototypeClassifier
from complaintkit.scoring import score_frame
from complaintkit.taxonomy import load_taxonomy
from complaintkit.training import zero_shot_inputs


def _clusters(seed: int = 0, counts: tuple[int, int, int] = (80, 80, 80)
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """SYNTHETIC: 3 unit-vector clusters of ``counts`` rows and prototypes that point only roughly at them.

    Returns prototypes, their labels, unlabelled vectors and their true classes.
    """
    rng = np.random.default_rng(seed)
    centres = np.linalg.qr(rng.normal(size=(16, 3)))[0].T  # orthonormal cluster centres
    classes = ["a", "b", "c"]
    truth = np.repeat(np.arange(3), counts)
    vectors = centres[truth] + rng.normal(0, 0.35, (len(truth), 16))
    # prototypes tilted towards the next cluster, as phrases written without seeing the data are
    prototypes = centres + 0.8 * np.roll(centres, -1, axis=0) + rng.normal(0, 0.1, (3, 16))
    return prototypes, np.asarray(classes, dtype=object), vectors, [classes[k] for k in truth]


def test_self_training_beats_the_prototypes_it_starts_from() -> None:
    prototypes, labels, vectors, truth = _clusters()
    y = list(labels) + [None] * len(vectors)
    X = np.vstack([prototypes, vectors])
    plain = (PrototypeClassifier().fit(prototypes, labels).predict(vectors) == truth).mean()
    head = SelfTrainedPrototypeClassifier(rounds=3).fit(X, y)
    adapted = (head.predict(vectors) == truth).mean()
    assert adapted > plain + 0.05, (plain, adapted)
    assert [r["round"] for r in head.rounds_] == [1, 2, 3]
    proba = head.predict_proba(vectors)
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert head.calibration_["method"].startswith("temperature")
    # tempered: the mean confidence is the estimated accuracy, not near 1
    assert proba.max(axis=1).mean() == pytest.approx(head.calibration_["estimated_accuracy"], abs=0.02)


def test_balanced_regularised_head_beats_the_previous_default_when_one_cause_dominates() -> None:
    # 75% of the complaints in one cause, as on the airline tweets (66%): the default (class-balanced,
    # C=0.01) against the previous one (C=1, class weights following the pseudo-labels)
    gains = []
    for seed in range(6):
        prototypes, labels, vectors, truth = _clusters(seed, counts=(240, 40, 40))
        X, y = np.vstack([prototypes, vectors]), list(labels) + [None] * len(vectors)
        scores = []
        for params in ({}, {"C": 1.0, "class_weight": None}):
            predicted = SelfTrainedPrototypeClassifier(calibrate=False, **params).fit(X, y).predict(vectors)
            scores.append((f1_score(truth, predicted, average="macro"), (predicted == np.asarray(truth)).mean()))
        gains.append(np.subtract(*scores))
    gains = np.array(gains)  # per seed: macro-F1 gain, accuracy gain
    assert (gains > -0.005).all(), gains
    assert (gains.mean(axis=0) > 0.015).all(), gains.mean(axis=0)


def test_no_rounds_is_the_prototype_classifier() -> None:
    prototypes, labels, vectors, _ = _clusters(seed=1)
    head = SelfTrainedPrototypeClassifier(rounds=0).fit(np.vstack([prototypes, vectors]),
                                                        list(labels) + [""] * len(vectors))
    assert head.predict(vectors).tolist() == PrototypeClassifier().fit(prototypes, labels).predict(vectors).tolist()
    assert head.calibration_["method"] == "none"


def test_fit_is_deterministic_and_order_of_unlabelled_rows_only_matters_little() -> None:
    prototypes, labels, vectors, _ = _clusters(seed=2)
    X, y = np.vstack([prototypes, vectors]), list(labels) + [None] * len(vectors)
    first = SelfTrainedPrototypeClassifier().fit(X, y).predict_proba(vectors)
    again = SelfTrainedPrototypeClassifier().fit(X, y).predict_proba(vectors)
    assert np.array_equal(first, again)


def test_bad_settings_and_no_prototypes_are_refused() -> None:
    prototypes, labels, vectors, _ = _clusters()
    X, y = np.vstack([prototypes, vectors]), list(labels) + [None] * len(vectors)
    with pytest.raises(ValueError, match="rounds"):
        SelfTrainedPrototypeClassifier(rounds=-1).fit(X, y)
    with pytest.raises(ValueError, match="shares"):
        SelfTrainedPrototypeClassifier(shares=(0.0,)).fit(X, y)
    with pytest.raises(ValueError, match="prototype_weight"):
        SelfTrainedPrototypeClassifier(prototype_weight=2).fit(X, y)
    with pytest.raises(InputError, match="every row is unlabelled"):
        SelfTrainedPrototypeClassifier().fit(vectors, [None] * len(vectors))


def test_confident_per_class_keeps_every_predicted_class() -> None:
    proba = np.array([[0.9, 0.1], [0.8, 0.2], [0.7, 0.3], [0.6, 0.4], [0.45, 0.55]])
    picked = confident_per_class(proba, share=0.25, min_per_class=1)
    assert picked.tolist() == [0, 4]  # the best of class 0, and class 1's only row


def test_default_taxonomy_resolves_to_the_packaged_file_in_eight_languages() -> None:
    taxonomy = load_taxonomy("default")
    assert taxonomy.source.endswith("complaintkit/taxonomies/default.yaml")
    assert {"en", "it", "ru", "hr", "pt", "es", "fr", "de"} <= set(taxonomy.languages)
    for cause in taxonomy.causes:  # the same phrases in every language: translations of one another
        assert len({len(texts) for texts in cause.examples.values()}) == 1, cause.id
    repository_copy = Path(__file__).resolve().parents[1] / "data" / "taxonomy.yaml"
    assert repository_copy.read_bytes() == Path(taxonomy.source).read_bytes()


def test_missing_taxonomy_file_suggests_the_default(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["train", "--taxonomy", str(tmp_path / "causes.yaml"),
                                       "--out", str(tmp_path / "m")])
    assert result.exit_code == 1
    assert "--taxonomy default" in result.output and "Traceback" not in result.output


def test_unlabelled_without_taxonomy_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["train", "--unlabelled", str(tmp_path / "x.csv"), "--out", str(tmp_path / "m")])
    assert result.exit_code == 2 and "--taxonomy default" in result.output


def test_zero_shot_inputs_keep_labels_that_are_causes_and_refuse_others() -> None:
    taxonomy = load_taxonomy("default")
    frame = pd.DataFrame({"text": ["charged twice", "", "rude agent", "line down"],
                          "cause": ["billing_error", "staff_attitude", None, " "]})
    texts, labels = zero_shot_inputs(frame, ("text",), taxonomy, "cause")
    assert texts == ["charged twice", "rude agent", "line down"]  # the empty text is not a complaint
    assert labels == ["billing_error", None, None]
    with pytest.raises(InputError, match="not causes of the taxonomy"):
        zero_shot_inputs(frame.assign(cause=["billing", None, None, None]), ("text",), taxonomy, "cause")


@pytest.mark.slow
def test_train_taxonomy_default_adapts_to_the_rows_of_data(tmp_path: Path, synthetic_frame: pd.DataFrame) -> None:
    data = tmp_path / "complaints.csv"
    synthetic_frame.drop(columns=["cause"]).to_csv(data, index=False)  # SYNTHETIC complaints, no labels
    out = tmp_path / "adapted"
    result = CliRunner().invoke(main, ["train", "--taxonomy", "default", "--data", str(data), "--out", str(out)])
    assert result.exit_code == 0, result.output
    bundle = Bundle.load(out)
    assert bundle.metadata["adapted"]["unlabelled_complaints"] == len(synthetic_frame)
    assert bundle.metadata["heads"]["root_cause"]["chosen"]["calibration"]["method"].startswith("temperature")
    assert 0 < bundle.review_threshold <= 1 and "estimated without labels" in bundle.metadata["review"]["rule"]
    scored = score_frame(bundle, pd.DataFrame({"text": ["You charged my card twice this month.",
                                                        "The agent was rude and hung up on me."]}))
    assert scored["root_cause"].tolist() == ["billing_error", "staff_attitude"]
