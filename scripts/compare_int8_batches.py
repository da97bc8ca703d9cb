"""Texts per forward pass of the int8 encoder: ms per text and cosine to fp32, by task, same run.

For each task (airline tweets, banking77 queries, CFPB narratives cut into the embedder's 180-word
windows), ``--n`` random test texts are encoded by the int8 ONNX Runtime graph in length-sorted
batches of each size in ``--sizes`` (at most ``--max-tokens`` padded tokens past a batch's first
text) and each padding bound in ``--paddings`` (``inf``: batches padded to their longest text), ``--repeats``
times in turn; the table gives the median milliseconds per text and the mean
and 1st-percentile cosine of each vector to the fp32 encoder's (``SentenceTransformer.encode``).
The CPU's flags and the load average are printed: compare sizes within one run.

    python scripts/compare_int8_batches.py --threads 1 --sizes 8,16,32,64
    python scripts/compare_int8_batches.py --threads 1 --sizes 16 --paddings 0.25,inf --n 1500
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from _benchdata import load_task
from benchmark_scoring import cpu_summary
from complaintkit.embedding import load_sentence_transformer, onnx_encoder, resolve_model_path
from complaintkit.embedding.onnx_encoder import MAX_BATCH_TOKENS, MAX_PADDING, encode_int8
from complaintkit.text import split_into_chunks

TASKS = {"airline": "tweets", "banking77": "queries", "cfpb_product": "narrative windows"}


def sample_texts(task: str, n: int, seed: int = 0) -> list[str]:
    """``n`` random test texts of ``task`` (narratives as their 180-word windows, the first ``n`` of them)."""
    texts = load_task(task).test_texts
    chosen = [texts[i] for i in np.random.default_rng(seed).choice(len(texts), min(n, len(texts)), replace=False)]
    if task.startswith("cfpb"):
        chosen = [window for text in chosen for window in split_into_chunks(text, 180)][:n]
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--sizes", default="8,16,32,64")
    parser.add_argument("--max-tokens", type=int, default=MAX_BATCH_TOKENS)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--paddings", default=str(MAX_PADDING), help="comma-separated padding bounds (inf: none)")
    args = parser.parse_args()
    sizes = [(int(s), float(p)) for s in args.sizes.split(",") for p in args.paddings.split(",")]
    print(cpu_summary())
    path = resolve_model_path("all-MiniLM-L6-v2")
    texts = {task: sample_texts(task, args.n) for task in TASKS}
    fp32 = load_sentence_transformer(str(path))
    reference = {task: fp32.encode(t, normalize_embeddings=True) for task, t in texts.items()}
    encode_int8(path, texts["airline"][:8], 8, threads=args.threads)  # load the graph outside the timings
    times = {(task, size): [] for task in TASKS for size in sizes}
    vectors = {}
    loads = [os.getloadavg()[0]]
    for _ in range(args.repeats):
        for task in TASKS:
            for size in sizes:
                onnx_encoder.MAX_PADDING = size[1]
                began = time.perf_counter()
                vectors[task, size] = encode_int8(path, texts[task], size[0], threads=args.threads,
                                                  max_tokens=args.max_tokens)
                times[task, size].append((time.perf_counter() - began) / len(texts[task]) * 1000)
        loads.append(os.getloadavg()[0])
    print(f"\n{args.threads} thread(s), at most {args.max_tokens} padded tokens per batch, median of {args.repeats} "
          f"runs; load average (1 min) {min(loads):.2f}-{max(loads):.2f}")
    print("| task | texts | " + " | ".join(f"batch {s}, padding bound {p:g}: ms/text (cosine mean / 1st pct)"
                                         for s, p in sizes) + " |")
    print("|---|---|" + "---|" * len(sizes))
    for task, kind in TASKS.items():
        cells = []
        for size in sizes:
            cosine = np.sum(vectors[task, size] * reference[task], axis=1)
            cells.append(f"{np.median(times[task, size]):.2f} ({cosine.mean():.4f} / {np.percentile(cosine, 1):.4f})")
        print(f"| {task} | {len(texts[task])} {kind} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
