#!/usr/bin/env bash
# The demo: train → evaluate → score → report on the real CFPB sample in data/.
# Run through `make demo` (which installs everything first); outputs go to out/.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1
mkdir -p out

complaintkit train --data data/cfpb/complaints.csv --text-col narrative --label-col product_group \
  --split-col split --out models/cfpb-product --overwrite
complaintkit evaluate --model models/cfpb-product --data data/cfpb/complaints.csv \
  --split-col split --split test --output out/metrics.json --plots-dir out/plots
complaintkit score --model models/cfpb-product --input data/cfpb/complaints.csv \
  --output out/scored.parquet --id-col complaint_id --overwrite
complaintkit report --scored out/scored.parquet --text-col narrative --date-col date_received \
  --by company --by state --model models/cfpb-product --state out/emerging-state.json \
  --out out/report.html --overwrite
echo "demo done: models/cfpb-product, out/metrics.json, out/scored.parquet, out/report.html"
