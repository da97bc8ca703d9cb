"""Language detection at scoring and per-language evaluation."""

import pandas as pd

from complaintkit.evaluation import evaluate
from complaintkit.language import detect_languages
from complaintkit.scoring import score_frame


def test_detects_the_languages_of_the_taxonomy_examples() -> None:
    texts = ["My internet has been down for three days.", "Internet non funziona da tre giorni.",
             "Интернет не работает уже три дня.", "Nitko se ne javlja na telefon niti odgovara na e-mailove.", "!!"]
    assert detect_languages(texts) == ["en", "it", "ru", "hr", "und"]


def test_score_adds_language_and_evaluate_splits_by_it(trained_bundle) -> None:
    frame = pd.DataFrame({"text": ["I was charged twice for one month", "Mi avete addebitato due volte",
                                   "The agent was rude to me"],
                          "cause": ["billing_error", "billing_error", "staff_attitude"],
                          "tenure": 5, "plan": "basic"})
    scored = score_frame(trained_bundle, frame, language=True)
    assert scored["language"].tolist() == ["en", "it", "en"]
    metrics = evaluate(trained_bundle, scored, label_col="cause")
    by_language = metrics["root_cause_by_language"]
    assert {k: v["rows"] for k, v in by_language.items()} == {"en": 2, "it": 1}
