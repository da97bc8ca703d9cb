"""The ``complaintkit`` command line: one thin command per file."""

from __future__ import annotations

import sys

import click

from .. import __version__, _logging
from ..exceptions import ComplaintkitError


class _Group(click.Group):
    """A group that turns complaintkit's errors into one line on stderr and exit code 1."""

    def invoke(self, ctx: click.Context):  # noqa: D102
        try:
            return super().invoke(ctx)
        except ComplaintkitError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="complaintkit")
@click.option("-v", "--verbose", is_flag=True, help="Log debug details.")
def main(verbose: bool) -> None:
    """Train, evaluate and run complaint root-cause and churn models, and write reports."""
    _logging.configure(verbose)


def _register() -> None:
    from .embed import embed_command
    from .evaluate import evaluate_command
    from .report import report_command
    from .score import score_command
    from .train import train_command

    for command in (train_command, evaluate_command, score_command, report_command, embed_command):
        main.add_command(command)


_register()
