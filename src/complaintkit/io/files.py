"""Where outputs may go, and how every file is written: atomically, never half."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..exceptions import InputError, OutputExistsError


@contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it replaces ``path``, on error it is removed.

    Readers see the old file or the whole new one, never a partial write.

    Examples
    --------
    >>> with atomic_write(tmp / "out.txt") as partial:  # doctest: +SKIP
    ...     partial.write_text("done")
    """
    path = Path(path)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.fchmod(fd, 0o666 & ~current_umask())  # as open() would create it, not mkstemp's 0600
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def current_umask() -> int:
    """The process's file-creation mask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def check_output_path(path: str | Path, overwrite: bool) -> Path:
    """Validate that ``path`` may be written: its folder exists and is writable, no clobbering."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(f"output {str(path)!r} already exists; pass --overwrite to replace it.")
    if path.is_dir():
        raise InputError(f"output {str(path)!r} is a folder; expected a file path such as "
                         f"{str(path / 'out.parquet')!r}.")
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(
            f"cannot create the output folder {str(parent)!r} ({exc.strerror}); choose another output path."
        ) from None
    if not os.access(parent, os.W_OK):
        raise InputError(f"cannot write to folder {str(parent)!r} (permission denied); choose another output path.")
    return path


