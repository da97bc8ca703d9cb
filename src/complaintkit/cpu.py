"""How busy this machine's CPU is: the load average and the cores left idle."""

from __future__ import annotations

import os


def load_average() -> float | None:
    """The 1-minute load average, or ``None`` where the platform has none."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def idle_cores() -> int:
    """The cores less the 1-minute load average (rounded), at least 1; every core where there is no load average."""
    cores = os.cpu_count() or 1
    load = load_average()
    return cores if load is None else max(1, cores - round(load))
