"""Write the demo's training table: the CFPB sample with its issues as root causes.

CFPB issues with fewer than ``--min-rows`` complaints in the sample (70 issues have under 20,
many a single one) are grouped as "Other <product> issue", so that every cause has enough rows
to learn from and be reported on; every complaint is kept. Usage:
python scripts/demo_issues.py data/cfpb/complaints.csv out/cfpb-issues.csv [--min-rows 20]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from complaintkit.io import read_table, write_table


def causes_from_issues(frame: pd.DataFrame, min_rows: int = 20) -> pd.Series:
    """Each complaint's issue, or "Other <product> issue" when the issue has fewer than ``min_rows`` rows."""
    counts = frame["issue"].value_counts()
    common = frame["issue"].map(counts).fillna(0) >= min_rows
    other = "Other " + frame["product_group"].astype(str).str.replace("_", " ") + " issue"
    return frame["issue"].where(common, other)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--min-rows", type=int, default=20)
    args = parser.parse_args()
    frame = read_table(args.source)
    frame = frame.assign(cause=causes_from_issues(frame, args.min_rows))
    write_table(frame, args.output)
    print(f"wrote {args.output}: {len(frame)} complaints, {frame['cause'].nunique()} causes "
          f"({(frame['cause'] != frame['issue']).sum()} complaints in 'Other <product> issue')")


if __name__ == "__main__":
    main()
