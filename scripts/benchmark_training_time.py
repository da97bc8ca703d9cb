"""Cold training time of ``complaintkit train`` on N CFPB narratives, the default against the previous path, same run.

The rows are the 2,896 real narratives of ``data/cfpb/complaints.csv`` repeated with a
"[copy k]" prefix up to ``--rows`` (so every row is embedded anew), labelled with
``--label-col`` (``product_group`` by default). Each variant trains with an empty embedding cache
(the int8 encoder graph, when used, is built inside the timing: that is what a first run costs)
and saves the bundle. Variants:

- ``default``: what ``complaintkit train`` does (``--precision auto``: bf16 on CPUs with AMX,
  else the int8 ONNX encoder; the SVMs fitted side by side, one process per core; from 1,000 rows the scoring
  cascade, whose static table is distilled inside the timing, as on a first run);
- ``no-cascade``: the default without the cascade (``--cascade off``);
- ``sequential``: the default with one SVM fit at a time (``TrainConfig(n_jobs=None)``,
  ``train --jobs 1``; the default fits them side by side, one process per core);
- ``fp32``: the previous path, the fp32 encoder.

Printed per variant: wall minutes, CPU seconds of the process (all its threads; not those of the worker
processes that fit SVMs side by side), the encoder, the chosen settings, the seconds a fresh
``Bundle.load`` of the saved bundle takes (the bundle is kept; its folder is printed), with the CPU's
flags and the load average at the start and end. The machine may
be shared: compare the ratio of the variants, not absolute times.

    python scripts/benchmark_training_time.py --rows 8500 --variants default,fp32
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

import pandas as pd

from _benchdata import REPO, cpu_flags, load_average
from complaintkit import Bundle, TrainConfig, _logging, train

VARIANTS = {"default": {}, "no-cascade": {"cascade": "off"}, "sequential": {"n_jobs": None},
            "fp32": {"precision": "fp32"}}


def narratives(rows: int) -> pd.DataFrame:
    """``rows`` CFPB narratives: the real ones, then prefixed copies of them."""
    real = pd.read_csv(REPO / "data" / "cfpb" / "complaints.csv", dtype=str)
    copies = [real.assign(narrative=real["narrative"] if k == 0 else f"[copy {k}] " + real["narrative"])
              for k in range(-(-rows // len(real)))]
    return pd.concat(copies, ignore_index=True).head(rows)


def time_variant(frame: pd.DataFrame, label_col: str, variant: str) -> dict:
    """Train and save ``variant`` on ``frame`` with an empty embedding cache; its wall and CPU seconds."""
    os.environ["COMPLAINTKIT_CACHE_DIR"] = tempfile.mkdtemp(prefix="ck-cold-")
    start_load = load_average()
    wall, cpu = time.perf_counter(), time.process_time()
    bundle = train(frame, TrainConfig(text_cols=("narrative",), label_col=label_col, **VARIANTS[variant]),
                   name="timing")
    folder = tempfile.mkdtemp(prefix="ck-timing-")
    bundle.save(folder, overwrite=True)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    loading = time.perf_counter()
    Bundle.load(folder)
    loading = time.perf_counter() - loading
    chosen = bundle.metadata["heads"]["root_cause"]["chosen"]
    return {"variant": variant, "rows": len(frame), "minutes": round(wall / 60, 2), "cpu_seconds": round(cpu),
            "encoder": bundle.metadata["training_data"]["encoder"], "load_start": start_load,
            "load_end": load_average(), "bundle_load_seconds": round(loading, 1), "bundle": folder,
            "chosen": {k: chosen.get(k) for k in ("C", "embedding_weight", "use_tfidf")}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=8500)
    parser.add_argument("--label-col", default="product_group")
    parser.add_argument("--variants", default="default,fp32", help=f"comma-separated, of {list(VARIANTS)}")
    parser.add_argument("--out", help="also write the results as JSON to this file")
    parser.add_argument("--log", action="store_true", help="log training's steps with their times to stderr")
    args = parser.parse_args()
    if args.log:
        _logging.configure(level="info")
    variants = args.variants.split(",")
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        parser.error(f"unknown variants {unknown}; choose from {list(VARIANTS)}")
    frame = narratives(args.rows)
    print(f"CPU: {cpu_flags()}", flush=True)
    results = []
    for variant in variants:
        results.append(time_variant(frame, args.label_col, variant))
        print(json.dumps(results[-1]), flush=True)
    print(f"\n{args.rows:,} CFPB narratives, label {args.label_col}, empty embedding cache per variant")
    print("| variant | encoder | minutes | CPU seconds | × first variant's time | bundle load, s | load start → end |")
    print("|---|---|---|---|---|---|---|")
    for row in results:
        print(f"| {row['variant']} | {row['encoder']} | {row['minutes']:.1f} | {row['cpu_seconds']:,} | "
              f"{row['minutes'] / results[0]['minutes']:.2f} | {row['bundle_load_seconds']} | "
              f"{row['load_start']} → {row['load_end']} |")
    if args.out:
        with open(args.out, "w") as handle:
            json.dump(results, handle, indent=2)


if __name__ == "__main__":
    main()
