"""PII masking: examples per kind, properties (hypothesis), and scans of reports and model cards."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from complaintkit import Bundle
from complaintkit.cli import main
from complaintkit.model_card import render_model_card
from complaintkit.redaction import KINDS, luhn_valid, redact

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
PHONE = re.compile(r"(?<![\w-])\(?\d{3}\)?[ .-]?\d{3}[ .-]\d{4}(?!\d)|\+\d{1,3}(?:[ .-]?\d{2,4}){3,}")
LONG_DIGITS = re.compile(r"(?<![\d.])\d(?:[ -]?\d){8,}(?![\d.])")


def assert_no_pii(text: str) -> None:
    """No e-mail address, phone number or card-like digit run survives in ``text``."""
    for pattern in (EMAIL, PHONE, LONG_DIGITS):
        assert not pattern.search(text), f"{pattern.pattern} found {pattern.search(text).group(0)!r}"


@pytest.mark.parametrize(("text", "expected"), [
    ("write to jo.doe+x@mail.example.co.uk now", "write to [email] now"),
    ("card 4111 1111 1111 1111 expired", "card [card] expired"),
    ("card 4111-1111-1111-1111.", "card [card]."),
    ("IBAN DE89 3704 0044 0532 0130 00 please", "IBAN [iban] please"),
    ("ssn 123-45-6789", "ssn [ssn]"),
    ("call (415) 555-0100 or +44 20 7946 0958", "call [phone] or [phone]"),
    ("account 12345 and 3 days", "account 12345 and 3 days"),
    ("see https://bank.example/help/fees", "see https://bank.example/help/fees"),
    ("reset: https://bank.example/reset?token=abc&user=jo", "reset: https://bank.example/reset?[token]"),
    ("link https://jo:secret@bank.example/a/9f8e7d6c5b4a3928", "link https://bank.example/a/[token]"),
    ("go to www.shop.example/orders/AB12CD34EF#frag", "go to www.shop.example/orders/[token]#[token]"),
    ("on 2023-11-05 12:30 and 11/05/2023 at 10:45", "on 2023-11-05 12:30 and 11/05/2023 at 10:45"),
    ("a charge of {$63000.00} and 2024-02-29T08:15", "a charge of {$63000.00} and 2024-02-29T08:15"),
    ("my date of birth is 03/14/1985", "my date of birth is [dob]"),
    ("DOB: 1985-03-14, born on March 3, 1980", "DOB: [dob], born on [dob]"),
    ("I live at 1234 Elm Street, Apt 5B now", "I live at [address] now"),
    ("sent to 77 W 42nd St yesterday", "sent to [address] yesterday"),
    ("Mr. Smith called; my name is Jane Doe.", "Mr. [name] called; my name is [name]."),
    ("Sincerely, Mary Ann Jones", "Sincerely, [name]"),
    ("this is a scam", "this is a scam"),
])
def test_redact_examples(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_a_number_failing_the_luhn_check_is_not_called_a_card() -> None:
    assert redact("order 4111111111111112", kinds=("card",)) == "order 4111111111111112"
    assert redact("order 4111111111111111", kinds=("card",)) == "order [card]"


def test_redact_only_the_kinds_asked_for() -> None:
    text = "jo@example.com, +1 415 555 0100"
    assert redact(text, kinds=("email",)) == "[email], +1 415 555 0100"
    assert redact(text, kinds="phone") == "jo@example.com, [phone]"
    assert redact(text, kinds=()) == text


def _luhn_complete(body: str) -> str:
    return next(body + d for d in string.digits if luhn_valid(body + d))


cards = st.integers(12, 18).flatmap(lambda n: st.text("0123456789", min_size=n, max_size=n)).map(_luhn_complete)
words = st.text(string.ascii_letters + " .,!?'", max_size=40)


@settings(max_examples=300, deadline=None)
@given(card=cards, left=words, right=words, sep=st.sampled_from(["", " ", "-"]))
def test_any_luhn_valid_card_in_text_is_masked(card: str, left: str, right: str, sep: str) -> None:
    shown = sep.join(card[i:i + 4] for i in range(0, len(card), 4))
    result = redact(f"{left} {shown} {right}")
    assert re.sub(r"\D", "", result) == ""
    assert "[card]" in result or "[phone]" in result or "[iban]" in result


@settings(max_examples=300, deadline=None)
@given(email=st.emails(), left=words, right=words)
def test_any_email_in_text_is_masked(email: str, left: str, right: str) -> None:
    result = redact(f"{left} {email} {right}")
    assert "@" not in result and "[email]" in result


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_redaction_is_idempotent(text: str) -> None:
    once = redact(text)
    assert redact(once) == once


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Nd"]), max_size=200))
def test_text_without_digits_at_signs_or_urls_is_unchanged(text: str) -> None:
    if "@" in text or "://" in text or "www." in text.lower():
        return
    assert redact(text) == text


# Complaints full of personal data, in all the shapes the report may meet.
PII_TEXTS = [
    "Email me at jane.doe@example.com, my card 4111 1111 1111 1111 was charged twice",
    "Call me on +1 415 555 0100 about the bill, account DE89 3704 0044 0532 0130 00",
    "My SSN 123-45-6789 was read out by the rude agent; reach me at (415) 555-0199",
    "Internet down again. Reset link https://isp.example/reset?token=Zx81kQ was useless, mail bob@isp.example",
    "The technician shouted; card 5500-0000-0000-0004 refunded? write to help+me@mail.example.org",
]


def test_report_holds_no_personal_data(tmp_path: Path) -> None:
    scored = pd.DataFrame({"text": PII_TEXTS * 4, "root_cause": ["billing", "outage"] * 10,
                           "root_cause_proba": 0.9, "needs_review": False, "churn_proba": 0.4})
    source = tmp_path / "scored.parquet"
    scored.to_parquet(source)
    for fmt in ("html", "md", "json"):
        out = tmp_path / f"report.{fmt}"
        result = CliRunner().invoke(main, ["report", "--scored", str(source), "--out", str(out), "--format", fmt])
        assert result.exit_code == 0, result.output
        text = re.sub(r"<svg.*?</svg>", "", out.read_text(), flags=re.DOTALL)  # chart glyph paths are digits
        assert_no_pii(text)
    assert "[email]" in (tmp_path / "report.html").read_text()


def test_model_card_holds_no_personal_data() -> None:
    metadata = {"name": "jo@example.com", "columns": {"text": ["text"], "categorical": ["+1 415 555 0100"]},
                "training_data": {"path": "/home/jo/cards-4111111111111111.csv", "sha256": "ab" * 32},
                "heads": {"root_cause": {"labels": ["refund to jane@example.com", "other"]}},
                "redaction": {"kinds": list(KINDS)}}
    card = render_model_card(metadata)
    assert_no_pii(card)
    assert "masked before embedding: url, email" in card


@pytest.mark.slow
def test_train_with_redact_masks_before_embedding_and_scoring_does_the_same(
        tmp_path: Path, synthetic_frame: pd.DataFrame) -> None:
    frame = synthetic_frame.assign(text=[f"{t}. {PII_TEXTS[i % len(PII_TEXTS)]}"
                                         for i, t in enumerate(synthetic_frame["text"])])
    data = tmp_path / "pii.csv"
    frame.to_csv(data, index=False)
    out = tmp_path / "models" / "redacted"
    result = CliRunner().invoke(main, ["train", "--data", str(data), "--label-col", "cause", "--churn-col",
                                       "churned", "--redact", "--root-cause-head", "standard", "--out", str(out)])
    assert result.exit_code == 0, result.output
    bundle = Bundle.load(out)
    assert bundle.metadata["redaction"]["kinds"] == list(KINDS)
    assert_no_pii((out / "README.md").read_text())
    normalisers = [bundle.root_cause.pipeline_.named_steps["normalise"],
                   bundle.churn.pipeline_.named_steps["columns"].named_transformers_["text"][0]]
    for normaliser in normalisers:
        assert list(normaliser.transform([PII_TEXTS[0]])) == [
            "Email me at [email], my card [card] was charged twice"]
    vocabulary = bundle.root_cause.pipeline_.named_steps["features"].transformer_list[1][1].vocabulary_
    leaked = [term for term in vocabulary if re.search(r"\d{3}|jane|doe|bob|zx81kq", term)]
    assert leaked == []
    stored = " ".join(bundle.root_cause.example_index_.texts)  # the texts --explain shows
    assert_no_pii(stored)
    assert "[email]" in stored
    scored = tmp_path / "scored.csv"
    result = CliRunner().invoke(main, ["score", "--model", str(out), "--input", str(data), "--output", str(scored),
                                       "--explain"])
    assert result.exit_code == 0, result.output
    shown = pd.read_csv(scored)[[f"similar_{i}_text" for i in (1, 2, 3)]]
    assert_no_pii(" ".join(shown.astype(str).to_numpy().ravel()))
