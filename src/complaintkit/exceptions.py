"""Typed errors. The CLI turns every ``ComplaintkitError`` into a one-line message."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class ComplaintkitError(Exception):
    """Base class of every error complaintkit raises on purpose."""


class InputError(ComplaintkitError, ValueError):
    """An input table, file or option is not what complaintkit expected."""


class MissingColumnError(InputError, KeyError):
    """A column named by the user is not in the table."""

    def __init__(self, role: str, column: str, found: Iterable[str], option: str) -> None:
        found = [str(c) for c in found]
        close = difflib.get_close_matches(column, found, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        message = (
            f"the {role} column {column!r} is not in the table; found columns {found}. "
            f"{hint}Name the right one with {option}."
        )
        super().__init__(message)
        self.column = column

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0])


class BundleError(ComplaintkitError):
    """A model bundle is missing, incomplete, tampered with or incompatible."""


class ModelNotFoundError(ComplaintkitError, FileNotFoundError):
    """An embedding model name or path cannot be resolved offline."""


class OutputExistsError(ComplaintkitError, FileExistsError):
    """An output path exists and overwriting was not asked for."""
