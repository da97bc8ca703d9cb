"""Wall time of `complaintkit --help` and of each command's `--help`, median of N fresh processes.

Each measure starts a new Python process, as a user's shell does. The baseline, in the same run,
is the bare interpreter (`python -c pass`); ``--compare-src DIR`` also times the same commands
with the package imported from another source tree (e.g. the code before a change), and the
last column gives its median over this tree's.

    python scripts/measure_cli_startup.py --runs 10 --compare-src ../main/src
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
COMMANDS = (["--help"], ["train", "--help"], ["score", "--help"], ["evaluate", "--help"], ["report", "--help"],
            ["serve", "--help"])
RUN_CLI = ("import sys; sys.path.insert(0, {src!r}); from complaintkit.cli import main; "
           "sys.argv[0] = 'complaintkit'; main()")


def median_seconds(argv: list[str], runs: int) -> float:
    """Median wall time of ``runs`` fresh processes running ``argv`` (output discarded)."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def cli(src: Path, args: list[str]) -> list[str]:
    """The command line that runs complaintkit from source tree ``src`` with ``args``."""
    return [sys.executable, "-c", RUN_CLI.format(src=str(src)), *args]


def cpu_flags() -> str:
    """The CPU's vector extensions, from /proc/cpuinfo."""
    try:
        flags = next(line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags"))
    except (OSError, StopIteration):
        return "unknown"
    return " ".join(sorted({f for f in flags.split() if f.startswith(("avx", "amx"))}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--compare-src", type=Path, help="Another source tree to time the same commands with.")
    args = parser.parse_args()
    print(f"CPU flags: {cpu_flags()}; {os.cpu_count()} cores")
    print(f"load average at start: {os.getloadavg()}")
    interpreter = median_seconds([sys.executable, "-c", "pass"], args.runs)
    print(f"{'command':28} {'this tree s':>11}" + (f" {'compared s':>10} {'ratio':>6}" if args.compare_src else ""))
    print(f"{'python -c pass (baseline)':28} {interpreter:11.3f}")
    for command in COMMANDS:
        here = median_seconds(cli(SRC, command), args.runs)
        line = f"{'complaintkit ' + ' '.join(command):28} {here:11.3f}"
        if args.compare_src:
            other = median_seconds(cli(args.compare_src.resolve(), command), args.runs)
            line += f" {other:10.3f} {other / here:6.2f}"
        print(line, flush=True)
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
