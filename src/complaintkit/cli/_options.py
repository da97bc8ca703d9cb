"""Options shared by several commands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..embedding.precision import PRECISION_CHOICES

if TYPE_CHECKING:
    from ..bundle import Bundle

_TRUST = "complaintkit.trust"


def _remember_trust(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    ctx.meta[_TRUST] = value
    return value


_model_path_option = click.option(
    "--model", "model_path", required=True, type=click.Path(path_type=Path),
    help="Bundle folder written by `complaintkit train` (e.g. models/cfpb).")
_trust_option = click.option(
    "--trust", is_flag=True, expose_value=False, callback=_remember_trust,
    help="Load the bundle even if it needs code outside complaintkit's trusted types, or is an "
         "old pickled (format 1) bundle. Only for bundles you trust.")


def model_option(command: Callable) -> Callable:
    """``--model`` and ``--trust``; :func:`load_bundle` reads the latter."""
    return _model_path_option(_trust_option(command))


encoding_option = click.option(
    "--encoding", default="utf-8-sig", show_default=True,
    help="Text encoding of CSV/TSV/JSONL input (e.g. latin-1, cp1252); a UTF-8 BOM is always accepted. "
         "When scoring, undecodable rows are rejected.")


def text_col_option(default: str = "the bundle's", multiple: bool = True) -> Callable:
    """``--text-col``: the column(s) holding the complaint text; ``default`` says what is used without it.

    ``multiple`` lets it repeat (``text_cols``, joined); otherwise it names one column (``text_col``).
    """
    if not multiple:
        return click.option("--text-col", help=f"Column with the complaint text. Default: {default}.")
    return click.option("--text-col", "text_cols", multiple=True, default=("text",) if default == "text" else (),
                        show_default=default == "text",
                        help="Column holding the complaint text (repeat to join several)."
                             + ("" if default == "text" else f" Default: {default}."))


precision_option = click.option(
    "--precision", type=click.Choice(PRECISION_CHOICES), default="auto", show_default=True,
    help="Encoder precision. auto: bf16 on CPUs with native bf16 matmul (amx_bf16 or avx512_bf16 in "
         "/proc/cpuinfo), else fp32. bf16 is several times faster there and agrees with fp32 on >= 99% of causes.")
overwrite_option = click.option("--overwrite", is_flag=True, help="Replace the output if it exists.")


def load_bundle(path: Path) -> Bundle:
    """Load a bundle for a command, trusting it if the command got ``--trust``."""
    from ..bundle import Bundle

    ctx = click.get_current_context(silent=True)
    return Bundle.load(path, trust=bool(ctx and ctx.meta.get(_TRUST)))
