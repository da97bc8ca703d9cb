"""Real labelled tasks for the benchmarks: the shipped CFPB sample and ../shared/data sets."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score

from complaintkit import embedding

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("COMPLAINTKIT_SHARED_DATA", REPO.parent / "shared" / "data"))


@dataclass
class Task:
    """A fixed train/test split of one labelled complaint task."""

    name: str
    train_texts: list[str]
    train_labels: list[str]
    test_texts: list[str]
    test_labels: list[str]
    train_parents: list[str] | None = None
    test_parents: list[str] | None = None
    headline: str = "macro_f1"


def load_average() -> str:
    """1-, 5- and 15-minute load averages, as ``/proc/loadavg`` shows them."""
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def cpu_flags() -> str:
    """The CPU model, its core count and its vector flags (AVX, AVX-512, AMX, bf16, FMA) from /proc/cpuinfo."""
    model = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            model = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), model)
    except OSError:
        pass
    wanted = [f for f in sorted(embedding.cpu_flags()) if f.startswith(("avx", "amx", "fma")) or "bf16" in f]
    return f"{model}; {os.cpu_count()} cores; flags: {' '.join(wanted) or 'none of avx/amx/bf16'}"


def label_scores(y_true: list[str], y_pred: np.ndarray) -> dict[str, float]:
    """Macro-F1 and accuracy of predicted labels."""
    return {"macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
            "accuracy": float(accuracy_score(y_true, y_pred))}


def _split(frame: pd.DataFrame, text: str, label: str, name: str, parent: str | None = None,
           headline: str = "macro_f1") -> Task:
    train, test = frame[frame["split"] == "train"], frame[frame["split"] == "test"]
    return Task(name, train[text].tolist(), train[label].tolist(), test[text].tolist(), test[label].tolist(),
                train[parent].tolist() if parent else None, test[parent].tolist() if parent else None, headline)


def load_task(name: str) -> Task:
    """Load one of ``cfpb_product``, ``cfpb_issue``, ``airline``, ``banking77``."""
    if name.startswith("cfpb"):
        frame = pd.read_csv(REPO / "data" / "cfpb" / "complaints.csv", dtype=str)
        if name == "cfpb_product":
            return _split(frame, "narrative", "product_group", name)
        counts = frame["issue"].value_counts()
        frame = frame[frame["issue"].isin(counts[counts >= 20].index)]
        return _split(frame, "narrative", "issue", name, parent="product_group")
    if name == "airline":
        frame = pd.read_csv(SHARED / "airline" / "tweets.csv", dtype=str)
        return _split(frame[frame["negativereason"].notna()], "text", "negativereason", name)
    if name == "banking77":
        train = pd.read_csv(SHARED / "banking77" / "train.csv")
        test = pd.read_csv(SHARED / "banking77" / "test.csv")
        return Task(name, train["text"].tolist(), train["category"].tolist(), test["text"].tolist(),
                    test["category"].tolist(), headline="accuracy")
    raise ValueError(f"unknown task {name!r}")
