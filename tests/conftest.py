"""Shared fixtures: small real inputs, the real model loaded once, one trained bundle."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from _helpers import SYNTHETIC

REPO = Path(__file__).resolve().parents[1]
CFPB = REPO / "data" / "cfpb" / "complaints.csv"

@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep the embedding cache of the test run out of the user's home."""
    os.environ["COMPLAINTKIT_CACHE_DIR"] = str(tmp_path_factory.mktemp("embedding-cache"))
    os.environ["HF_HUB_OFFLINE"] = "1"


@pytest.fixture(scope="session")
def synthetic_frame() -> pd.DataFrame:
    """24 short labelled complaints (3 causes) with ids, churn outcomes and a split column."""
    rows = []
    for label, texts in SYNTHETIC.items():
        for i, text in enumerate(texts):
            rows.append({"id": f"{label[:3]}-{i}", "text": text, "cause": label,
                         "churned": "yes" if (label != "billing_error") == (i % 3 != 0) else "no",
                         "tenure": 3 + 7 * i, "plan": ["basic", "plus"][i % 2],
                         "split": "test" if i % 4 == 3 else "train"})
    return pd.DataFrame(rows)


@pytest.fixture(scope="session")
def synthetic_csv(tmp_path_factory: pytest.TempPathFactory, synthetic_frame: pd.DataFrame) -> Path:
    path = tmp_path_factory.mktemp("data") / "complaints.csv"
    synthetic_frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def trained_bundle(tmp_path_factory: pytest.TempPathFactory, synthetic_frame: pd.DataFrame):
    """A saved bundle with both heads, trained on the synthetic frame (real model)."""
    from complaintkit import Bundle, TrainConfig, train

    config = TrainConfig(text_cols=("text",), label_col="cause", churn_col="churned",
                         numeric_cols=("tenure",), categorical_cols=("plan",), split_col="split",
                         root_cause_head="standard")
    bundle = train(synthetic_frame, config, name="synthetic")
    path = bundle.save(tmp_path_factory.mktemp("models") / "synthetic")
    return Bundle.load(path)


@pytest.fixture(scope="session")
def cfpb_frame() -> pd.DataFrame:
    """The real CFPB sample shipped in data/ (2,896 narratives, fixed split)."""
    return pd.read_csv(CFPB, dtype=str)


@pytest.fixture(scope="module")
def random_static_table() -> np.ndarray:
    """A random table in the test cache where the real one would be (distilling takes minutes).

    It stands in for the distilled table in the tests of the machinery around it; the recipe
    itself is tested on a slice of the vocabulary in a slow test.
    """
    from complaintkit.embedding import model_fingerprint, resolve_model_path
    from complaintkit.embedding.static import STATIC_DIMS, static_table_path

    path = static_table_path(model_fingerprint(resolve_model_path("minilm")), STATIC_DIMS)
    table = np.random.default_rng(0).standard_normal((30522, STATIC_DIMS)).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, table)
    return table


@pytest.fixture(scope="module")
def cascade_bundle(tmp_path_factory: pytest.TempPathFactory, synthetic_frame: pd.DataFrame,
                   random_static_table: np.ndarray):
    """A saved bundle whose root-cause head is a scoring cascade that hands about half the rows on.

    Its threshold is set to the median confidence of the fast head on the synthetic texts, so that
    each head answers some of them whatever threshold training chose on 24 rows.
    """
    from complaintkit import Bundle, TrainConfig, train

    config = TrainConfig(text_cols=("text",), label_col="cause", fast_tier=True,  # kept whatever its threshold
                         root_cause_head="standard")  # 24 rows would pick few-label training
    bundle = train(synthetic_frame, config, name="cascade")
    confidence = bundle.root_cause.fast_.predict_proba(synthetic_frame["text"].tolist()).max(axis=1)
    bundle.root_cause.threshold_ = float(np.median(confidence))
    return Bundle.load(bundle.save(tmp_path_factory.mktemp("models") / "cascade"))
