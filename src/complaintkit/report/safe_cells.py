"""Report cells that are safe to open: no spreadsheet formulas, no raw HTML, no chart math.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return as a formula; a Markdown viewer renders raw HTML; matplotlib reads ``$...$`` as math.
Text from the data (causes, segments, examples) passes through these before it is written.
"""

from __future__ import annotations

import html
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(value: Any) -> Any:
    """Prefix a text that a spreadsheet would run as a formula with ``'``; other values unchanged.

    Examples
    --------
    >>> neutralise_formula("=HYPERLINK(1)"), neutralise_formula("billing"), neutralise_formula(-1.5)
    ("'=HYPERLINK(1)", 'billing', -1.5)
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def markdown_text(value: Any) -> str:
    """``value`` as Markdown text: HTML escaped, table pipes and line breaks neutralised.

    Examples
    --------
    >>> markdown_text("<img src=x onerror=alert(1)> | x")
    '&lt;img src=x onerror=alert(1)&gt; \\\\| x'
    """
    text = html.escape(str(value), quote=False)
    return text.replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def chart_text(value: Any) -> str:
    """``value`` as a matplotlib label shown literally (``$`` does not start math).

    Examples
    --------
    >>> chart_text("fees $5_000 $")
    'fees \\\\$5_000 \\\\$'
    """
    return str(value).replace("$", r"\$")
