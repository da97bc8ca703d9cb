"""Language detection at scoring and per-language evaluation."""

import pandas as pd
import pytest

from complaintkit.evaluation import evaluate
from complaintkit.language import check_encoder_language, detect_languages, language_shares
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


PORTUGUESE = ["Fui cobrado duas vezes pela mesma compra e ninguém resolve.",
              "O produto chegou quebrado e a loja não responde.",
              "Cancelei o cartão e continuam cobrando a anuidade.", "I was charged twice for one order."]


def test_language_shares_count_a_sample_largest_first() -> None:
    assert language_shares(PORTUGUESE) == {"pt": 0.75, "en": 0.25}
    assert sum(language_shares(PORTUGUESE * 300, sample=100).values()) == pytest.approx(1.0)


def test_an_english_only_encoder_on_mostly_portuguese_texts_warns(caplog: pytest.LogCaptureFixture) -> None:
    assert check_encoder_language(PORTUGUESE, "all-MiniLM-L6-v2")["pt"] == 0.75
    assert "75%" in caplog.text and "'pt'" in caplog.text and "--embedding-model multilingual" in caplog.text
    caplog.clear()
    check_encoder_language(PORTUGUESE, "multilingual")
    check_encoder_language(PORTUGUESE[-1:] * 3, "all-MiniLM-L6-v2")
    assert caplog.text == ""
