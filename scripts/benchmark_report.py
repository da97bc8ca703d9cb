"""Report time and peak memory on large scored tables, next to reading the table and counting causes.

Real scored rows (from `complaintkit score`) are repeated to each size and written as Parquet in
row groups of 50,000; each copy's text gets its copy number appended, so no two rows share a text
(as in real data, where every narrative differs). Each step runs in a fresh process that reports its
own peak RSS:

- ``baseline``: read the whole table (``complaintkit.io.read_table``) and count the causes, the
  least any report must do;
- ``report``: ``report_file`` as the CLI runs it (reads only the columns it needs; the texts of a
  Parquet table stay on disk except the sampled rows);
- ``whole``: the same report built from the whole table in memory (``build_report(read_table(...))``),
  which is what ``report_file`` did before it read Parquet texts on demand.

    python scripts/benchmark_report.py --scored ../main/out/scored.parquet --rows 100000 300000 1000000 \\
        --by company --by state --date-col date_received
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

STEPS = ("baseline", "report", "whole")


def build_large(scored: Path, rows: int, target: Path, text_col: str) -> None:
    """``rows`` rows repeating ``scored`` (``row_number`` made unique, texts suffixed with their copy)."""
    base = pq.read_table(scored)
    with pq.ParquetWriter(target, base.schema) as writer:
        done, copy = 0, 0
        while done < rows:
            part = base.slice(0, min(len(base), rows - done))
            if "row_number" in part.column_names:
                numbers = pa.array(range(done, done + len(part)), type=part.schema.field("row_number").type)
                part = part.set_column(part.schema.get_field_index("row_number"), "row_number", numbers)
            if copy and text_col in part.column_names:
                kind = part.schema.field(text_col).type
                suffix, nothing = pa.scalar(f" (copy {copy})", kind), pa.scalar("", kind)
                texts = pc.binary_join_element_wise(part[text_col], suffix, nothing)
                part = part.set_column(part.schema.get_field_index(text_col), text_col, texts)
            writer.write_table(part, row_group_size=50_000)
            done, copy = done + len(part), copy + 1


def peak_mb() -> float:
    """This process's peak resident memory so far, in MB (Linux reports ``ru_maxrss`` in KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_step(step: str, table: Path, options: dict) -> dict:
    """Run ``step`` on ``table`` in this process; return its seconds, peak RSS and a check value."""
    from complaintkit.io import read_table
    from complaintkit.report import build_report, report_file, write_report

    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "report.html"
        began = time.perf_counter()
        if step == "baseline":
            check = int(read_table(table)["root_cause"].value_counts().sum())
        elif step == "report":
            check = report_file(table, out, state=Path(folder) / "state.json", **options)["rows"]
        else:
            data = build_report(read_table(table), **options)
            write_report(data, out)
            check = data["rows"]
        seconds = time.perf_counter() - began
    return {"step": step, "seconds": seconds, "peak_mb": peak_mb(), "rows": check, "load": os.getloadavg()[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scored", type=Path, required=True, help="Real scored rows to repeat (Parquet).")
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 300_000, 1_000_000])
    parser.add_argument("--steps", default=",".join(STEPS), help=f"comma-separated, of {', '.join(STEPS)}")
    parser.add_argument("--by", action="append", default=[])
    parser.add_argument("--date-col")
    parser.add_argument("--text-col", default="narrative")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--table", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    options = {"by": args.by, "date_col": args.date_col, "text_col": args.text_col}
    if args.one:
        print(json.dumps(run_step(args.one, args.table, options)))
        return
    from benchmark_scoring import cpu_summary

    print(cpu_summary())
    print("| rows | step | seconds | × baseline | peak RSS | load (1 min) |\n|---|---|---|---|---|---|", flush=True)
    extra = [*(f"--by={b}" for b in args.by), *([f"--date-col={args.date_col}"] if args.date_col else []),
             f"--text-col={args.text_col}"]
    for rows in args.rows:
        with tempfile.TemporaryDirectory() as folder:
            table = Path(folder) / "scored.parquet"
            build_large(args.scored, rows, table, args.text_col)
            baseline = None
            for step in args.steps.split(","):
                done = subprocess.run([sys.executable, __file__, "--scored", str(args.scored), "--one", step,
                                       "--table", str(table), *extra], check=True, capture_output=True, text=True)
                result = json.loads(done.stdout.strip().splitlines()[-1])
                baseline = result["seconds"] if step == "baseline" else baseline
                ratio = f"{result['seconds'] / baseline:.2f}" if baseline else "—"
                print(f"| {result['rows']:,} | {step} | {result['seconds']:.1f} | {ratio} | "
                      f"{result['peak_mb']:,.0f} MB | {result['load']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
