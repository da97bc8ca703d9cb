"""Peak RSS of `score_file` as the input grows (does memory stay flat?).

Real CFPB narratives (data/cfpb/complaints.csv) are repeated to reach each size, so after
the first pass the embeddings come from the cache: this measures the streaming machinery
(reading, validation, heads, part files, assembly), not the encoder. Each size runs in a
fresh process and reports its own ``ru_maxrss``.

    python scripts/measure_scoring_memory.py --model /tmp/bench-model --rows 100000 1000000
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


def measure(model: str, rows: int, distinct: int | None = None) -> None:
    """Score ``rows`` rows in this process and print its peak RSS."""
    from complaintkit import Bundle
    from complaintkit.scoring import score_file

    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "in.parquet"
        write_input(source, rows, distinct)
        bundle = Bundle.load(model)
        began = time.perf_counter()
        summary = score_file(bundle, source, Path(folder) / "out.parquet", id_cols=["complaint_id"],
                             text_cols=["narrative"])
        seconds = time.perf_counter() - began
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"| {rows:,} | {summary.rows_scored:,} | {peak_mb:,.0f} MB | {seconds:.0f} s | {summary.precision} | "
          f"{os.getloadavg()[0]:.1f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--distinct", type=int, help="repeat only the first N narratives (fewer to embed first)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        measure(args.model, args.one, args.distinct)
        return
    print("| input rows | scored | peak RSS | time | encoder | load (1 min) |\n|---|---|---|---|---|---|", flush=True)
    distinct = ["--distinct", str(args.distinct)] if args.distinct else []
    for rows in args.rows:
        subprocess.run([sys.executable, __file__, "--model", args.model, "--one", str(rows), *distinct], check=True)


if __name__ == "__main__":
    main()
