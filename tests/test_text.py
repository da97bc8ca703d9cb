import numpy as np
import pytest

from complaintkit.text import TextNormaliser, as_text_list, normalise_text, split_into_chunks


@pytest.mark.parametrize(("raw", "expected"), [
    ("On XX/XX/2019 XXXX XXXX charged me {$25.00}", "On [date] [redacted] charged me $25.00"),
    ("  many   spaces\n\tand lines ", "many spaces and lines"),
    ("XXXX, XXXX and XXXX called", "[redacted] and [redacted] called"),
    ("TAXXES are not redactions", "TAXXES are not redactions"),
])
def test_normalise_text(raw: str, expected: str) -> None:
    assert normalise_text(raw) == expected


def test_split_into_chunks_keeps_every_word_in_order() -> None:
    words = [f"w{i}" for i in range(1000)]
    chunks = split_into_chunks(" ".join(words), 180)
    assert all(len(c.split()) <= 180 + 45 for c in chunks)
    assert " ".join(chunks).split() == words


def test_split_into_chunks_merges_a_short_tail() -> None:
    chunks = split_into_chunks(" ".join(["w"] * 185), 180)
    assert len(chunks) == 1 and len(chunks[0].split()) == 185


def test_as_text_list_accepts_missing_values_and_frames() -> None:
    import pandas as pd

    assert as_text_list(pd.DataFrame({"t": ["a", None, np.nan]})) == ["a", "", ""]
    with pytest.raises(ValueError, match="one text column"):
        as_text_list(pd.DataFrame({"a": ["x"], "b": ["y"]}))


def test_text_normaliser_is_a_stateless_transformer() -> None:
    out = TextNormaliser().fit_transform(["XXXX  called"])
    assert list(out) == ["[redacted] called"]
