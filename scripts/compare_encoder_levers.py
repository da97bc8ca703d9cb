"""Encoder speed levers on real texts: texts/s and cosine to the fp32 vectors, interleaved in one run.

Texts: the same mix as ``benchmark_scoring.py`` (CFPB narratives and airline tweets), split into
the embedder's chunks. Each block of texts is encoded by every variant in turn; the table gives
texts/s, the ratio to ``naive`` (``SentenceTransformer.encode`` defaults: fp32, batch 32, torch's
threads) and the cosine of each text's pooled vector to the naive one (mean and 1st percentile).
Variants: ``naive``, ``torchint8`` (torch dynamic int8 of every Linear layer, per-row scales) and
int8 ONNX Runtime graphs, all in length-sorted batches of 64 texts and at most 4,096 tokens:
``onnxint8`` (the graph as exported, MatMul weights int8 per channel), ``fused`` (what
``--precision int8`` runs: ONNX Runtime's transformer fusions before quantising), ``fusedpt``
(per-tensor weight scales), ``fusedu8`` (unsigned weights), ``fusedrr`` (7-bit weights),
``fusedspin`` (idle threads spin between kernels instead of sleeping), ``fusedtok8k`` (8,192-token batches),
``fusedb32`` (32-text batches). A ``t1`` suffix runs one thread instead of torch's default.

    python scripts/compare_encoder_levers.py --n 600 --block 200 --variants naive,onnxint8,fused,naivet1,fusedt1
"""

from __future__ import annotations

import argparse
import copy
import os
import time
import warnings

import numpy as np

from benchmark_scoring import cpu_summary, load_texts
from complaintkit.embedding import load_sentence_transformer, resolve_model_path
from complaintkit.embedding.onnx_encoder import DEFAULT_RECIPE, Int8Recipe, build_onnx_encoder, encode_int8
from complaintkit.text import normalise_text, split_into_chunks


def pooled(vectors: np.ndarray, owners: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros((n, vectors.shape[1]), dtype=np.float32)
    np.add.at(out, owners, vectors)
    return out / np.linalg.norm(out, axis=1, keepdims=True).clip(min=1e-12)


def torch_int8(encoder):
    """A copy of ``encoder`` whose Linear layers run in torch's dynamic int8 (fbgemm, per-row weight scales)."""
    import torch
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

        return quantize_dynamic(copy.deepcopy(encoder).eval(), {torch.nn.Linear: per_channel_dynamic_qconfig},
                                dtype=torch.qint8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--block", type=int, default=250)
    parser.add_argument("--max-words", type=int, default=180)
    parser.add_argument("--variants", default="naive,onnxint8,fused,naivet1,fusedt1")
    args = parser.parse_args()
    import torch

    print(cpu_summary())
    texts, distinct = load_texts(args.n)
    texts = [normalise_text(t) for t in texts]
    path = resolve_model_path("minilm")
    fp32 = load_sentence_transformer(str(path))
    default_threads = torch.get_num_threads()

    def run(encode, threads=None):
        def timed(chunks):
            torch.set_num_threads(threads or default_threads)
            return encode(chunks)
        return timed

    def st_encode(model):
        return lambda chunks: model.encode(chunks, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)

    def onnx_encode(recipe=DEFAULT_RECIPE, batch_size=64, **options):
        build_onnx_encoder(path, recipe=recipe)
        return lambda chunks: encode_int8(path, chunks, batch_size=batch_size, recipe=recipe, **options)

    makers = {"naive": lambda: st_encode(fp32), "torchint8": lambda: st_encode(torch_int8(fp32)),
              "onnxint8": lambda: onnx_encode(Int8Recipe(fuse=False)), "fused": onnx_encode,
              "fusedpt": lambda: onnx_encode(Int8Recipe(per_channel=False)),
              "fusedu8": lambda: onnx_encode(Int8Recipe(weight_type="u8")),
              "fusedrr": lambda: onnx_encode(Int8Recipe(reduce_range=True)),
              "fusedspin": lambda: onnx_encode(spinning=True),
              "fusedtok8k": lambda: onnx_encode(max_tokens=8192), "fusedb32": lambda: onnx_encode(batch_size=32)}
    chosen = args.variants.split(",")
    variants = {name: run(makers[name.removesuffix("t1")](), 1 if name.endswith("t1") else None) for name in chosen}
    seconds = dict.fromkeys(chosen, 0.0)
    vectors: dict[str, list[np.ndarray]] = {name: [] for name in chosen}
    for name in chosen:
        variants[name](texts[:16])  # load and build outside the timings
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
