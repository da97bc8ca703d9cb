"""Encoder speed levers on real texts: texts/s and cosine to the fp32 vectors, interleaved in one run.

Texts: the same mix as ``benchmark_scoring.py`` (CFPB narratives and airline tweets), split into
the embedder's chunks. Each block of texts is encoded by every variant in turn; the table gives
texts/s, the ratio to ``fp32`` (``SentenceTransformer.encode`` defaults, torch's threads) and the
cosine of each text's pooled vector to the fp32 one (mean and 1st percentile).

    python scripts/compare_encoder_levers.py --n 1000 --block 250 --variants fp32,int8,fp32t1,int8t1
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from benchmark_scoring import cpu_summary, load_texts
from complaintkit.embedding import load_sentence_transformer, resolve_model_path
from complaintkit.embedding.quantisation import quantised_copy
from complaintkit.text import normalise_text, split_into_chunks


def pooled(vectors: np.ndarray, owners: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros((n, vectors.shape[1]), dtype=np.float32)
    np.add.at(out, owners, vectors)
    return out / np.linalg.norm(out, axis=1, keepdims=True).clip(min=1e-12)


def per_tensor_int8(encoder):
    import copy

    import torch
    from torch.ao.quantization import quantize_dynamic

    return quantize_dynamic(copy.deepcopy(encoder), {torch.nn.Linear}, dtype=torch.qint8)


def int8_except(encoder, skipped: tuple[str, ...]):
    """int8 copy of ``encoder`` whose Linear layers named ``*<skipped>`` stay fp32."""
    quantised = quantised_copy(encoder)
    import copy

    for name, module in encoder.named_modules():
        if name.endswith(skipped) and name:
            parent_name, _, child = name.rpartition(".")
            parent = quantised.get_submodule(parent_name)
            setattr(parent, child, copy.deepcopy(module))
    return quantised


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--block", type=int, default=250)
    parser.add_argument("--max-words", type=int, default=180)
    parser.add_argument("--variants", default="fp32,fp32t1,int8,int8t1,int8pt,int8b16,int8b128,int8len128")
    args = parser.parse_args()
    import torch

    print(cpu_summary())
    texts, distinct = load_texts(args.n)
    texts = [normalise_text(t) for t in texts]
    fp32 = load_sentence_transformer(str(resolve_model_path("minilm")))
    int8 = quantised_copy(fp32)
    int8pt = per_tensor_int8(fp32)
    int8ffn = int8_except(fp32, ("output.dense",))  # FFN down-projections and attention outputs fp32
    int8ffn2 = int8_except(fp32, (".0.output.dense", ".5.output.dense"))  # first and last layers' outputs fp32
    default_threads = torch.get_num_threads()

    def run(model, batch=32, threads=None, max_seq=None):
        def encode(chunks):
            torch.set_num_threads(threads or default_threads)
            old = model.max_seq_length
            if max_seq:
                model.max_seq_length = max_seq
            try:
                return model.encode(chunks, batch_size=batch, normalize_embeddings=True, convert_to_numpy=True)
            finally:
                model.max_seq_length = old
        return encode

    variants = {
        "fp32": run(fp32), "fp32t1": run(fp32, threads=1), "int8": run(int8), "int8t1": run(int8, threads=1),
        "int8pt": run(int8pt), "int8keepout": run(int8ffn), "int8keepout2": run(int8ffn2),
        "int8keepoutt1": run(int8ffn, threads=1), "int8b16": run(int8, batch=16), "int8b128": run(int8, batch=128),
        "fp32b128": run(fp32, batch=128), "int8len128": run(int8, max_seq=128), "fp32len128": run(fp32, max_seq=128),
    }
    chosen = args.variants.split(",")
    seconds = dict.fromkeys(chosen, 0.0)
    vectors: dict[str, list[np.ndarray]] = {name: [] for name in chosen}
    run(fp32)(texts[:16])
    run(int8)(texts[:16])
    loads = [os.getloadavg()[0]]
    for start in range(0, len(texts), args.block):
        block = texts[start:start + args.block]
        pieces = [split_into_chunks(t, args.max_words) for t in block]
        chunks = [c for p in pieces for c in p]
        owners = np.repeat(np.arange(len(block)), [len(p) for p in pieces])
        for name in chosen:
            began = time.perf_counter()
            out = variants[name](chunks)
            seconds[name] += time.perf_counter() - began
            vectors[name].append(pooled(out, owners, len(block)))
        loads.append(os.getloadavg()[0])
        done = start + len(block)
        rates = ", ".join(f"{k} {done / v:.1f}/s" for k, v in seconds.items())
        print(f"  {done} texts, load {loads[-1]:.2f}: {rates}", flush=True)
    reference = np.vstack(vectors[chosen[0]])
    print(f"\n{len(texts)} texts ({distinct} distinct); load average (1 min) min {min(loads):.2f} max {max(loads):.2f}")
    print(f"| variant | texts/s | × {chosen[0]} | mean cosine | p1 cosine |\n|---|---|---|---|---|")
    for name in chosen:
        cos = np.sum(np.vstack(vectors[name]) * reference, axis=1)
        print(f"| {name} | {len(texts) / seconds[name]:.1f} | {seconds[chosen[0]] / seconds[name]:.2f} | "
              f"{cos.mean():.4f} | {np.percentile(cos, 1):.4f} |")


if __name__ == "__main__":
    main()
