"""Driver memory and time of `score --engine spark` as the input grows, next to the local engine.

A standalone cluster is started on this host (a master and one worker with ``--cores`` cores,
separate JVMs), so the driver is only the driver. Input: real airline complaint tweets (the shared
data folder, ``COMPLAINTKIT_SHARED_DATA``), the first ``--distinct`` of them repeated to each size
as a CSV file; the bundle is trained on the first 300 (negative reason as the root cause), which
puts their vectors in the embedding cache, so every size after the warm-up reads its vectors from the embedding cache
and the figures measure the engine (reading, numbering, validation, heads, writing), not the
transformer. Each size runs in a fresh driver process, which reports its own peak RSS and the
peak RSS of its JVM. The local engine scores the same file in the same run (baseline).

    nice -n 5 python scripts/benchmark_spark.py --rows 10000 40000 160000
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

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("COMPLAINTKIT_SHARED_DATA", REPO.parent / "shared" / "data"))
BUNDLE = REPO / "out" / "bench-spark-bundle"


def cpu_flags() -> str:
    flags = set()
    with open("/proc/cpuinfo") as handle:
        for line in handle:
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    wanted = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")
    return " ".join(f"{f}={'yes' if f in flags else 'no'}" for f in wanted)


def load() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def tweets() -> pd.DataFrame:
    """Airline complaint tweets with a negative reason, in file order."""
    frame = pd.read_csv(SHARED / "airline" / "tweets.csv", dtype=str)
    return frame[frame["negativereason"].notna()].reset_index(drop=True)


def bundle() -> Path:
    """A small bundle (negative reason, first 300 complaint tweets), trained once into out/bench-spark-bundle."""
    if not (BUNDLE / "metadata.json").exists():
        from complaintkit import TrainConfig, train

        frame = tweets().head(300)
        frame = frame[frame.groupby("negativereason")["negativereason"].transform("size") >= 5]
        train(frame, TrainConfig(text_cols=("text",), label_col="negativereason"), name="bench-spark").save(
            BUNDLE, overwrite=True)
    return BUNDLE


def write_input(path: Path, rows: int, texts: list[str]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        pd.DataFrame({"tweet_id": [], "text": []}).to_csv(handle, index=False)
        for start in range(0, rows, 50_000):
            ids = range(start, min(start + 50_000, rows))
            pd.DataFrame({"tweet_id": [f"t{i}" for i in ids], "text": [texts[i % len(texts)] for i in ids]}
                         ).to_csv(handle, index=False, header=False)


def _descendants(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    children.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return children + [d for c in children for d in _descendants(c)]


def _jvm_peak_mb() -> float:
    """Peak RSS (VmHWM) of the driver's JVM, a descendant of this process."""
    peak = 0.0
    for pid in _descendants(os.getpid()):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            if "java" in Path(f"/proc/{pid}/cmdline").read_text():
                peak = max(peak, int(status.split("VmHWM:")[1].split()[0]) / 1024)
        except (OSError, IndexError):
            continue
    return peak


def one_run(engine: str, source: Path, master: str | None) -> None:
    """Score ``source`` in this process with ``engine``; print one JSON line of figures."""
    from complaintkit import Bundle
    from complaintkit.scoring import score_file

    model = Bundle.load(bundle())
    with tempfile.TemporaryDirectory(dir=source.parent) as folder:
        began = time.perf_counter()
        options = {"engine": "spark", "spark_master": master} if engine == "spark" else {}
        summary = score_file(model, source, Path(folder) / "scored.parquet", id_cols=["tweet_id"], **options)
        seconds = time.perf_counter() - began
        jvm = _jvm_peak_mb() if engine == "spark" else 0.0
    print(json.dumps({"rows": summary.rows_read, "scored": summary.rows_scored, "seconds": seconds,
                      "python_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "jvm_peak_mb": jvm, "load": load()}), flush=True)


def run(engine: str, source: Path, master: str | None) -> dict:
    command = [sys.executable, __file__, "--one", engine, "--source", str(source)]
    if master:
        command += ["--master", master]
    done = subprocess.run(command, check=True, capture_output=True, text=True,
                          env={**os.environ, "SPARK_LOCAL_IP": "127.0.0.1"})
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 40_000, 160_000])
    parser.add_argument("--local-rows", type=int, default=None, help="rows scored by the local engine "
                        "(default: the smallest size)")
    parser.add_argument("--distinct", type=int, default=200, help="distinct tweets repeated to each size")
    parser.add_argument("--cores", type=int, default=2, help="executor cores of the one worker")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--source", help=argparse.SUPPRESS)
    parser.add_argument("--master", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one_run(args.one, Path(args.source), args.master)
        return
    from complaintkit.engines.standalone import start_cluster

    print(f"CPU: {os.cpu_count()} cores, {cpu_flags()}; load average {load()}", flush=True)
    bundle()
    texts = tweets()["text"].head(args.distinct).tolist()
    with tempfile.TemporaryDirectory(prefix="bench-spark-") as folder:
        folder = Path(folder)
        warm = folder / "warm.csv"
        write_input(warm, len(texts), texts)
        figures = run("local", warm, None)
        print(f"warm-up (scores the {len(texts)} distinct texts once): {figures['seconds']:.0f} s, "
              f"load {figures['load']}", flush=True)
        local_rows = args.local_rows or min(args.rows)
        source = folder / f"in-{local_rows}.csv"
        write_input(source, local_rows, texts)
        local = run("local", source, None)
        local_rate = local["rows"] / local["seconds"]
        cluster_folder = folder / "cluster"
        cluster_folder.mkdir()
        cluster = start_cluster(cluster_folder, workers=1, cores=args.cores, memory="4g")
        try:
            print("\n| engine | input rows | wall time | rows/s | rows/s per core | driver Python peak RSS | "
                  "driver JVM peak RSS | load |\n|---|---|---|---|---|---|---|---|", flush=True)
            print(f"| local (1 process) | {local['rows']:,} | {local['seconds']:.0f} s | {local_rate:.0f} | "
                  f"{local_rate:.0f} | {local['python_peak_mb']:.0f} MB | — | {local['load']} |", flush=True)
            for rows in args.rows:
                source = folder / f"in-{rows}.csv"
                if not source.exists():
                    write_input(source, rows, texts)
                spark = run("spark", source, cluster.master_url)
                rate = spark["rows"] / spark["seconds"]
                print(f"| spark ({args.cores} executor cores) | {spark['rows']:,} | {spark['seconds']:.0f} s | "
                      f"{rate:.0f} | {rate / args.cores:.0f} | {spark['python_peak_mb']:.0f} MB | "
                      f"{spark['jvm_peak_mb']:.0f} MB | {spark['load']} |", flush=True)
                source.unlink()
        finally:
            cluster.stop()


if __name__ == "__main__":
    main()
