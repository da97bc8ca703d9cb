"""Data shared by several test modules (this is not a test file: pytest collects nothing here)."""

from __future__ import annotations

from pathlib import Path

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


KINDS = {  # one damaged line each: (line, reject reason)
    "too_many_fields": ("{i},charged twice, again and again,5,plus", "malformed_row:too_many_fields"),
    "too_few_fields": ("{i},my bill is wrong", "malformed_row:too_few_fields"),
    "unclosed_quote": ('{i},"the agent hung up on me,5,plus', "malformed_row:bad_quotes"),
    "stray_quote": ('{i},"refund"please,5,plus', "malformed_row:bad_quotes"),
}


def write_damaged_csv(path: Path, texts: list[str], every: int = 20) -> dict[int, tuple[str, str]]:
    """Write ``texts`` as id,text,tenure,plan rows, damaging every ``every``-th one; return row → (raw, reason).

    Some good rows hold a quoted multi-line text, so quotes open and close all over the file.
    """
    lines, damaged = ["id,text,tenure,plan"], {}
    for i, text in enumerate(texts):
        if i % every == 3:
            template, reason = list(KINDS.values())[(i // every) % len(KINDS)]
            damaged[i] = (template.format(i=i), reason)
            lines.append(damaged[i][0])
        elif i % 7 == 0:
            lines.append(f'{i},"{text},\nsecond line of ""{i}""",5,plus')
        else:
            lines.append(f"{i},{text.replace(',', ' ')},5,plus")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return damaged
