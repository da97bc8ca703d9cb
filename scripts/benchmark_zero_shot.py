"""Zero-shot root causes on real labelled complaints: airline tweets mapped to data/taxonomy.yaml.

The airline `negativereason` labels are mapped to taxonomy causes with
data/mappings/airline_to_taxonomy.yaml (unclear reasons dropped). Every negative tweet with a
mapped reason is scored; no tweet is used for fitting. Printed next to two baselines from the
same run: the majority class, and TF-IDF cosine similarity to the same descriptions and examples
(a lexical zero-shot model).

Usage: python scripts/benchmark_zero_shot.py [--models minilm multilingual] [--data PATH]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score

from complaintkit.evaluation import root_cause_metrics
from complaintkit.heads import ZeroShotClassifier
from complaintkit.taxonomy import load_taxonomy

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "airline" / "tweets.csv"


def mapped_tweets(path: Path) -> pd.DataFrame:
    mapping = yaml.safe_load((ROOT / "data" / "mappings" / "airline_to_taxonomy.yaml").read_text())["mapping"]
    tweets = pd.read_csv(path)
    tweets = tweets[tweets["sentiment"] == "negative"]
    tweets = tweets.assign(cause=tweets["negativereason"].map(mapping))
    return tweets[tweets["cause"].notna()].reset_index(drop=True)


def row(name: str, y_true: np.ndarray, proba: np.ndarray, classes: list[str]) -> dict[str, object]:
    metrics = root_cause_metrics(y_true, proba, classes)
    present = sorted(set(y_true))
    among = [classes.index(c) for c in present]  # argmax restricted to the causes that occur
    restricted = np.asarray(present, dtype=object)[proba[:, among].argmax(axis=1)]
    per_class = {c: round(metrics["per_class"][c]["f1"], 3) for c in present}
    return {"model": name, "accuracy": round(metrics["accuracy"], 3), "macro_f1": round(metrics["macro_f1"], 3),
            "macro_f1_mapped_causes_only": round(f1_score(y_true, restricted, average="macro"), 3), **per_class}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["minilm", "multilingual"])
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    taxonomy = load_taxonomy(ROOT / "data" / "taxonomy.yaml")
    prototypes, labels = taxonomy.prototype_table()
    tweets = mapped_tweets(args.data)
    y_true = tweets["cause"].to_numpy(dtype=object)
    texts = tweets["text"].astype(str).tolist()
    print(f"{len(tweets)} negative tweets with a mapped reason; causes: {tweets['cause'].value_counts().to_dict()}")
    classes = sorted(taxonomy.ids)
    rows = []
    majority = pd.Series(y_true).mode().iloc[0]
    rows.append(row("baseline: majority class", y_true,
                    np.eye(len(classes))[np.full(len(y_true), classes.index(majority))], classes))
    tfidf = TfidfVectorizer(sublinear_tf=True).fit(prototypes + texts)
    centroids = np.vstack([np.asarray(tfidf.transform([p for p, lab in zip(prototypes, labels, strict=True)
                                                       if lab == c]).mean(axis=0)) for c in classes])
    lexical = tfidf.transform(texts) @ centroids.T
    rows.append(row("baseline: TF-IDF similarity to the taxonomy", y_true, np.asarray(lexical) + 1e-9, classes))
    for model in args.models:
        for aggregate in ("centroid", "max"):
            head = ZeroShotClassifier(embedding_model=model, aggregate=aggregate).fit(prototypes, labels)
            rows.append(row(f"zero-shot {model} ({aggregate})", y_true, head.predict_proba(texts), classes))
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
