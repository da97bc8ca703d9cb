"""Two bundles' root causes on the same held-out rows: macro-F1 and accuracy of each, and the paired difference.

    python scripts/compare_bundles.py --input out/cfpb-issues.csv --text-col narrative --label-col cause \
        --split-col split --test-split test models/cfpb-issue-dropped models/cfpb-issue

Prints each bundle's scores and the first minus the second with a paired bootstrap 95% interval
(:func:`complaintkit.intervals.paired_difference`: both scored on the same resampled rows).
"""

from __future__ import annotations

import argparse

import numpy as np
from sklearn.metrics import f1_score

from complaintkit import Bundle
from complaintkit.intervals import paired_difference
from complaintkit.io import join_text_columns, read_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundles", nargs=2, help="Two bundle folders: the first minus the second is reported.")
    parser.add_argument("--input", required=True)
    parser.add_argument("--text-col", default="text")
    parser.add_argument("--label-col", required=True)
    parser.add_argument("--split-col")
    parser.add_argument("--test-split", default="test")
    args = parser.parse_args()
    frame = read_table(args.input)
    if args.split_col:
        frame = frame[frame[args.split_col].astype(str) == args.test_split]
    texts = join_text_columns(frame, (args.text_col,)).tolist()
    truth = frame[args.label_col].astype(str).str.strip().to_numpy()
    predictions = [Bundle.load(path).predict(texts)["root_cause"].to_numpy() for path in args.bundles]
    difference = paired_difference(truth, *predictions)
    for path, predicted in zip(args.bundles, predictions, strict=True):
        print(f"{path}: macro-F1 {f1_score(truth, predicted, average='macro', zero_division=0):.4f}, "
              f"accuracy {np.mean(predicted == truth):.4f} ({len(truth)} rows)")
    for metric, row in difference.items():
        low, high = row["interval"]
        print(f"{metric}: first − second {row['difference']:+.4f} [{low:+.4f}, {high:+.4f}], "
              f"first ahead in {row['share_a_better']:.0%} of resamples")
    print(f"same prediction on {np.mean(predictions[0] == predictions[1]):.1%} of the rows")


if __name__ == "__main__":
    main()
