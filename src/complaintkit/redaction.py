"""Masking personal data (e-mail, phone, card, IBAN, SSN, date of birth, street address, names after a
title or an introduction, tokens in URLs) in complaint text."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from .exceptions import InputError

_MONTH = ("Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?"
          "|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?")
_STREET = ("Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Circle"
           "|Cir|Parkway|Pkwy|Highway|Hwy|Square|Sq")
# Applied in this order: URLs first, so their user names and tokens are not half-matched
# as e-mail addresses or phone numbers.
PATTERNS: dict[str, re.Pattern[str]] = {
    "url": re.compile(r"\b(?:https?|ftp)://[^\s<>\"']+|\bwww\.[^\s<>\"']+", re.IGNORECASE),
    "email": re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+"),
    "iban": re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?\b"),
    "card": re.compile(r"(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)"),
    "ssn": re.compile(r"(?<!\d)\d{3}-\d{2}-\d{4}(?!\d)"),
    "dob": re.compile(r"(?i:\b(?:date of birth|birth ?date|d\.?o\.?b\.?|born(?: on)?)\s*(?:is|was|of|:)?\s*)"
                     r"(?P<value>\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}"
                     r"|(?:" + _MONTH + r")\.? \d{1,2},? \d{4}|\d{1,2} (?:" + _MONTH + r")\.?,? \d{4})"),
    "address": re.compile(r"\b\d{1,6}(?: [NSEW]\.?)?(?: [A-Z][a-z]+| \d{1,3}(?:st|nd|rd|th)){1,3} (?:" + _STREET +
                         r")\b\.?(?:,? (?:Apt|Apartment|Suite|Ste|Unit|#) ?[\w-]+)?"),
    "phone": re.compile(r"(?<![\w/:.$-])(?:\+?\d{1,3}[ .-]?)?\(?\d{2,4}\)?(?:[ .-]?\d{2,4}){2,4}(?![\d:])"),
    "name": re.compile(r"\b(?:(?:Mr|Mrs|Ms|Miss|Mx|Dr)\.? |(?i:my name is|name is|this is|named|signed,?|"
                      r"sincerely,?|regards,?) )(?P<value>[A-Z][a-z]+(?:[ -](?:[A-Z]\. ?)?[A-Z][a-z']+){0,2})"),
}
KINDS = tuple(PATTERNS)
TOKEN = "[token]"
_DATE = re.compile(r"\b\d{4}-\d{1,2}-\d{1,2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b")  # never a phone number
_AMOUNT = re.compile(r"\d+\.\d{2}")  # 63000.00 is money
_URL_PARTS = re.compile(r"^(?P<scheme>[a-z]+://)?(?:[^/?#@]*@)?(?P<host>[^/?#]*)(?P<path>[^?#]*)(?P<rest>.*)$",
                        re.IGNORECASE | re.DOTALL)
# A path segment that may be a secret: 8+ characters mixing digits with anything, or 20+ of anything.
_TOKEN_SEGMENT = re.compile(r"^(?=[^/]*\d)[\w.~%=+-]{8,}$|^[\w.~%=+-]{20,}$")


def check_kinds(kinds: Iterable[str]) -> tuple[str, ...]:
    """Return ``kinds`` as a tuple after checking each is one of :data:`KINDS`.

    Raises
    ------
    InputError
        Naming the unknown kinds and the known ones.
    """
    kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)
    unknown = [k for k in kinds if k not in PATTERNS]
    if unknown:
        raise InputError(f"unknown redaction kinds {unknown}; expected some of {list(KINDS)}.")
    return kinds


def luhn_valid(digits: str) -> bool:
    """Whether a string of digits passes the Luhn checksum used by payment cards."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _mask_url(url: str) -> str:
    """Keep a URL's scheme, host and plain path; mask user info, query, fragment and token-like segments."""
    parts = _URL_PARTS.match(url)
    path = "/".join(TOKEN if _TOKEN_SEGMENT.match(seg) else seg for seg in parts["path"].split("/"))
    rest = ("?" if parts["rest"].startswith("?") else "#") + TOKEN if parts["rest"] else ""
    return f"{parts['scheme'] or ''}{parts['host']}{path}{rest}"


def _replace(kind: str) -> Callable[[re.Match[str]], str]:
    def repl(match: re.Match[str]) -> str:
        text = match.group(0)
        if "value" in match.re.groupindex:  # keep the context words ("born on", "Mr."), mask the value
            return text[:match.start("value") - match.start()] + f"[{kind}]"
        if kind == "url":
            return _mask_url(text)
        if kind == "card" and not luhn_valid(re.sub(r"\D", "", text)):
            return text
        if kind == "phone" and (len(re.sub(r"\D", "", text)) < 7 or _DATE.search(text) or _AMOUNT.fullmatch(text)):
            return text
        return f"[{kind}]"

    return repl


def redact(text: str, kinds: Iterable[str] = KINDS) -> str:
    """Replace personal data of the given ``kinds`` with ``[kind]`` tokens.

    Card numbers are masked only when they pass the Luhn check. URLs keep their host
    and plain path; user names, query strings, fragments and token-like path segments
    become ``[token]``.

    Examples
    --------
    >>> redact("mail me at jo@example.com or call +1 415 555 0100")
    'mail me at [email] or call [phone]'
    >>> redact("reset via https://bank.example/reset/a8Fk29dL0q?session=42")
    'reset via https://bank.example/reset/[token]?[token]'
    """
    wanted = set(check_kinds(kinds))
    for kind in KINDS:
        if kind in wanted:
            text = PATTERNS[kind].sub(_replace(kind), text)
    return text
