"""The rules about the user's files, kept in one place.

- Only regular files, or folders of them, are read (:func:`check_input_file`).
- Outputs, rejects and inputs are distinct files, checked before any work starts; an output
  is never an input, whatever the flags; an existing output is replaced only with
  ``--overwrite`` (:func:`claim_outputs`).
- One writer per output: an exclusive ``fcntl.flock`` on a lock file beside it, released by
  the kernel when the process ends, even on ``kill -9`` (:class:`OutputLock`).
- A bundle folder replaced with ``--overwrite`` must be a complaintkit bundle
  (:func:`check_bundle_target`).
"""

from __future__ import annotations

import fcntl
import os
import stat
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path

from ..exceptions import InputError, OutputExistsError
from .files import check_output_path

BUNDLE_MARKER = "metadata.json"


def _identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of an existing file, following symlinks; ``None`` if it does not exist."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether ``a`` and ``b`` name one file: same inode (symlinks, hard links) or same resolved path."""
    a, b = Path(a), Path(b)
    identity = _identity(a)
    if identity is not None and identity == _identity(b):
        return True
    return a.resolve() == b.resolve()


def _inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` lies inside (or is) the existing folder ``folder``."""
    if not folder.is_dir():
        return False
    if same_file(path, folder):
        return True
    return path.resolve().is_relative_to(folder.resolve())


def check_input_file(path: str | os.PathLike, what: str = "input") -> Path:
    """Return ``path`` if it is a regular file or a folder; raise a one-line error for anything else.

    FIFOs, sockets and devices would block or never end, so they are refused before being opened.

    Raises
    ------
    InputError
        If ``path`` does not exist or is not a regular file or folder.
    """
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise InputError(f"{what} {str(path)!r} does not exist; check the path.") from None
    except OSError as exc:
        raise InputError(f"cannot read {what} {str(path)!r} ({exc.strerror}); check the path and its "
                         "permissions.") from None
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        kind = ("a named pipe" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
                else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file")
        raise InputError(f"{what} {str(path)!r} is {kind}; expected a regular file or a folder of them. "
                         "Save the data to a file first.")
    return path


def check_distinct(inputs: Mapping[str, str | os.PathLike | None],
                   outputs: Mapping[str, str | os.PathLike | None], folders: bool = False) -> None:
    """Raise :class:`InputError` if an output is an input, lies inside an input folder, or is another output.

    ``inputs`` and ``outputs`` map an option name (shown in the error) to its path; ``None`` is skipped.
    ``folders``: the outputs are folders, which must not hold an input either.
    """
    ins = [(name, Path(p)) for name, p in inputs.items() if p is not None]
    outs = [(name, Path(p)) for name, p in outputs.items() if p is not None]
    for i, (name, out) in enumerate(outs):
        for in_name, source in ins:
            if same_file(out, source) or _inside(out, source):
                raise InputError(f"{name} {str(out)!r} is the input {in_name} {str(source)!r} (or inside it); "
                                 "an input is never written: choose another output path.")
            if folders and out.is_dir() and _inside(source, out):
                raise InputError(f"{name} {str(out)!r} holds the input {in_name} {str(source)!r}; replacing it "
                                 "would delete the input: choose another output folder.")
        for other_name, other in outs[i + 1:]:
            if same_file(out, other):
                raise InputError(f"{name} and {other_name} are the same file {str(out)!r}; give them "
                                 "different paths.")


class OutputLock:
    """An exclusive lock on the hidden file ``.<name>.lock`` beside ``target``.

    The kernel drops an ``flock`` when its process ends, however it ends, so a killed run
    leaves no stale lock. The lock file is removed on release.
    """

    def __init__(self, target: str | os.PathLike) -> None:
        target = Path(target)
        self.target = target
        self.path = target.with_name(f".{target.name}.lock")
        self._fd: int | None = None

    def acquire(self) -> OutputLock:
        """Take the lock or raise :class:`InputError` naming the output another run is writing."""
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise InputError(f"another complaintkit run is writing {str(self.target)!r} (locked by "
                                 f"{str(self.path)!r}); wait for it to finish or choose another output.") from None
            if _identity(self.path) == (os.fstat(fd).st_dev, os.fstat(fd).st_ino):
                self._fd = fd
                return self
            os.close(fd)  # the previous holder removed the file between our open and flock: retry

    def release(self) -> None:
        """Remove the lock file and drop the lock."""
        if self._fd is not None:
            self.path.unlink(missing_ok=True)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> OutputLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


@contextmanager
def claim_outputs(outputs: Mapping[str, str | os.PathLike | None], *,
                  inputs: Mapping[str, str | os.PathLike | None] = {},  # noqa: B006 - read only
                  overwrite: bool = False, folders: bool = False) -> Iterator[None]:
    """Check every rule for these outputs, then hold their locks while the body writes them.

    Inputs must exist as regular files or folders; outputs must differ from inputs and from
    each other; an existing output needs ``overwrite``; each output is locked against other
    runs. ``folders`` says the outputs are folders (bundles), checked by :func:`check_bundle_target`.

    Raises
    ------
    InputError, OutputExistsError
        The one-line reason the run may not start.
    """
    for name, path in inputs.items():
        if path is not None:
            check_input_file(path, name)
    check_distinct(inputs, outputs, folders)
    with ExitStack() as locks:
        for path in outputs.values():
            if path is None:
                continue
            if folders:
                check_bundle_target(Path(path), overwrite)
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            else:
                check_output_path(path, overwrite)
            locks.enter_context(OutputLock(path))
        yield


def check_bundle_target(out: Path, overwrite: bool) -> None:
    """Raise unless bundle folder ``out`` is new, or a complaintkit bundle and ``overwrite`` is set.

    Replacing a folder deletes it: only a folder holding a bundle's ``metadata.json`` is replaced,
    and never the current folder or one of its parents.
    """
    if out.resolve() in (Path.cwd().resolve(), *Path.cwd().resolve().parents) or out.name in ("", ".", ".."):
        raise InputError(f"--out {str(out)!r} is the current folder or above it; name a new bundle folder "
                         "such as models/cfpb.")
    if not os.path.lexists(out):
        return
    if not overwrite:
        raise OutputExistsError(f"bundle folder {str(out)!r} already exists; pass --overwrite to replace it.")
    if not out.is_dir() or out.is_symlink() or not (out / BUNDLE_MARKER).is_file():
        raise InputError(f"{str(out)!r} exists and is not a complaintkit bundle (no {BUNDLE_MARKER}); "
                         "--overwrite only replaces bundles. Choose a new folder.")


def check_distinct_uris(inputs: Mapping[str, str | None], outputs: Mapping[str, str | None]) -> None:
    """:func:`check_distinct` for fully qualified URIs (``file:/…``, ``hdfs://…``, ``s3a://…``).

    An output must not be an input, lie inside an input folder, hold an input, or be (or hold,
    or lie inside) another output. URIs are compared as written, so pass them qualified.
    """
    def within(inner: str, outer: str) -> bool:
        return inner.rstrip("/") == outer.rstrip("/") or inner.startswith(outer.rstrip("/") + "/")

    ins = [(name, uri) for name, uri in inputs.items() if uri is not None]
    outs = [(name, uri) for name, uri in outputs.items() if uri is not None]
    for i, (name, out) in enumerate(outs):
        for in_name, source in ins:
            if within(out, source) or within(source, out):
                raise InputError(f"{name} {out!r} overlaps the input {in_name} {source!r} (one is the other or "
                                 "lies inside it); an input is never written: choose another output path.")
        for other_name, other in outs[i + 1:]:
            if within(out, other) or within(other, out):
                raise InputError(f"{name} {out!r} and {other_name} {other!r} overlap (one is the other or lies "
                                 "inside it); give them separate paths.")
