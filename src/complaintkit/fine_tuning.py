"""Contrastive fine-tuning of the sentence encoder on a few labelled complaints.

SetFit's idea (pull texts of one label together, push other labels apart), trained with a
supervised contrastive loss over every pair of a batch rather than one pair at a time, so a
few dozen optimiser steps do the work of SetFit's hundreds. The result is a
sentence-transformers folder (safetensors weights) that :class:`SentenceTransformerEmbedder`
loads like any other model; it is never pickled.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from . import _logging
from .embedding import default_cache_dir, model_fingerprint, resolve_model_path

MARKER = "complaintkit_fine_tuning.json"  # written last: a folder without it is incomplete


def supervised_contrastive_loss(embeddings, labels, temperature: float):
    """Mean over anchors of −log(mass of same-label texts among all others), on cosine similarities.

    ``embeddings`` is a ``(batch, dim)`` torch tensor, ``labels`` a ``(batch,)`` integer tensor.
    Anchors with no other text of their label in the batch are skipped.
    """
    import torch
    import torch.nn.functional as F

    unit = F.normalize(embeddings, dim=1)
    logits = unit @ unit.T / temperature
    self_mask = torch.eye(len(labels), dtype=torch.bool)
    logits = logits.masked_fill(self_mask, float("-inf"))
    positives = (labels[:, None] == labels[None, :]) & ~self_mask
    log_prob = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    has_positive = positives.any(dim=1)
    per_anchor = -(log_prob.masked_fill(~positives, 0.0).sum(dim=1) / positives.sum(dim=1).clamp(min=1))
    return per_anchor[has_positive].mean()


def balanced_batches(labels: np.ndarray, steps: int, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Row indices of ``steps`` batches, each of several labels with (where possible) 2+ rows of each.

    Every row is used before any is repeated within a label.
    """
    by_label = {label: np.flatnonzero(labels == label) for label in np.unique(labels)}
    per_label = max(2, batch_size // max(2, min(len(by_label), batch_size // 2)))
    queues = {label: [] for label in by_label}
    batches = []
    for _ in range(steps):
        chosen = rng.permutation(list(by_label))[: max(2, batch_size // per_label)]
        rows = []
        for label in chosen:
            for _ in range(min(per_label, len(by_label[label]))):
                if not queues[label]:
                    queues[label] = list(rng.permutation(by_label[label]))
                rows.append(queues[label].pop())
        batches.append(np.asarray(rows))
    return batches


def length_groups(rows: np.ndarray, lengths: np.ndarray, groups: int = 4) -> list[np.ndarray]:
    """``rows`` split into at most ``groups`` runs of similar ``lengths`` (shortest first).

    Padding each run to its own longest text instead of the batch's saves most of the padded
    positions when lengths vary (about half of them on short queries).
    """
    ordered = rows[np.argsort(lengths[rows], kind="stable")]
    return [part for part in np.array_split(ordered, min(groups, len(ordered))) if len(part)]


def _frozen_modules(transformer, frozen_layers: int) -> list:
    """The modules of a BERT-like ``transformer`` that fine-tuning keeps: the word-embedding table
    (half the weights; keeps rare words where they were), plus the whole input embedding and the first
    ``frozen_layers`` layers when that is above 0."""
    layers = transformer.encoder.layer
    if not 0 <= frozen_layers < len(layers):
        raise ValueError(f"frozen_layers must be between 0 and {len(layers) - 1} (the encoder has {len(layers)} "
                         f"layers); got {frozen_layers!r}.")
    if not frozen_layers:
        return [transformer.get_input_embeddings()]
    return [transformer.embeddings, *layers[:frozen_layers]]


def _replay_module(outputs: list, as_tuple: bool):
    """A torch module standing in for an encoder's kept (untrained) layers: it returns their output.

    The kept layers give every text the same output at every step, so fine-tuning runs them once
    per text (without dropout), and each step only the trained layers. ``select`` picks the texts of
    the next forward pass; their padding positions are zeros, which the attention mask and the mean
    pooling ignore as they ignore the padding tokens' states.
    """
    import torch

    class KeptLayersReplay(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.batch = None

        def select(self, rows: np.ndarray, length: int) -> None:
            self.batch = torch.zeros(len(rows), length, outputs[0].shape[-1])
            for slot, row in enumerate(rows):
                self.batch[slot, : len(outputs[row])] = outputs[row]

        def forward(self, hidden_states, *args, **kwargs):
            return (self.batch,) if as_tuple else self.batch

    return KeptLayersReplay()


class _EveryLayerRuns:
    def select(self, rows: np.ndarray, length: int) -> None:
        """Nothing is replayed."""


@contextlib.contextmanager
def _replayed_kept_layers(model, texts: Sequence[str], frozen_layers: int, batch_size: int):
    """Within the block, ``model``'s first ``frozen_layers`` layers are a replay of their outputs on ``texts``."""
    if not frozen_layers:
        yield _EveryLayerRuns()
        return
    import torch

    transformer = model[0].auto_model
    layers = transformer.encoder.layer
    returned: list = []
    hook = layers[frozen_layers - 1].register_forward_hook(lambda module, args, output: returned.append(output))
    outputs: list = [None] * len(texts)
    order = np.argsort([len(text) for text in texts], kind="stable")
    transformer.encoder.layer = layers[:frozen_layers]
    model.eval()
    try:
        with torch.no_grad():
            for start in range(0, len(texts), batch_size):
                rows = order[start : start + batch_size]
                features = model.preprocess([texts[i] for i in rows])
                inputs = {k: v for k, v in features.items() if k in ("input_ids", "attention_mask", "token_type_ids")}
                hidden = transformer(**inputs).last_hidden_state
                for row, states, length in zip(rows, hidden, features["attention_mask"].sum(dim=1), strict=True):
                    outputs[row] = states[: int(length)].clone()
        replay = _replay_module(outputs, as_tuple=isinstance(returned[0], tuple))
        transformer.encoder.layer = torch.nn.ModuleList([replay, *layers[frozen_layers:]])
        yield replay
    finally:
        hook.remove()  # the replay took its layer's place; nothing more to record
        transformer.encoder.layer = layers


def _digest(base_sha: str, texts: Sequence[str], labels: Sequence[str], settings: dict) -> str:
    digest = hashlib.sha256(base_sha.encode())
    digest.update(json.dumps(settings, sort_keys=True).encode())
    for text, label in zip(texts, labels, strict=True):
        digest.update(f"{len(text)}:{text}\x00{label}\x00".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def fine_tune_encoder(texts: Sequence[str], labels: Sequence[str], base_model: str, steps: int = 40,
                      batch_size: int = 32, learning_rate: float = 5e-5, temperature: float = 0.1,
                      max_seq_length: int = 128, frozen_layers: int = 0, random_state: int = 0,
                      output_dir: str | None = None) -> Path:
    """Fine-tune ``base_model`` on labelled ``texts`` and return the folder of the new encoder.

    Parameters
    ----------
    texts, labels : sequence of str
        The labelled examples, one label per text.
    base_model : str
        Alias or folder of the encoder to start from (see :func:`resolve_model_path`).
    steps : int, default=40
        Optimiser steps (AdamW, linear decay after 10% warm-up, gradients clipped at 1).
    batch_size : int, default=32
        Texts per step, drawn several per label so each batch holds positives and negatives.
    learning_rate : float, default=5e-5
    temperature : float, default=0.1
        Temperature of :func:`supervised_contrastive_loss`.
    max_seq_length : int, default=128
        Token limit while training (the saved encoder keeps its own limit for embedding).
    frozen_layers : int, default=0
        Transformer layers kept as they are, counted from the input. With any, the whole input
        embedding is kept too, the kept layers run once per text rather than at every step, and
        backpropagation stops at the first trained layer, so each step costs only the trained
        layers. With none, only the word-embedding table is kept.
    random_state : int, default=0
        Seeds batch sampling and torch, so the same inputs give the same weights.
    output_dir : str or None, default=None
        Parent folder of the result; ``None`` is ``<embedding cache>/encoders``. The folder is
        named by a hash of the base model, the examples and the settings, and reused when
        present.

    Returns
    -------
    pathlib.Path
        A sentence-transformers folder (``model.safetensors`` and configuration).
    """
    import torch
    from sentence_transformers import SentenceTransformer

    base_path = resolve_model_path(base_model)
    settings = {"steps": steps, "batch_size": batch_size, "learning_rate": learning_rate,
                "temperature": temperature, "max_seq_length": max_seq_length, "frozen_layers": frozen_layers,
                "random_state": random_state,
                "loss": "supervised contrastive", "padding": "per length group", "torch": torch.__version__}
    name = _digest(model_fingerprint(base_path), texts, labels, settings)[:24]
    parent = Path(output_dir) if output_dir else default_cache_dir() / "encoders"
    target = parent / name
    if (target / MARKER).exists():
        _logging.logger.info("reusing the fine-tuned encoder in %s", target)
        return target
    label_ids = np.unique(np.asarray(labels, dtype=object), return_inverse=True)[1]
    rng = np.random.default_rng(random_state)
    batches = balanced_batches(label_ids, steps, batch_size, rng)
    torch.manual_seed(random_state)
    model = SentenceTransformer(str(base_path), device="cpu", local_files_only=True)
    saved_length = model.max_seq_length
    model.max_seq_length = min(max_seq_length, saved_length)
    for module in _frozen_modules(model[0].auto_model, frozen_layers):
        module.requires_grad_(False)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(trainable, lr=learning_rate)
    warmup = max(1, steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: min((step + 1) / warmup, max(0.0, (steps - step) / max(1, steps - warmup))))
    _logging.logger.info("fine-tuning the encoder: %d steps of %d texts, %d labels", steps, batch_size,
                         len(set(label_ids.tolist())))
    lengths = np.array([len(ids) for ids in model.tokenizer(list(texts), truncation=True,
                                                             max_length=model.max_seq_length)["input_ids"]])
    with _replayed_kept_layers(model, texts, frozen_layers, batch_size) as replay:
        model.train()
        for rows in batches:
            parts = length_groups(rows, lengths)
            embeddings = []
            for part in parts:  # the loss sees the whole batch; only the padding is per group
                features = model.preprocess([texts[i] for i in part])
                replay.select(part, features["input_ids"].shape[1])
                embeddings.append(model(features)["sentence_embedding"])
            loss = supervised_contrastive_loss(torch.cat(embeddings),
                                               torch.as_tensor(label_ids[np.concatenate(parts)]), temperature)
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            optimiser.step()
            schedule.step()
        model.eval()
    model.max_seq_length = saved_length
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=parent))
    try:
        model.save(str(staging), create_model_card=False)
        (staging / "README.md").unlink(missing_ok=True)
        (staging / MARKER).write_text(json.dumps({"base_model_sha256": model_fingerprint(base_path),
                                                  **settings}, indent=2, sort_keys=True))
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target
