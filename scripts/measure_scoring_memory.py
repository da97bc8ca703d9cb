"""Peak RSS and time of `score_file`, then of `report` on its output, as the input grows (flat or not?).

Real CFPB narratives (data/cfpb/complaints.csv) are repeated to reach each size (``--distinct``
limits them to the first N), so after the first pass the embeddings come from the cache: this
measures the streaming machinery (reading, validation, heads, part files, assembly), not the
encoder. Each size is scored in a fresh process that reports its own ``ru_maxrss``; with
``--report`` the scored rows then go through ``report_file`` in another fresh process, next to a
same-process baseline (reading the table and counting causes).

    python scripts/measure_scoring_memory.py --model models/cfpb --rows 100000 1000000 --distinct 500 --report
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]


def write_input(path: Path, rows: int, distinct: int | None = None) -> None:
    """Write ``rows`` rows of repeated real narratives (the first ``distinct``) to ``path`` in Parquet row groups."""
    texts = pd.read_csv(REPO / "data" / "cfpb" / "complaints.csv", dtype=str, usecols=["narrative"])["narrative"]
    texts = texts.dropna().tolist()[:distinct]
    with pq.ParquetWriter(path, pa.schema([("complaint_id", pa.string()), ("narrative", pa.string())])) as writer:
        for start in range(0, rows, 50_000):
            ids = range(start, min(start + 50_000, rows))
            writer.write_table(pa.table({"complaint_id": [f"c{i}" for i in ids],
                                         "narrative": [texts[i % len(texts)] for i in ids]}))


def peak_mb() -> float:
    """This process's peak resident memory so far, in MB (Linux reports ``ru_maxrss`` in KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(model: str, rows: int, output: Path, distinct: int | None = None) -> None:
    """Score ``rows`` rows into ``output`` in this process and print its peak RSS."""
    from complaintkit import Bundle
    from complaintkit.scoring import score_file

    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "in.parquet"
        write_input(source, rows, distinct)
        bundle = Bundle.load(model)
        began = time.perf_counter()
        summary = score_file(bundle, source, output, id_cols=["complaint_id"], text_cols=["narrative"])
        seconds = time.perf_counter() - began
    print(f"| score | {rows:,} | {summary.rows_scored:,} | {peak_mb():,.0f} MB | {seconds:.0f} s | "
          f"{summary.encoder} | {os.getloadavg()[0]:.1f} |", flush=True)


def measure_report(scored: Path) -> None:
    """Time ``report_file`` on ``scored`` against reading it and counting causes; print both and the peak RSS."""
    from complaintkit.io import read_table
    from complaintkit.report import report_file

    began = time.perf_counter()
    counts = read_table(scored)["root_cause"].value_counts()
    baseline = time.perf_counter() - began
    with tempfile.TemporaryDirectory() as folder:
        began = time.perf_counter()
        report_file(scored, Path(folder) / "report.html", state=Path(folder) / "emerging.json")
        seconds = time.perf_counter() - began
    print(f"| report | {counts.sum():,} | {len(counts)} causes | {peak_mb():,.0f} MB | {seconds:.1f} s "
          f"({seconds / baseline:.1f}x reading + counting: {baseline:.1f} s) | | {os.getloadavg()[0]:.1f} |",
          flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--distinct", type=int, help="repeat only the first N narratives (fewer to embed first)")
    parser.add_argument("--report", action="store_true", help="also time `report` on each scored table")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--report-one", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        measure(args.model, args.one, args.output, args.distinct)
        return
    if args.report_one:
        measure_report(args.report_one)
        return
    from benchmark_scoring import cpu_summary

    print(cpu_summary())
    print("| step | input rows | scored | peak RSS | time | encoder | load (1 min) |\n|---|---|---|---|---|---|---|",
          flush=True)
    distinct = ["--distinct", str(args.distinct)] if args.distinct else []
    for rows in args.rows:
        with tempfile.TemporaryDirectory() as folder:
            scored = Path(folder) / "scored.parquet"
            subprocess.run([sys.executable, __file__, "--model", args.model, "--one", str(rows), "--output",
                            str(scored), *distinct], check=True)
            if args.report:
                subprocess.run([sys.executable, __file__, "--model", args.model, "--report-one", str(scored)],
                               check=True)


if __name__ == "__main__":
    main()
