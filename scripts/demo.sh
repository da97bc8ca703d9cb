#!/usr/bin/env bash
# The demo: train → evaluate → score → report on the real CFPB sample in data/.
# The root causes are the CFPB's issues ("Incorrect information on your report", "Attempts to
# collect debt not owed", ...), rolled up to product lines. Run through `make demo` (which
# installs everything first); outputs go to out/.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1
mkdir -p out

# Issues with fewer than 20 complaints in the sample become "Other <product> issue".
python scripts/demo_issues.py data/cfpb/complaints.csv out/cfpb-issues.csv
# The standard head, whose needs_review threshold and calibration the demo shows (with a median of 28
# labels per issue, train would otherwise pick few-label training).
complaintkit train --input out/cfpb-issues.csv --text-col narrative --label-col cause \
  --parent-col product_group --split-col split --id-col complaint_id --root-cause-head standard \
  --model models/cfpb-issue --overwrite
complaintkit evaluate --model models/cfpb-issue --input out/cfpb-issues.csv \
  --split-col split --split test --output out/metrics.json --plots-dir out/plots --overwrite
complaintkit score --model models/cfpb-issue --input out/cfpb-issues.csv \
  --output out/scored.parquet --id-col complaint_id --overwrite
complaintkit report --input out/scored.parquet --text-col narrative --date-col date_received \
  --by root_cause_parent --by company --model models/cfpb-issue --state out/emerging-state.json \
  --output out/report.html --overwrite
echo "demo done: models/cfpb-issue, out/metrics.json, out/scored.parquet, out/report.html"
