"""Shared fixtures: small real inputs, the real model loaded once, one trained bundle."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
CFPB = REPO / "data" / "cfpb" / "complaints.csv"

# Hand-written, SYNTHETIC complaints for fast unit tests (not for quality claims).
SYNTHETIC = {
    "billing_error": [
        "I was charged twice for the same monthly bill",
        "There is a fee on my invoice that I never agreed to",
        "My refund was never paid back to my card",
        "The bill shows a charge for a service I cancelled",
        "You overcharged me again this month, fix my bill",
        "Wrong amount taken from my account for the subscription",
        "I got billed for roaming although I never left the country",
        "Unexpected charges keep appearing on my statement",
    ],
    "service_failure": [
        "My internet has been down for three days",
        "No dial tone on the phone line since Monday",
        "The router keeps dropping the connection every hour",
        "TV signal lost again during the evening",
        "The broadband outage is still not fixed",
        "Mobile data does not work at all in my area",
        "The line is dead and I cannot make calls",
        "Streaming stops constantly, the service is broken",
    ],
    "staff_attitude": [
        "The agent was rude and hung up on me",
        "Your staff member laughed at my problem",
        "Nobody listened, the advisor was dismissive and arrogant",
        "The technician was impolite and shouted at me",
        "The shop assistant ignored me and was very unfriendly",
        "I was treated with contempt by the person on the phone",
        "The representative was sarcastic and unhelpful",
        "Your employee insulted me when I asked for help",
    ],
}


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
                         numeric_cols=("tenure",), categorical_cols=("plan",), split_col="split")
    bundle = train(synthetic_frame, config, name="synthetic")
    path = bundle.save(tmp_path_factory.mktemp("models") / "synthetic")
    return Bundle.load(path)


@pytest.fixture(scope="session")
def cfpb_frame() -> pd.DataFrame:
    """The real CFPB sample shipped in data/ (2,896 narratives, fixed split)."""
    return pd.read_csv(CFPB, dtype=str)
