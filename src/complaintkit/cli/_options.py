"""Options shared by several commands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .. import _logging
from ..embedding.precision import PRECISION_CHOICES
from ..scoring.choices import CASCADE_CHOICES

if TYPE_CHECKING:
    from ..bundle import Bundle

_TRUST = "complaintkit.trust"
LOG_LEVEL_SET = "complaintkit.log_level_set"


def _remember_trust(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    ctx.meta[_TRUST] = value
    return value


_model_path_option = click.option(
    "--model", "model_path", required=True, type=click.Path(path_type=Path),
    help="Bundle folder written by `complaintkit train` (e.g. models/mine).")
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
    help="Encoder precision. auto: bf16 on CPUs with AMX bf16 tiles (amx_bf16 in /proc/cpuinfo), else int8 "
         "(an int8 ONNX Runtime copy of the encoder, built once into the cache folder; faster with AVX2 alone "
         "and faster than bf16 on CPUs whose bf16 is AVX-512 only, within half a point of fp32 macro-F1 on "
         "the measured tasks). "
         "fp32: the plain encoder (see the docs on scoring at scale).")

cascade_option = click.option(
    "--cascade", type=click.Choice(CASCADE_CHOICES), default="on", show_default=True,
    help="For a model trained with a scoring cascade: on = a fast head answers the complaints it is sure of "
         "and the full model the rest; off = the full model answers every complaint, as if the model had been "
         "trained with --cascade off (slower). A model without a cascade scores the same either way.")


def embedding_model_option(name: str = "embedding_model") -> Callable:
    """``--embedding-model``, passed to the command as ``name``."""
    from ..embedding.models import DEFAULT_MODEL

    return click.option("--embedding-model", name, default=DEFAULT_MODEL, show_default=True,
                        help="Embedding model alias (all-MiniLM-L6-v2, multilingual) or a local "
                             "sentence-transformers folder.")


overwrite_option = click.option("--overwrite", is_flag=True, help="Replace the output if it exists.")


class AliasedOption(click.Option):
    """An option whose old names (``hidden_aliases``) still work but are left out of ``--help``."""

    def __init__(self, *args: Any, hidden_aliases: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hidden_aliases = hidden_aliases

    def _visible(self) -> list[str]:
        return [name for name in self.opts if name not in self.hidden_aliases]

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:  # noqa: D102
        opts, self.opts = self.opts, self._visible()
        try:
            return super().get_help_record(ctx)
        finally:
            self.opts = opts

    def get_error_hint(self, ctx: click.Context) -> str:  # noqa: D102
        return " / ".join(f"'{name}'" for name in self._visible())


class PathOrUri(click.Path):
    """A local path (a :class:`~pathlib.Path`), or a URI such as ``s3a://bucket/x`` kept as written (a ``str``)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from ..io.uris import is_uri

        return value if is_uri(value) else super().convert(value, param, ctx)


def input_option(help: str, required: bool = True, aliases: tuple[str, ...] = (), uris: bool = False) -> Callable:
    """``--input`` (parameter ``input_path``): the table a command reads; ``aliases`` are its old, hidden names.

    ``uris``: also accept URIs (``hdfs://``, ``s3a://``...), passed on as strings.
    """
    return click.option("--input", *aliases, "input_path", cls=AliasedOption, hidden_aliases=aliases,
                        required=required, type=(PathOrUri if uris else click.Path)(path_type=Path), help=help)


def output_option(help: str, required: bool = True, aliases: tuple[str, ...] = (), uris: bool = False) -> Callable:
    """``--output`` (parameter ``output``): the file a command writes; ``aliases`` are its old, hidden names."""
    return click.option("--output", *aliases, "output", cls=AliasedOption, hidden_aliases=aliases,
                        required=required, type=(PathOrUri if uris else click.Path)(path_type=Path), help=help)


TABLE_FORMATS = "CSV, TSV, JSONL, Parquet file or folder of Parquet files"


def examples(*lines: str) -> str:
    """A click epilog listing example command lines, kept as written (click's ``\\b`` marker)."""
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


def load_bundle(path: Path) -> Bundle:
    """Load a bundle for a command, trusting it if the command got ``--trust``."""
    from ..bundle import Bundle

    ctx = click.get_current_context(silent=True)
    return Bundle.load(path, trust=bool(ctx and ctx.meta.get(_TRUST)))


def _set_log_level(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    if value:
        _logging.configure(level={"verbose": "debug", "quiet": "warning"}.get(param.name or "", value))
        ctx.meta[LOG_LEVEL_SET] = True
    return value


def logging_options() -> list[click.Option]:
    """``-v/--verbose``, ``-q/--quiet`` and ``--log-level``, accepted before or after the subcommand."""
    return [
        click.Option(["-v", "--verbose"], is_flag=True, expose_value=False, callback=_set_log_level,
                     help="Log debug details (and show the traceback of file errors)."),
        click.Option(["-q", "--quiet"], is_flag=True, expose_value=False, callback=_set_log_level,
                     help="Log only warnings and errors: no progress."),
        click.Option(["--log-level"], type=click.Choice(_logging.LEVELS), expose_value=False,
                     callback=_set_log_level, help="Log level (default info)."),
    ]
