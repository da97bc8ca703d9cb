"""Scored tables for the report tests (no embedding model needed).

``synthetic_scored`` is SYNTHETIC (planted patterns, for unit tests only); ``real_scored``
uses real complaint rows with predictions from a quick TF-IDF classifier, so the report is
exercised on real texts, dates and segments.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import SGDClassifier
from sklearn.pipeline import make_pipeline

from _helpers import SYNTHETIC

# Two SYNTHETIC unknown issues the model cannot know: they come with low confidence.
NEW_ISSUES = {
    "app_login": ["The mobile app crashes at login since the update",
                  "Cannot log in to the app, password reset link broken",
                  "App login fails with an error after the latest update",
                  "The app update broke login, password reset does not arrive"],
    "parcel_locker": ["The parcel locker code never arrived by text",
                      "Locker would not open, parcel code rejected",
                      "My parcel sits in a locker but the code is missing",
                      "Parcel locker code expired before I could collect"],
}


def synthetic_scored(rows: int = 600, seed: int = 0, staff_agent: str = "A7", billing_share: float = 0.4,
                     with_new: bool = True) -> pd.DataFrame:
    """A SYNTHETIC scored table with dates, agents, channels, values and churn.

    Agent ``staff_agent`` gets most staff_attitude complaints; the two NEW_ISSUES come
    with low confidence and ``needs_review``.
    """
    rng = np.random.default_rng(seed)
    known = list(SYNTHETIC)
    rest = (1 - billing_share) / (len(known) - 1)
    causes = rng.choice(known, size=rows, p=[billing_share] + [rest] * (len(known) - 1))
    texts = [SYNTHETIC[c][rng.integers(len(SYNTHETIC[c]))] + f" (ref {i}, call me on +44 20 7946 0{i % 1000:03d})"
             for i, c in enumerate(causes)]
    confidence = rng.uniform(0.7, 0.99, rows)
    if with_new:
        unknown = rng.random(rows) < 0.15
        issues = rng.choice(list(NEW_ISSUES), size=rows)
        for i in np.flatnonzero(unknown):
            texts[i] = NEW_ISSUES[issues[i]][rng.integers(4)] + f" order {i}"
            confidence[i] = rng.uniform(0.34, 0.5)
    agents = rng.choice([f"A{i}" for i in range(1, 9)], size=rows)
    agents[(causes == "staff_attitude") & (rng.random(rows) < 0.7)] = staff_agent
    churn = np.clip(rng.normal(0.3, 0.1, rows) + 0.3 * (causes == "service_failure"), 0, 1)
    return pd.DataFrame({
        "complaint_id": [f"c{seed}-{i}" for i in range(rows)], "text": texts,
        "date": pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 28, rows), unit="D"),
        "agent_id": agents, "channel": rng.choice(["phone", "chat", "email"], size=rows),
        "annual_value": rng.gamma(2.0, 300.0, rows).round(2),
        "root_cause": causes, "root_cause_proba": confidence, "needs_review": confidence < 0.55,
        "churn_proba": churn})


def real_scored(frame: pd.DataFrame, text_col: str, label_col: str, review_below: float = 0.5) -> pd.DataFrame:
    """``frame``'s test rows scored by a TF-IDF logistic model (SGD) fitted on its train rows."""
    frame = frame[frame[text_col].notna() & frame[label_col].notna()]
    train, test = frame[frame["split"] == "train"], frame[frame["split"] != "train"]
    model = make_pipeline(TfidfVectorizer(min_df=2, max_features=20_000, sublinear_tf=True, dtype=np.float32),
                          SGDClassifier(loss="log_loss", alpha=1e-4, random_state=0))
    model.fit(train[text_col], train[label_col])
    proba = model.predict_proba(test[text_col])
    return test.assign(root_cause=model.classes_[proba.argmax(axis=1)], root_cause_proba=proba.max(axis=1),
                       needs_review=proba.max(axis=1) < review_below).reset_index(drop=True)
