"""Progress bars on a terminal, plain periodic log lines otherwise."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tqdm.auto import tqdm

logger = logging.getLogger("complaintkit")


LEVELS = ("debug", "info", "warning", "error")


def configure(verbose: bool = False, level: str | None = None) -> None:
    """Send complaintkit's log records to stderr at ``level`` (debug with ``verbose``; used by the CLI).

    Called again, it only changes the level (options after the subcommand override those before it).
    """
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
        logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if verbose else getattr(logging, (level or "info").upper()))


def show_bars() -> bool:
    """Whether progress bars fit: stderr is a terminal and INFO is being logged."""
    return sys.stderr.isatty() and logger.isEnabledFor(logging.INFO)


class _LineProgress:
    """A tqdm look-alike that logs a line at most every ``interval`` seconds."""

    def __init__(self, total: int | None, desc: str, unit: str, interval: float = 30.0) -> None:
        self.total, self.desc, self.unit, self.interval = total, desc, unit, interval
        self.n = 0
        self._start = self._last = time.monotonic()

    def update(self, n: int = 1) -> None:
        self.n += n
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            self._log(now)

    def _log(self, now: float) -> None:
        rate = self.n / max(now - self._start, 1e-9)
        of = f"/{self.total} ({min(self.n / self.total, 1):.0%})" if self.total else ""
        eta = ""
        if self.total and rate > 0:
            eta = f", ETA {max(self.total - self.n, 0) / rate:.0f}s"
        logger.info("%s: %d%s %s (%.1f %s/s%s)", self.desc, self.n, of, self.unit, rate, self.unit, eta)

    def close(self) -> None:
        self._log(time.monotonic())


class _NoProgress:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


@contextmanager
def progress(total: int | None, desc: str, unit: str = "rows",
             quiet: bool = False) -> Iterator[tqdm | _LineProgress | _NoProgress]:
    """A progress reporter with ``update(n)``: a bar on a terminal, log lines elsewhere, nothing if ``quiet``.

    With ``total`` known, the bar and the log lines show the share done and the time left.
    """
    bar: tqdm | _LineProgress | _NoProgress
    if quiet:
        bar = _NoProgress()
    elif show_bars():
        from tqdm.auto import tqdm  # imported when a bar is shown: it pulls in asyncio

        bar = tqdm(total=total, desc=desc, unit=f" {unit}", dynamic_ncols=True)
    else:
        bar = _LineProgress(total, desc, unit)
    try:
        yield bar
    finally:
        bar.close()


class Steps:
    """Numbered log lines for the stages of a long task: ``[2/4] message (41s so far)``."""

    def __init__(self, total: int) -> None:
        self.total, self.done = total, 0
        self._start = time.monotonic()

    def next(self, message: str, *args: object) -> None:
        """Log the start of the next stage."""
        self.done += 1
        logger.info(f"[%d/%d] {message} (%.0fs so far)", self.done, self.total, *args, time.monotonic() - self._start)
