"""Time reading and writing very wide tables (a few rows, thousands of columns) in every format.

Measured: ``write_table`` and ``read_table`` per format, and ``score``'s output writer (one
finished Parquet part assembled into the output file, ``scoring.parts.assemble``).

A step whose time grows with the square of the column count shows as a per-column time that
grows with the width; a linear one keeps it flat. The tables are synthetic (random short
strings), made here.

    python scripts/measure_wide_tables.py --columns 1000 5000 20000 --rows 5
"""

from __future__ import annotations

import argparse
import os
import tempfile
import timeit
from pathlib import Path

import numpy as np
import pandas as pd

from complaintkit.io import read_table, write_table
from complaintkit.scoring.parts import assemble, write_part

FORMATS = ("csv", "tsv", "jsonl", "parquet")


def wide_frame(columns: int, rows: int, seed: int = 0) -> pd.DataFrame:
    """``rows`` × ``columns`` of short random strings, a ``text`` column first."""
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 10**6, size=(rows, columns)).astype(str)
    frame = pd.DataFrame(values, columns=["text", *(f"c{i}" for i in range(1, columns))])
    return frame.astype(object)


def time_call(call, repeats: int) -> float:
    """Best wall time of ``repeats`` calls (seconds)."""
    return min(timeit.repeat(call, number=1, repeat=repeats))


def measure(columns: int, rows: int, repeats: int, folder: Path) -> dict[str, tuple[float, float]]:
    """Write and read time per format for one width."""
    frame = wide_frame(columns, rows)
    out = {}
    for fmt in FORMATS:
        path = folder / f"wide_{columns}.{fmt}"
        write = time_call(lambda p=path: write_table(frame, p), repeats)
        read = time_call(lambda p=path: read_table(p), repeats)
        back = read_table(path)
        assert back.shape == frame.shape, (fmt, back.shape, frame.shape)
        out[fmt] = (write, read)
    write_part(frame, folder / f"part_{columns}.parquet")
    for fmt in ("parquet", "csv"):
        target = folder / f"scored_{columns}.{fmt}"
        out[f"score {fmt}"] = (time_call(lambda t=target: assemble([folder / f"part_{columns}.parquet"], t),
                                         repeats), float("nan"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--columns", type=int, nargs="+", default=[1000, 5000, 20000])
    parser.add_argument("--rows", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()}")
    print(f"{'columns':>8} {'format':8} {'write s':>8} {'read s':>8} {'write µs/col':>13} {'read µs/col':>12}")
    with tempfile.TemporaryDirectory() as tmp:
        for columns in args.columns:
            for fmt, (write, read) in measure(columns, args.rows, args.repeats, Path(tmp)).items():
                print(f"{columns:8d} {fmt:8} {write:8.3f} {read:8.3f} {write / columns * 1e6:13.1f} "
                      f"{read / columns * 1e6:12.1f}", flush=True)
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
