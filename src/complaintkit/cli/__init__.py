"""The ``complaintkit`` command line: one thin command per file."""

from __future__ import annotations

import errno
import logging
import sys

import click

from .. import _logging
from ..exceptions import ComplaintkitError
from ._options import LOG_LEVEL_SET, examples, logging_options

_OS_ERROR_HINTS = {
    errno.ENOSPC: "free some space or write elsewhere",
    errno.EDQUOT: "free some space or write elsewhere",
    errno.EACCES: "check the permissions or choose another path",
    errno.EPERM: "check the permissions or choose another path",
    errno.EROFS: "the file system is read-only; choose another path",
    errno.ENOTDIR: "a part of the path is a file, not a folder; choose another path",
    errno.EISDIR: "the path is a folder; name a file",
    errno.ENOENT: "check the path",
    errno.EMFILE: "too many open files; raise the limit (ulimit -n)",
}


def os_error_message(exc: OSError) -> str:
    """One line saying which file could not be read or written, why, and what to do."""
    where = f" {exc.filename!s}" if exc.filename else ""
    hint = _OS_ERROR_HINTS.get(exc.errno, "check the path and the disk")
    return f"cannot read or write{where}: {exc.strerror or exc} [{errno.errorcode.get(exc.errno, '?')}]; {hint}."


class _Group(click.Group):
    """A group that turns complaintkit's and the OS's errors into one line on stderr and exit code 1.

    Anything else is a bug and keeps its traceback. ``--verbose`` shows the traceback of
    OS errors too.
    """

    def invoke(self, ctx: click.Context):  # noqa: D102
        try:
            return super().invoke(ctx)
        except ComplaintkitError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except OSError as exc:
            if _logging.logger.isEnabledFor(logging.DEBUG):
                raise
            click.echo(f"error: {os_error_message(exc)}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
             params=logging_options(), epilog=examples(
                 "complaintkit train --input complaints.csv --label-col label --model models/mine",
                 "complaintkit score --model models/mine --input new.csv --output scored.parquet",
                 "complaintkit report --input scored.parquet --output report.html",
                 "complaintkit predict --model models/mine \"I was charged twice for one order\""))
@click.version_option(package_name="complaintkit", prog_name="complaintkit")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Train, evaluate and run complaint root-cause and churn models, and write reports.

    Every command has its own --help with an example.
    """
    if not ctx.meta.get(LOG_LEVEL_SET):
        _logging.configure()


def _register() -> None:
    from .build_multilingual import build_multilingual_command
    from .build_static import build_static_command
    from .embed import embed_command
    from .evaluate import evaluate_command
    from .predict import predict_command
    from .report import report_command
    from .score import score_command
    from .serve import serve_command
    from .suggest import suggest_command
    from .train import train_command

    for command in (train_command, evaluate_command, score_command, predict_command, report_command, embed_command,
                    suggest_command, build_multilingual_command, build_static_command, serve_command):
        command.params.extend(logging_options())
        main.add_command(command)


_register()
