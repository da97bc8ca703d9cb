"""`suggest`: uncertain and diverse complaints to label next."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from complaintkit.active_learning import margins, select_for_labelling, suggest
from complaintkit.cli import main
from complaintkit.exceptions import InputError


def _clusters() -> tuple[np.ndarray, np.ndarray]:
    """40 uncertain rows in two tight clusters (30 + 10) and 60 confident rows elsewhere."""
    rng = np.random.default_rng(1)
    centres = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=float)
    which = np.r_[np.zeros(30), np.ones(10), np.full(60, 2)].astype(int)
    vectors = centres[which] + rng.normal(scale=0.01, size=(100, 3))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    proba = np.where(which[:, None] < 2, [0.5, 0.45, 0.05], [0.9, 0.05, 0.05])
    return proba, vectors


def test_picks_are_uncertain_unique_and_cover_both_clusters() -> None:
    proba, vectors = _clusters()
    picked = select_for_labelling(proba, vectors, 4, pool_factor=10)
    assert len(set(picked.tolist())) == 4
    assert (margins(proba[picked]) < 0.1).all()
    assert {0, 1} <= set(np.argmax(vectors[picked], axis=1).tolist())
    # lowest margin alone would take 4 rows of the big cluster
    assert set(np.argmax(vectors[np.argsort(margins(proba), kind="stable")[:4]], axis=1)) == {0}


def test_picks_avoid_what_is_already_labelled() -> None:
    proba, vectors = _clusters()
    picked = select_for_labelling(proba, vectors, 1, pool_factor=40, labelled=vectors[:1])
    assert np.argmax(vectors[picked[0]]) == 1


def test_refuses_zero() -> None:
    with pytest.raises(InputError, match="at least 1"):
        select_for_labelling(np.eye(2), np.eye(2), 0)


def test_suggest_command_writes_ranked_rows(trained_bundle, synthetic_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "to_label.csv"
    result = CliRunner().invoke(main, ["suggest", "--model", str(trained_bundle.path), "--data", str(synthetic_csv),
                                       "--n", "5", "--out", str(out)])
    assert result.exit_code == 0, result.output
    picked = pd.read_csv(out)
    assert picked["suggest_rank"].tolist() == [1, 2, 3, 4, 5]
    assert picked["id"].is_unique and {"text", "root_cause", "margin"} <= set(picked.columns)


def test_suggest_skips_empty_texts(trained_bundle) -> None:
    frame = pd.DataFrame({"text": ["", "my bill is wrong", None, "the agent was rude"], "tenure": 5, "plan": "basic"})
    picked = suggest(trained_bundle, frame, n=10)
    assert sorted(picked.index.tolist()) == [1, 3]
