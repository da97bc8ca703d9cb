"""What one request may hold, and the optional API key."""

from __future__ import annotations

from dataclasses import dataclass

from ..exceptions import InputError

API_KEY_HEADER = "X-API-Key"
API_KEY_ENV = "COMPLAINTKIT_API_KEY"


@dataclass(frozen=True)
class ServeLimits:
    """Limits of one scoring request; a request over any of them is refused whole.

    Parameters
    ----------
    max_texts : int, default=1000
        Complaints per request (more → 422).
    max_chars : int, default=50_000
        Characters per complaint text, after joining the text columns (more → 422);
        the same default as ``complaintkit score --max-chars``.
    max_body_bytes : int, default=10_000_000
        Size of the request body (more → 413, before the body is parsed).
    """

    max_texts: int = 1000
    max_chars: int = 50_000
    max_body_bytes: int = 10_000_000

    def __post_init__(self) -> None:
        for name in ("max_texts", "max_chars", "max_body_bytes"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                option = "--" + name.replace("_", "-")
                raise InputError(f"{option} must be a positive integer, found {value!r}.")
