"""Report generation time and HTML size on a large scored table built by repeating real scored rows.

Usage (scored rows from `complaintkit score`, e.g. the CFPB sample):
    python scripts/benchmark_report.py --scored out/cfpb-scored.parquet --rows 1000000 \
        --by company --by state --date-col date_received --text-col narrative

Prints the full report time next to a same-run baseline: reading the table and counting
causes (the least any report must do).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from complaintkit.io import read_table, write_table
from complaintkit.report import report_file


def build_large(scored: Path, rows: int, target: Path) -> None:
    """``rows`` rows drawn by repeating ``scored`` (row ids made unique), written to ``target``."""
    base = read_table(scored)
    repeats = int(np.ceil(rows / len(base)))
    large = pd.concat([base] * repeats, ignore_index=True).iloc[:rows]
    large["row_number"] = np.arange(len(large))
    write_table(large, target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scored", type=Path, required=True, help="Real scored rows to repeat.")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--by", action="append", default=[])
    parser.add_argument("--date-col")
    parser.add_argument("--text-col")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        large = Path(tmp) / "large.parquet"
        build_large(args.scored, args.rows, large)
        wall, cpu = time.perf_counter(), time.process_time()
        counts = read_table(large)["root_cause"].value_counts()
        baseline = time.perf_counter() - wall, time.process_time() - cpu
        wall, cpu = time.perf_counter(), time.process_time()
        out = Path(tmp) / "report.html"
        report_file(large, out, by=args.by, date_col=args.date_col, text_col=args.text_col,
                    state=Path(tmp) / "emerging.json")
        seconds = time.perf_counter() - wall, time.process_time() - cpu
        size = out.stat().st_size
    print(f"rows: {counts.sum():,} ({len(counts)} causes), source {args.scored}")
    print("                                          wall s   CPU s (all threads; the machine is shared)")
    print(f"baseline (read table + count causes):   {baseline[0]:7.1f} {baseline[1]:7.1f}")
    print(f"full report (read + all sections + HTML): {seconds[0]:7.1f} {seconds[1]:7.1f}"
          f"   ({seconds[1] / baseline[1]:.1f}x baseline CPU)")
    print(f"HTML size: {size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
