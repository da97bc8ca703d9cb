"""Per-language figures of the multilingual encoder next to the default all-MiniLM-L6-v2, same run.

Data: the example phrases of the packaged default taxonomy (written by the complaintkit authors:
not real complaints; 10 causes x 4 phrases in English, Italian, Russian, Croatian, Portuguese,
Spanish, French and German, translations of one another). Three tasks:
1. cross-lingual transfer: a logistic regression trained on the English phrases and cause
   descriptions labels the phrases of every other language (accuracy per language);
2. zero-shot, language left out: the zero-shot prototypes (cause descriptions + the phrases of
   every OTHER language) label the left-out language's phrases, as `train --taxonomy` would
   for a language the taxonomy does not cover (accuracy per language); and the stricter
   version where each phrase's translations are left out of the prototypes too, so that a
   phrase is never matched to its own translation;
3. translation retrieval: for each non-English phrase, is its English translation the nearest
   English phrase? (hits per language).
Plus the language detector's accuracy on the same phrases.

Usage: python scripts/benchmark_multilingual.py [--models minilm multilingual]
"""

from __future__ import annotations

import argparse
import os

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from complaintkit.embedding import SentenceTransformerEmbedder
from complaintkit.heads.zero_shot import PrototypeClassifier
from complaintkit.language import detect_languages
from complaintkit.taxonomy import load_taxonomy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["minilm", "multilingual"])
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} (2 shared cores)")
    taxonomy = load_taxonomy("default")
    languages = ["en", *(lang for lang in taxonomy.languages if lang != "en")]
    phrases = {lang: [(t, c.id) for c in taxonomy.causes for t in c.examples[lang]] for lang in languages}
    per_cause = len(taxonomy.causes[0].examples["en"])  # every language has the same phrases, in order
    position = np.tile(np.arange(per_cause), len(taxonomy.causes))
    labels_of = {lang: np.asarray([c for _, c in pairs], dtype=object) for lang, pairs in phrases.items()}
    english_train = phrases["en"] + [(c.description, c.id) for c in taxonomy.causes]
    rows = []
    for model in args.models:
        embedder = SentenceTransformerEmbedder(model=model).fit()
        embed = {lang: embedder.transform([t for t, _ in pairs]) for lang, pairs in phrases.items()}
        descriptions = embedder.transform([c.description for c in taxonomy.causes])
        classifier = LogisticRegression(max_iter=2000, C=10.0).fit(
            embedder.transform([t for t, _ in english_train]), [c for _, c in english_train])
        for lang in languages:
            labels = np.asarray([c for _, c in phrases[lang]], dtype=object)
            others = [other for other in languages if other != lang]
            prototypes = PrototypeClassifier().fit(
                np.vstack([descriptions, *(embed[other] for other in others)]),
                [c.id for c in taxonomy.causes] + [c for other in others for _, c in phrases[other]])
            strict = np.empty(len(labels), dtype=object)
            for j in range(per_cause):  # leave out phrase j of every cause in every language
                kept = position != j
                fitted = PrototypeClassifier().fit(
                    np.vstack([descriptions, *(embed[other][kept] for other in others)]),
                    [c.id for c in taxonomy.causes] + [c for other in others for c in labels_of[other][kept]])
                strict[~kept] = fitted.predict(embed[lang][~kept])
            hits = (embed[lang] @ embed["en"].T).argmax(axis=1) == np.arange(len(labels))
            rows.append({"model": model, "language": lang,
                         "transfer accuracy (trained on en)": round(float(
                             (classifier.predict(embed[lang]) == labels).mean()), 3) if lang != "en" else None,
                         "zero-shot accuracy (language left out)": round(float(
                             (prototypes.predict(embed[lang]) == labels).mean()), 3),
                         "... and translations left out": round(float((strict == labels).mean()), 3),
                         "translation found": f"{int(hits.sum())}/{len(hits)}" if lang != "en" else None})
    print(pd.DataFrame(rows).to_string(index=False))
    detected = {lang: detect_languages([t for t, _ in pairs]) for lang, pairs in phrases.items()}
    print("\nlanguage detection on the same phrases (py3langid):")
    for lang, found in detected.items():
        wrong = pd.Series([f for f in found if f != lang]).value_counts().to_dict()
        print(f"  {lang}: {sum(f == lang for f in found)}/{len(found)} right; wrong answers {wrong}")


if __name__ == "__main__":
    main()
