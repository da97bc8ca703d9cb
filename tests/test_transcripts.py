import json

import pandas as pd
import pytest

from complaintkit import RootCauseClassifier
from complaintkit.io import join_text_columns
from complaintkit.text import TextNormaliser, parse_transcript, transcript_text

PLAIN = ("Agent: Thanks for calling, how can I help?\nCustomer: I was charged twice.\n"
         "Agent: Let me check.\nCustomer: Please refund me")
TURNS = [{"speaker": "agent", "text": "How can I help?"}, {"speaker": "Customer", "text": "My line is dead."}]


def test_plain_text_transcript_turns() -> None:
    assert parse_transcript(PLAIN) == [
        ("agent", "Thanks for calling, how can I help?"), ("customer", "I was charged twice."),
        ("agent", "Let me check."), ("customer", "Please refund me")]


def test_customer_only_text() -> None:
    assert transcript_text(PLAIN, ["customer"]) == "I was charged twice. Please refund me"
    assert transcript_text(json.dumps(TURNS), ["customer"]) == "My line is dead."


@pytest.mark.parametrize("text", ["Note: this is not a transcript", "plain complaint", "[not json",
                                  '[{"no_text": 1}]', "Time: 10:30 and again later"])
def test_non_transcripts_are_left_alone(text: str) -> None:
    assert transcript_text(text, ["customer"]) == text


def test_jsonl_turn_lists_flow_through_the_normaliser(tmp_path) -> None:
    path = tmp_path / "calls.jsonl"
    pd.DataFrame({"id": [1], "turns": [TURNS]}).to_json(path, orient="records", lines=True)
    frame = pd.read_json(path, lines=True)
    texts = join_text_columns(frame, ["turns"])
    assert list(TextNormaliser(speakers=("customer",)).fit_transform(texts)) == ["My line is dead."]


def test_customer_only_model_ignores_agent_script(synthetic_frame: pd.DataFrame) -> None:
    script = "Agent: Thank you for calling, your satisfaction matters, is there anything else?\nCustomer: "
    texts = [script + t for t in synthetic_frame["text"]]
    clf = RootCauseClassifier(speakers=("customer",)).fit(texts, synthetic_frame["cause"])
    assert clf.predict([script + "the agent was rude and hung up on me"])[0] == "staff_attitude"
    assert clf.get_params()["speakers"] == ("customer",)
