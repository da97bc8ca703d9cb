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


def configure(verbose: bool = False) -> None:
    """Send complaintkit's log records to stderr (used by the CLI)."""
    if logger.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)


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
        of = f"/{self.total}" if self.total else ""
        eta = ""
        if self.total and rate > 0:
            eta = f", ETA {max(self.total - self.n, 0) / rate:.0f}s"
        logger.info("%s: %d%s %s (%.1f %s/s%s)", self.desc, self.n, of, self.unit, rate, self.unit, eta)

    def close(self) -> None:
        self._log(time.monotonic())


@contextmanager
def progress(total: int | None, desc: str, unit: str = "rows") -> Iterator[tqdm | _LineProgress]:
    """A progress reporter with ``update(n)``: a bar on a terminal, log lines elsewhere."""
    bar: tqdm | _LineProgress
    if show_bars():
        from tqdm.auto import tqdm  # imported when a bar is shown: it pulls in asyncio

        bar = tqdm(total=total, desc=desc, unit=f" {unit}", dynamic_ncols=True)
    else:
        bar = _LineProgress(total, desc, unit)
    try:
        yield bar
    finally:
        bar.close()
