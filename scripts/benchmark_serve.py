"""Throughput and latency of `complaintkit serve` against `complaintkit score` on the same texts, same run.

Texts: real airline tweets (../shared/data/airline/tweets.csv; override the folder with
COMPLAINTKIT_SHARED_DATA), tweet-length, none of them used for training. The service is started
as a real subprocess (``complaintkit serve``) with an empty embedding cache and queried with
httpx from 1, 4 and 16 client threads at batch 1 and batch 32; every configuration gets its own,
not yet seen, texts, so no request is answered from a cache. The baseline is ``score_file``
(what ``complaintkit score`` runs) on all those texts, with an empty cache too, timed before
and after the service runs (the machine is shared: the mean of both is the baseline).

Without --model, a bundle is trained first on --train-rows airline training tweets (the
complaint reason, 10 classes).

    python scripts/benchmark_serve.py --model models/airline
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

from complaintkit import Bundle, TrainConfig, train
from complaintkit.scoring import score_file

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("COMPLAINTKIT_SHARED_DATA", REPO.parent / "shared" / "data"))
CONFIGS = [(1, 1), (1, 4), (1, 16), (32, 1), (32, 4), (32, 16)]  # (texts per request, concurrent clients)


def cpu_flags() -> str:
    """The SIMD flags that decide the encoder's speed."""
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
        flags = next(line for line in cpuinfo if line.startswith("flags")).split()
    except (OSError, StopIteration):
        return "unknown"
    wanted = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_int8")
    return " ".join(f for f in wanted if f in flags) or "none of " + ", ".join(wanted)


def load() -> str:
    return "/".join(Path("/proc/loadavg").read_text().split()[:3])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tweets(train_rows: int, seed: int) -> tuple[pd.DataFrame, pd.Series]:
    """Training rows (labelled complaints) and the other tweets, shuffled and de-duplicated."""
    frame = pd.read_csv(SHARED / "airline" / "tweets.csv", dtype=str).dropna(subset=["text"])
    frame = frame.drop_duplicates("text").sample(frac=1.0, random_state=seed)
    labelled = frame[frame["negativereason"].notna()]
    training = labelled.head(train_rows)
    return training, frame.loc[~frame.index.isin(training.index), "text"]


def run_clients(url: str, batches: list[list[str]], clients: int) -> tuple[float, list[float]]:
    """Send ``batches`` from ``clients`` threads; return wall seconds and each request's latency."""
    latencies: list[float] = []
    lock = threading.Lock()
    queue = iter(batches)

    def client() -> None:
        with httpx.Client(timeout=300) as http:
            while True:
                with lock:
                    batch = next(queue, None)
                if batch is None:
                    return
                start = time.perf_counter()
                response = http.post(f"{url}/v1/score", json={"texts": batch})
                elapsed = time.perf_counter() - start
                response.raise_for_status()
                with lock:
                    latencies.append(elapsed)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start, latencies


def score_baseline(bundle: Bundle, texts: list[str], folder: Path, threads: int | None) -> float:
    """Texts/s of ``score_file`` on ``texts`` with an empty embedding cache."""
    cache = Path(tempfile.mkdtemp(dir=folder))
    os.environ["COMPLAINTKIT_CACHE_DIR"] = str(cache)
    source = folder / f"in-{cache.name}.csv"
    pd.DataFrame({bundle.text_cols[0]: texts}).to_csv(source, index=False)
    summary = score_file(bundle, source, folder / f"out-{cache.name}.parquet", threads=threads)
    return summary.rows_scored / summary.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="Bundle to serve. Default: train one on airline tweets.")
    parser.add_argument("--train-rows", type=int, default=1500)
    parser.add_argument("--requests-batch1", type=int, default=60, help="Requests per batch-1 configuration.")
    parser.add_argument("--requests-batch32", type=int, default=8, help="Requests per batch-32 configuration.")
    parser.add_argument("--threads", type=int, help="Torch threads for both (default: each chooses as score does).")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"CPU flags: {cpu_flags()}; {os.cpu_count()} cores; load average {load()}")
    folder = Path(tempfile.mkdtemp(prefix="benchmark-serve-"))
    training, pool = tweets(args.train_rows, args.seed)
    if args.model is None:
        started = time.perf_counter()
        bundle = train(training, TrainConfig(text_cols=("text",), label_col="negativereason"), name="airline-bench")
        args.model = bundle.save(folder / "airline-bench")
        print(f"trained {args.model} on {len(training)} airline tweets in {time.perf_counter() - started:.0f} s")
    bundle = Bundle.load(args.model)
    sizes = [batch * (args.requests_batch1 if batch == 1 else args.requests_batch32) for batch, _ in CONFIGS]
    if sum(sizes) > len(pool):
        raise SystemExit(f"need {sum(sizes)} unseen tweets, have {len(pool)}; lower --requests-*.")
    texts = pool.tolist()[: sum(sizes)]
    print(f"{len(texts)} unseen tweets, median {int(np.median([len(t) for t in texts]))} characters")

    baseline = [score_baseline(bundle, texts, folder, args.threads)]
    print(f"score before: {baseline[0]:.1f} texts/s (load {load()})")
    port = free_port()
    env = {**os.environ, "COMPLAINTKIT_CACHE_DIR": tempfile.mkdtemp(dir=folder)}
    command = [sys.executable, "-m", "complaintkit", "serve", "--model", str(args.model), "--port", str(port)]
    server = subprocess.Popen(command + (["--threads", str(args.threads)] if args.threads else []), env=env)
    url = f"http://127.0.0.1:{port}"
    rows = []
    try:
        deadline = time.monotonic() + 900  # a busy machine loads the model slowly
        while True:
            try:
                httpx.get(f"{url}/health").raise_for_status()
                break
            except httpx.TransportError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the service did not start; see its log above") from None
                time.sleep(0.5)
        offset = 0
        for (batch, clients), size in zip(CONFIGS, sizes, strict=True):
            chunk = texts[offset: offset + size]
            offset += size
            wall, latencies = run_clients(url, [chunk[i: i + batch] for i in range(0, size, batch)], clients)
            rows.append({"batch": batch, "clients": clients, "requests": len(latencies),
                         "requests_per_s": len(latencies) / wall, "texts_per_s": size / wall,
                         "p50_ms": 1000 * float(np.percentile(latencies, 50)),
                         "p95_ms": 1000 * float(np.percentile(latencies, 95)), "load": load()})
            print(f"batch {batch:2d}, {clients:2d} clients: {rows[-1]['requests_per_s']:7.1f} req/s, "
                  f"{rows[-1]['texts_per_s']:6.1f} texts/s, p50 {rows[-1]['p50_ms']:6.1f} ms, "
                  f"p95 {rows[-1]['p95_ms']:6.1f} ms (load {rows[-1]['load']})", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=60)
    baseline.append(score_baseline(bundle, texts, folder, args.threads))
    print(f"score after: {baseline[1]:.1f} texts/s (load {load()})")
    reference = float(np.mean(baseline))
    print(f"\n`complaintkit score` on the same {len(texts)} tweets: {reference:.1f} texts/s (mean of before/after)")
    print("| texts per request | clients | requests/s | texts/s | × score's texts/s | p50 ms | p95 ms "
          "| load (1/5/15 min) |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['batch']} | {r['clients']} | {r['requests_per_s']:.1f} | {r['texts_per_s']:.1f} | "
              f"{r['texts_per_s'] / reference:.2f} | {r['p50_ms']:.0f} | {r['p95_ms']:.0f} | {r['load']} |")


if __name__ == "__main__":
    main()
