"""Language detection of complaint texts, offline (py3langid: a 97-language model inside the package)."""

from __future__ import annotations

import functools
import random
from collections import Counter
from collections.abc import Iterable

from . import _logging
from .embedding import ENGLISH_ONLY_MODELS
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


def language_shares(texts: Iterable[str], sample: int = 500, seed: int = 0) -> dict[str, float]:
    """Share of each detected language in a random sample of ``texts`` (largest first)."""
    texts = as_text_list(texts)
    if len(texts) > sample:
        rng = random.Random(seed)
        texts = rng.sample(texts, sample)
    counts = Counter(detect_languages(texts))
    return {language: count / len(texts) for language, count in counts.most_common()}


def check_encoder_language(texts: Iterable[str], embedding_model: str) -> dict[str, float] | None:
    """Language shares of the training texts; warns when an English-only encoder gets mostly other languages.

    Returns ``None`` when py3langid is not installed (the check is then skipped).
    """
    try:
        shares = language_shares(texts)
    except LanguageDetectionUnavailable:
        _logging.logger.debug("py3langid is not installed: the training texts' languages are not checked")
        return None
    english = shares.get("en", 0.0)
    if str(embedding_model) in ENGLISH_ONLY_MODELS and english < 0.5:
        top = next(iter(shares), UNDETERMINED)
        _logging.logger.warning(
            "only %.0f%% of the training texts are English (most are %r, %.0f%%) but %s reads English only; "
            "train with --embedding-model multilingual for a multilingual encoder",
            100 * english, top, 100 * shares.get(top, 0.0), embedding_model)
    return shares
