"""Report cells that are safe to open: no raw HTML, no chart math.

A Markdown viewer renders raw HTML; matplotlib reads ``$...$`` as math. Text from the data
(causes, segments, examples) passes through these before it is written. Spreadsheet formulas
in CSV cells are neutralised by every CSV writer (:mod:`complaintkit.io.spreadsheet`).
"""

from __future__ import annotations

import html
from typing import Any


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
