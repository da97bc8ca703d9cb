"""Masking personal data (e-mail, phone, card, IBAN, SSN, tokens in URLs) in complaint text."""

from __future__ import annotations

import re
from collections.abc import Iterable

PATTERNS: dict[str, re.Pattern[str]] = {
    "email": re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    "url": re.compile(r"https?://\S+"),
    "iban": re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?\b"),
    "card": re.compile(r"\b\d(?:[ -]?\d){12,18}\b"),
    "ssn": re.compile(r"\b\d{3}-\d{2}-\d{4}\b"),
    "phone": re.compile(r"(?<![\w/])\+?\d{1,3}?[ .-]?\(?\d{2,4}\)?(?:[ .-]?\d{2,4}){2,4}\b"),
}
KINDS = tuple(PATTERNS)


def luhn_valid(digits: str) -> bool:
    """Whether a string of digits passes the Luhn checksum used by payment cards."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _replace(kind: str):
    def repl(match: re.Match[str]) -> str:
        text = match.group(0)
        if kind == "card" and not luhn_valid(re.sub(r"\D", "", text)):
            return text
        if kind == "phone" and len(re.sub(r"\D", "", text)) < 7:
            return text
        return f"[{kind}]"

    return repl


def redact(text: str, kinds: Iterable[str] = KINDS) -> str:
    """Replace personal data of the given ``kinds`` with ``[kind]`` tokens.

    Card numbers are masked only when they pass the Luhn check.

    Examples
    --------
    >>> redact("mail me at jo@example.com or call +1 415 555 0100")
    'mail me at [email] or call [phone]'
    """
    for kind in kinds:
        if kind not in PATTERNS:
            raise ValueError(f"unknown redaction kind {kind!r}; expected some of {list(KINDS)}.")
        text = PATTERNS[kind].sub(_replace(kind), text)
    return text
