"""Zero-shot root causes from a taxonomy: the prototype classifier and a zero-shot bundle end to end."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from complaintkit import Bundle
from complaintkit.cli import main
from complaintkit.heads.zero_shot import PrototypeClassifier
from complaintkit.scoring import score_frame

TAXONOMY = Path(__file__).resolve().parents[1] / "data" / "taxonomy.yaml"


def test_prototype_classifier_centroid_and_max() -> None:
    X = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])  # class a: two opposite prototypes
    y = ["a", "b", "a"]
    query = np.array([[0.96, 0.28]])
    centroid = PrototypeClassifier(aggregate="centroid").fit(X, y)
    nearest = PrototypeClassifier(aggregate="max").fit(X, y)
    assert centroid.predict(query).tolist() == ["b"]  # a's centroid is the zero vector
    assert nearest.predict(query).tolist() == ["a"]  # but its first prototype is the closest
    proba = nearest.predict_proba(query)
    assert proba.sum() == pytest.approx(1.0) and proba[0, 0] > 0.99  # temperature 0.02 is peaked


def test_prototype_classifier_refuses_bad_settings() -> None:
    with pytest.raises(ValueError, match="temperature"):
        PrototypeClassifier(temperature=0).fit(np.eye(2), ["a", "b"])
    with pytest.raises(ValueError, match="aggregate"):
        PrototypeClassifier(aggregate="mean").fit(np.eye(2), ["a", "b"])


@pytest.fixture(scope="module")
def zero_shot_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("zs") / "zero-shot"
    result = CliRunner().invoke(main, ["train", "--taxonomy", str(TAXONOMY), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_zero_shot_bundle_scores_like_any_other(zero_shot_bundle: Path) -> None:
    bundle = Bundle.load(zero_shot_bundle)
    assert "calibrated on nothing" in (zero_shot_bundle / "README.md").read_text()
    frame = pd.DataFrame({"text": ["You charged my card twice this month and I want my money back.",
                                   "The agent was rude to me and hung up.",
                                   "I waited on hold for two hours and nobody picked up."]})
    scored = score_frame(bundle, frame, explain=True)
    assert scored["root_cause"].tolist() == ["billing_error", "staff_attitude", "hard_to_reach"]
    assert np.allclose(scored[[c for c in scored if c.endswith("_proba")]].sum(axis=1) <= 1.0 + 1e-6, True)
    assert not scored["needs_review"].any()  # no threshold: nothing to calibrate it on
    # the nearest examples of a zero-shot model are the taxonomy's own phrases
    assert scored.loc[0, "similar_1_label"] == "billing_error"
    assert scored["top_terms"].eq("").all()


def test_train_needs_data_or_taxonomy(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["train", "--out", str(tmp_path / "m")])
    assert result.exit_code == 2 and "--taxonomy" in result.output
