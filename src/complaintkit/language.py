"""Language detection of complaint texts, offline (py3langid: a 97-language model inside the package)."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from .exceptions import ComplaintkitError
from .text import as_text_list

UNDETERMINED = "und"
MIN_LETTERS = 3


class LanguageDetectionUnavailable(ComplaintkitError):
    """py3langid is not installed."""


@functools.lru_cache(maxsize=1)
def _identifier():
    try:
        import py3langid
    except ImportError:
        raise LanguageDetectionUnavailable(
            "language detection needs py3langid; install it with `pip install 'complaintkit[multilingual]'`."
        ) from None
    return py3langid.classify


def detect_languages(texts: Iterable[str]) -> list[str]:
    """ISO 639-1 code of each text's language; ``"und"`` when it has fewer than 3 letters.

    Examples
    --------
    >>> detect_languages(["Il pacco non è mai arrivato.", "Посылка так и не пришла.", "??"])
    ['it', 'ru', 'und']
    """
    classify = _identifier()
    return [classify(text)[0] if sum(c.isalpha() for c in text) >= MIN_LETTERS else UNDETERMINED
            for text in as_text_list(texts)]
