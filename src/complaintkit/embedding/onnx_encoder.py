"""The encoder as an int8 ONNX Runtime graph: the fast path on CPUs without AMX bf16 tiles.

The local sentence-transformers model (transformer, pooling, then L2 normalisation) is exported
to ONNX from its own weights with ``torch.onnx.export``, ONNX Runtime's transformer fusions turn
each layer's attention, layer norms and GELU into single nodes, and the MatMul and attention weights
are quantised to int8 with one scale per output column (ONNX Runtime's dynamic quantisation:
activations are quantised batch by batch; the kernels need only AVX2). The graph is built once per model into the
embedding cache folder, keyed by the model's SHA-256 and the recipe, and reused by every run;
nothing is downloaded and nothing is pickled (an ``.onnx`` file is a protobuf graph).

Texts are tokenised once, sorted by token count and batched with padding to the longest text of
each batch only, so short texts never pay for long ones; batches of long texts are smaller (a
token budget), so a forward pass's activations stay around fifty MB.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import _logging
from .cache import default_cache_dir
from .models import load_sentence_transformer, model_fingerprint

ONNX_RUNTIME_LABEL = "onnxruntime int8"  # what run summaries record for this encoder
MAX_BATCH_TOKENS = 2048  # padded tokens per batch past its first text: eight 256-token windows
# Padded tokens per batch at most this much above its real ones: ten short queries of 8 to 38 tokens took
# 30 ms in one padded batch and 18 ms in batches of like lengths; large sets batch as before.
MAX_PADDING = 0.25


@dataclass(frozen=True)
class Int8Recipe:
    """How the int8 graph is built; every field is part of the graph's file name.

    Parameters
    ----------
    fuse : bool, default=True
        Run ONNX Runtime's transformer fusions (one Attention op per layer, SkipLayerNormalization,
        BiasGelu, EmbedLayerNormalization) on the fp32 graph before quantising, and quantise the
        fused attention's projections too.
    per_channel : bool, default=True
        One weight scale per output column (else one per tensor).
    weight_type : {"s8", "u8"}, default="s8"
        Signed or unsigned int8 weights (activations are always quantised to unsigned int8).
    reduce_range : bool, default=False
        7-bit weights, which avoid the saturation of AVX2's u8×s8 products.
    """

    fuse: bool = True
    per_channel: bool = True
    weight_type: str = "s8"
    reduce_range: bool = False

    @property
    def key(self) -> str:
        """A short fingerprint of the recipe (the export and the quantisation settings)."""
        text = (f"st-mean-normalised|opset17|{'bert-fusion|' if self.fuse else ''}dynamic-int8-matmul-"
                f"{'per-channel' if self.per_channel else 'per-tensor'}-{self.weight_type}"
                f"{'-reduce-range' if self.reduce_range else ''}|v2")
        return hashlib.sha256(text.encode()).hexdigest()[:8]


DEFAULT_RECIPE = Int8Recipe()


def onnx_encoder_path(model_sha256: str, cache_dir: str | os.PathLike | None = None,
                      recipe: Int8Recipe = DEFAULT_RECIPE) -> Path:
    """Where the int8 graph of the model with fingerprint ``model_sha256`` built by ``recipe`` is kept."""
    return Path(cache_dir or default_cache_dir()) / "onnx" / f"{model_sha256[:16]}-int8-{recipe.key}.onnx"


def _sentence_embedding_module(encoder: Any, input_names: tuple[str, ...]) -> Any:
    """The sentence-transformers ``encoder`` as a module mapping (ids, mask[, types]) to unit vectors."""
    import torch

    class SentenceEmbedding(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, *inputs: Any) -> Any:
            vectors = self.encoder(dict(zip(input_names, inputs, strict=True)))["sentence_embedding"]
            return torch.nn.functional.normalize(vectors, p=2.0, dim=1)

    return SentenceEmbedding().eval()


def _export_fp32_graph(model_path: str | os.PathLike, target: Path, eager_attention: bool) -> Any:
    """Write the fp32 ONNX graph of the model at ``model_path`` to ``target``; return the model's config."""
    import warnings

    import torch

    encoder = load_sentence_transformer(str(model_path))
    names = _input_names(encoder)
    if eager_attention:  # the fusions recognise the plain attention pattern, not torch's fused SDPA call
        encoder = copy.deepcopy(encoder)
        encoder[0].auto_model.set_attn_implementation("eager")
    example = torch.ones((2, 8), dtype=torch.long)
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")  # the tracer's notes on the attention mask; the shapes stay dynamic
        torch.onnx.export(_sentence_embedding_module(encoder, names), tuple(example for _ in names), str(target),
                          dynamo=False, opset_version=17, do_constant_folding=True,
                          input_names=list(names), output_names=["sentence_embedding"],
                          dynamic_axes={**{n: {0: "batch", 1: "tokens"} for n in names},
                                        "sentence_embedding": {0: "batch"}})
    return encoder[0].auto_model.config


def export_int8_graph(model_path: str | os.PathLike, target: str | os.PathLike,
                      recipe: Int8Recipe = DEFAULT_RECIPE) -> None:
    """Export the sentence-transformers model at ``model_path`` and write its int8 graph to ``target``."""
    import tempfile

    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory() as folder:
        plain = Path(folder) / "fp32.onnx"
        config = _export_fp32_graph(model_path, plain, eager_attention=recipe.fuse)
        logging.disable(logging.WARNING)  # the optimiser's and quantiser's advice goes to the root logger
        try:
            if recipe.fuse:
                from onnxruntime.transformers.optimizer import optimize_model

                fused = optimize_model(str(plain), model_type="bert", num_heads=config.num_attention_heads,
                                       hidden_size=config.hidden_size, opt_level=0)
                plain = Path(folder) / "fused.onnx"
                fused.save_model_to_file(str(plain))
            weights = QuantType.QInt8 if recipe.weight_type == "s8" else QuantType.QUInt8
            quantize_dynamic(str(plain), str(target), op_types_to_quantize=["MatMul", "Attention"],
                             per_channel=recipe.per_channel, reduce_range=recipe.reduce_range,
                             weight_type=weights, extra_options={"DefaultTensorType": 1})
        finally:
            logging.disable(logging.NOTSET)


def build_onnx_encoder(model_path: str | os.PathLike, cache_dir: str | os.PathLike | None = None,
                       overwrite: bool = False, recipe: Int8Recipe = DEFAULT_RECIPE) -> Path:
    """Build the int8 graph of the model at ``model_path`` into the cache folder (unless there); return its path."""
    target = onnx_encoder_path(model_fingerprint(model_path), cache_dir, recipe)
    if target.exists() and not overwrite:
        return target
    _logging.logger.info("building the int8 ONNX encoder of %s (once; kept in %s)", model_path, target.parent)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        export_int8_graph(model_path, tmp, recipe)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _input_names(encoder: Any) -> tuple[str, ...]:
    names = tuple(encoder.tokenizer.model_input_names)
    return tuple(n for n in ("input_ids", "attention_mask", "token_type_ids") if n in names)


@functools.lru_cache(maxsize=4)
def _session(path: str, threads: int, spinning: bool = False) -> Any:
    """An ONNX Runtime session on ``path``; idle threads spin between kernels only when ``spinning``."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
    return onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def length_sorted_batches(lengths: np.ndarray, batch_size: int, max_tokens: int = MAX_BATCH_TOKENS,
                          max_padding: float = MAX_PADDING) -> list[np.ndarray]:
    """Indices of ``lengths`` in batches, shortest first, so each batch pads little.

    A batch holds at most ``batch_size`` texts and, past its first text, at most ``max_tokens``
    tokens once padded: long texts go in smaller batches, which bounds the memory of a forward pass.
    Past its first text, a batch also pads to at most ``1 + max_padding`` times its real tokens, so
    a few texts of unlike lengths (the rows a cascade escalates) are not all padded to the longest.

    Examples
    --------
    >>> [b.tolist() for b in length_sorted_batches(np.array([50, 10, 30, 20]), 2, max_padding=1.0)]
    [[1, 3], [2, 0]]
    >>> [b.tolist() for b in length_sorted_batches(np.array([300, 10, 300, 300]), 8, max_tokens=600)]
    [[1], [0, 2], [3]]
    >>> [b.tolist() for b in length_sorted_batches(np.array([12, 40, 11, 10]), 16)]
    [[3, 2, 0], [1]]
    """
    order = np.argsort(lengths, kind="stable")
    batches, start = [], 0
    while start < len(order):
        stop, real = start + 1, int(lengths[order[start]])
        while stop < len(order) and stop - start < batch_size:
            padded = int(lengths[order[stop]]) * (stop + 1 - start)
            if padded > max_tokens or padded > (1 + max_padding) * (real + int(lengths[order[stop]])):
                break
            real += int(lengths[order[stop]])
            stop += 1
        batches.append(order[start:stop])
        start = stop
    return batches


def encode_int8(model_path: str | os.PathLike, texts: list[str], batch_size: int,
                cache_dir: str | os.PathLike | None = None, *, recipe: Int8Recipe = DEFAULT_RECIPE,
                threads: int | None = None, spinning: bool = False, max_tokens: int = MAX_BATCH_TOKENS) -> np.ndarray:
    """Unit vectors of ``texts`` from the int8 graph (built first if missing), one row per text.

    ``threads`` defaults to torch's thread count (which the load-aware default sets). Idle threads
    sleep between kernels unless ``spinning`` (spinning was slower on a shared 2-core machine:
    see docs/scoring-at-scale.md).
    """
    import torch

    encoder = load_sentence_transformer(str(model_path))
    graph = build_onnx_encoder(model_path, cache_dir, recipe=recipe)
    session = _session(str(graph), threads or torch.get_num_threads(), spinning)
    names = _input_names(encoder)
    tokens = encoder.tokenizer(texts, truncation=True, max_length=encoder.max_seq_length,
                               return_attention_mask=False, return_token_type_ids=False)["input_ids"]
    lengths = np.fromiter((len(t) for t in tokens), dtype=np.int64, count=len(tokens))
    pad = encoder.tokenizer.pad_token_id or 0
    vectors = np.zeros((len(texts), encoder.get_embedding_dimension()), dtype=np.float32)
    for batch in length_sorted_batches(lengths, batch_size, max_tokens, MAX_PADDING):  # read now: benchmarks vary it
        ids = np.full((len(batch), int(lengths[batch].max())), pad, dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, index in enumerate(batch):
            ids[row, :lengths[index]] = tokens[index]
            mask[row, :lengths[index]] = 1
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        vectors[batch] = session.run(None, {n: feed[n] for n in names})[0]
    return vectors
