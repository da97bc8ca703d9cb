"""Throughput of `complaintkit score` against the naive path, on the same model and real texts.

Texts: CFPB narratives (data/cfpb/complaints.csv) mixed with airline tweets
(../shared/data/airline/tweets.csv; override the folder with COMPLAINTKIT_SHARED_DATA),
shuffled; when --n exceeds the distinct texts available the rest are repeats (reported).

Naive path: ``SentenceTransformer.encode`` with its default settings (fp32) on the same
chunks, scikit-learn's own ``TfidfVectorizer.transform`` for the head's TF-IDF blocks, then
the bundle's classifier (``predict_proba``); no cache, no de-duplication.
complaintkit: ``score_file`` (the local engine) with a fresh, empty embedding cache; "default"
is what ``complaintkit score`` does without options (``--precision auto``: bf16 on CPUs with
native bf16 matmul, else fp32; the resolved precision is printed).

The machine is shared, so the variants are interleaved block by block (each block of texts
is scored by every variant in turn) and only ratios from the same run are meaningful.

    python scripts/benchmark_scoring.py --model /tmp/bench-model --n 20000
"""

from __future__ import annotations

import argparse
import copy
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from complaintkit import Bundle
from complaintkit.embedding import load_sentence_transformer, resolve_model_path, resolve_precision
from complaintkit.engines.local import set_torch_threads
from complaintkit.scoring import score_file
from complaintkit.text import split_into_chunks

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("COMPLAINTKIT_SHARED_DATA", REPO.parent / "shared" / "data"))


def load_texts(n: int, seed: int = 0) -> tuple[list[str], int]:
    """``n`` shuffled real texts and how many of them are distinct."""
    cfpb = pd.read_csv(REPO / "data" / "cfpb" / "complaints.csv", dtype=str, usecols=["narrative"])["narrative"]
    tweets = pd.read_csv(SHARED / "airline" / "tweets.csv", dtype=str, usecols=["text"])["text"]
    pool = pd.concat([cfpb, tweets]).dropna()
    pool = pool[pool.str.strip() != ""].sample(frac=1.0, random_state=seed)
    if n > len(pool):
        pool = pd.concat([pool, pool.sample(n - len(pool), random_state=seed + 1)]).sample(frac=1.0, random_state=seed)
    texts = pool.iloc[:n].tolist()
    return texts, len(set(texts))


def plain_sklearn(step: object) -> object:
    """``step`` as scikit-learn's own ``TfidfVectorizer`` when it is a complaintkit subclass of it."""
    if not isinstance(step, TfidfVectorizer) or type(step) is TfidfVectorizer:
        return step
    plain = copy.copy(step)
    plain.__class__ = TfidfVectorizer
    return plain


def naive_predict(bundle: Bundle, texts: list[str]) -> np.ndarray:
    """The bundle's classes for ``texts`` via plain ``encode`` defaults and the head's classifier."""
    pipeline = bundle.root_cause.pipeline_
    normalised = pipeline.named_steps["normalise"].transform(texts)
    union = pipeline.named_steps["features"]
    blocks = []
    for name, step in union.transformer_list:
        weight = (union.transformer_weights or {}).get(name, 1.0)
        if name == "embedding":
            pieces = [split_into_chunks(t, step.max_words_per_chunk) for t in normalised]
            owners = np.repeat(np.arange(len(pieces)), [len(p) for p in pieces])
            encoder = load_sentence_transformer(str(resolve_model_path(step.model)))
            vectors = encoder.encode([c for p in pieces for c in p])
            pooled = np.zeros((len(pieces), vectors.shape[1]), dtype=np.float32)
            np.add.at(pooled, owners, vectors)
            pooled /= np.linalg.norm(pooled, axis=1, keepdims=True).clip(min=1e-12)
            blocks.append(sp.csr_matrix(pooled * weight))
        else:
            blocks.append(plain_sklearn(step).transform(normalised) * weight)
    proba = pipeline.named_steps["classifier"].predict_proba(sp.hstack(blocks).tocsr())
    return np.asarray(bundle.root_cause.classes_)[proba.argmax(axis=1)]


def complaintkit_predict(bundle: Bundle, texts: list[str], folder: Path, **options) -> np.ndarray:
    """The root causes ``score_file`` writes for ``texts``."""
    source, output = folder / "in.parquet", folder / "out.parquet"
    pd.DataFrame({bundle.text_cols[0]: texts}).to_parquet(source)
    score_file(bundle, source, output, overwrite=True, **options)
    return pd.read_parquet(output, columns=["root_cause"])["root_cause"].to_numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="bundle with a root-cause head")
    parser.add_argument("--n", type=int, default=20_000, help="texts to score")
    parser.add_argument("--block", type=int, default=2_000, help="texts per interleaved block")
    parser.add_argument("--variants", default="naive,default,threads1",
                        help="comma-separated: naive, default, fp32, threads1, fp32threads1, threads2, workers2, "
                             "bf16, bf16threads1")
    args = parser.parse_args()
    bundle = Bundle.load(args.model)
    texts, distinct = load_texts(args.n)
    words = np.array([len(t.split()) for t in texts])
    print(f"{len(texts)} texts ({distinct} distinct), words per text median {np.median(words):.0f}, "
          f"p95 {np.percentile(words, 95):.0f}; model {args.model}; --precision auto is "
          f"{resolve_precision('auto')} here; load average at start {os.getloadavg()[0]:.2f}")
    torch_default = __import__("torch").get_num_threads()
    variants = {
        "naive": lambda block, folder: naive_predict(bundle, block),
        "default": lambda block, folder: complaintkit_predict(bundle, block, folder),
        "threads1": lambda block, folder: complaintkit_predict(bundle, block, folder, threads=1),
        "fp32": lambda block, folder: complaintkit_predict(bundle, block, folder, precision="fp32"),
        "fp32threads1": lambda block, folder: complaintkit_predict(bundle, block, folder, precision="fp32", threads=1),
        "threads2": lambda block, folder: complaintkit_predict(bundle, block, folder, threads=2),
        "workers2": lambda block, folder: complaintkit_predict(bundle, block, folder, workers=2),
        "bf16": lambda block, folder: complaintkit_predict(bundle, block, folder, precision="bf16"),
        "bf16threads1": lambda block, folder: complaintkit_predict(bundle, block, folder, precision="bf16", threads=1),
    }
    chosen = args.variants.split(",")
    seconds = dict.fromkeys(chosen, 0.0)
    predicted: dict[str, list[np.ndarray]] = {name: [] for name in chosen}
    naive_predict(bundle, texts[:64])  # load the model outside the timings
    for start in range(0, len(texts), args.block):
        block = texts[start : start + args.block]
        for name in chosen:
            set_torch_threads(torch_default)
            with tempfile.TemporaryDirectory() as folder:
                os.environ["COMPLAINTKIT_CACHE_DIR"] = folder  # fresh caches: no variant reuses another's vectors
                began = time.perf_counter()
                predicted[name].append(variants[name](block, Path(folder)))
                seconds[name] += time.perf_counter() - began
        done = start + len(block)
        print(f"  {done} texts: " + ", ".join(f"{k} {done / v:.1f}/s" for k, v in seconds.items()), flush=True)
    print(f"load average at end (1, 5, 15 min): {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    reference = np.concatenate(predicted[chosen[0]])
    print(f"\n| variant | texts/s | × {chosen[0]} | agreement with {chosen[0]} |\n|---|---|---|---|")
    for name in chosen:
        agreement = float(np.mean(np.concatenate(predicted[name]) == reference))
        rate = len(texts) / seconds[name]
        print(f"| {name} | {rate:.1f} | {seconds[chosen[0]] / seconds[name]:.2f} | {agreement:.4f} |")


if __name__ == "__main__":
    main()
