"""Contrastive (SetFit-style) fine-tuning of the encoder: does it help the default root-cause head?

For each task, on the TRAIN split only, MiniLM is fine-tuned for one pass over a budget of
label pairs with one of two losses:
  cosine  SetFit's recipe: half same-label pairs (target 1), half different-label pairs
          (target 0), CosineSimilarityLoss
  mnrl    anchor/positive pairs of the same label in batches of distinct labels,
          MultipleNegativesRankingLoss (the other pairs of the batch are the negatives)
  supcon  complaintkit's own few-label fine-tuning (``fine_tune_encoder``: supervised contrastive
          loss over every pair of a batch of 32, the lowest 3 layers kept), ``--steps`` steps
Then complaintkit's default head (TF-IDF ⊕ embedding, calibrated LinearSVC) is fitted on the
fine-tuned encoder and compared with the same head on the frozen encoder, same split, same run.
With --embedding-only the heads are also fitted without TF-IDF, to show the encoder's own gain.

Usage: python scripts/benchmark_fine_tuning.py [--tasks banking77,airline] [--losses cosine,mnrl,supcon]
       [--pairs 8000] [--steps 320] [--out out/benchmark_fine_tuning.json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import time
from pathlib import Path

import numpy as np

from _benchdata import Task, load_task
from benchmark_accuracy import complaintkit_default
from complaintkit.embedding import DEFAULT_MODEL, resolve_model_path


def label_pairs(labels: np.ndarray, n_pairs: int,
                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SetFit-style pairs: half same-label (target 1.0), half different-label (target 0.0), shuffled."""
    by_label = {label: np.flatnonzero(labels == label) for label in np.unique(labels)}
    anchors = rng.integers(0, len(labels), n_pairs)
    partners = np.empty(n_pairs, dtype=int)
    targets = np.zeros(n_pairs, dtype=np.float32)
    targets[: n_pairs // 2] = 1.0
    for i, (anchor, target) in enumerate(zip(anchors, targets, strict=True)):
        same = by_label[labels[anchor]]
        if target:
            partners[i] = same[rng.integers(len(same))] if len(same) > 1 else anchor
        else:
            while labels[partner := rng.integers(len(labels))] == labels[anchor]:
                pass
            partners[i] = partner
    order = rng.permutation(n_pairs)
    return anchors[order], partners[order], targets[order]


def distinct_label_batches(labels: np.ndarray, n_pairs: int, batch_size: int,
                           rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
    """Anchor/positive batches in which no two pairs share a label (no false in-batch negatives)."""
    by_label = {label: np.flatnonzero(labels == label) for label in np.unique(labels)}
    names = np.asarray(sorted(by_label), dtype=object)
    per_batch = min(batch_size, len(names))
    batches = []
    for _ in range(max(1, n_pairs // per_batch)):
        chosen = rng.choice(names, per_batch, replace=False)
        anchors, positives = zip(*(rng.choice(by_label[c], 2, replace=len(by_label[c]) < 2) for c in chosen),
                                 strict=True)
        batches.append((np.asarray(anchors), np.asarray(positives)))
    return batches


def fine_tune(texts: list[str], labels: list[str], out: Path, loss_name: str, n_pairs: int, seed: int,
              batch_size: int = 32, learning_rate: float = 3e-5, max_seq_length: int = 128) -> float:
    """Fine-tune MiniLM on label pairs of ``texts`` for one pass, save it to ``out``; return seconds."""
    if loss_name == "supcon":
        return fine_tune_supcon(texts, labels, out, steps=n_pairs, seed=seed)
    import torch
    from sentence_transformers import SentenceTransformer, losses
    from transformers import get_linear_schedule_with_warmup

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    y = np.asarray(labels, dtype=object)
    model = SentenceTransformer(str(resolve_model_path(DEFAULT_MODEL)), device="cpu", local_files_only=True)
    model.max_seq_length = max_seq_length
    # The 30k x 384 token-embedding table is half the weights; freezing it halves the optimiser's work.
    model[0].auto_model.embeddings.word_embeddings.weight.requires_grad_(False)
    if loss_name == "cosine":
        a, b, t = label_pairs(y, n_pairs, rng)
        batches = [(a[i:i + batch_size], b[i:i + batch_size], torch.from_numpy(t[i:i + batch_size]))
                   for i in range(0, n_pairs, batch_size)]
        loss = losses.CosineSimilarityLoss(model)
    elif loss_name == "mnrl":
        batches = [(a, b, torch.zeros(len(a))) for a, b in distinct_label_batches(y, n_pairs, batch_size, rng)]
        loss = losses.MultipleNegativesRankingLoss(model)
    else:
        raise ValueError(f"unknown loss {loss_name!r}")
    optimiser = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=learning_rate)
    schedule = get_linear_schedule_with_warmup(optimiser, int(0.1 * len(batches)), len(batches))
    model.train()
    start = time.perf_counter()
    for step, (a, b, targets) in enumerate(batches, 1):
        features = [model.preprocess([texts[i] for i in a]), model.preprocess([texts[i] for i in b])]
        value = loss(features, targets)
        value.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
        schedule.step()
        optimiser.zero_grad()
        if step % 50 == 0 or step == len(batches):
            print(f"    step {step}/{len(batches)} loss {value.item():.4f} "
                  f"({time.perf_counter() - start:.0f}s)", flush=True)
    seconds = time.perf_counter() - start
    model.eval()
    model.save(str(out), create_model_card=False)
    return seconds


def fine_tune_supcon(texts: list[str], labels: list[str], out: Path, steps: int, seed: int) -> float:
    """complaintkit's few-label fine-tuning of MiniLM on ``texts`` for ``steps`` steps, into ``out``; seconds."""
    from complaintkit.fine_tuning import fine_tune_encoder

    start = time.perf_counter()
    folder = fine_tune_encoder(texts, labels, DEFAULT_MODEL, steps=steps, frozen_layers=3, random_state=seed,
                               output_dir=str(out.parent))
    if out.exists():
        shutil.rmtree(out)
    folder.rename(out)
    return time.perf_counter() - start


def score_head(task: Task, **params: object) -> dict:
    """The default head (with ``params``) fitted on the train split, scored on the test split."""
    result = complaintkit_default(task, **params)
    result.pop("predicted")
    return {**result, "head_seconds": result.pop("train_seconds")}


def show(name: str, row: dict) -> None:
    print(f"  {name:34s} accuracy {row['accuracy']:.3f} macro_f1 {row['macro_f1']:.3f} ECE {row['ece']:.3f} "
          f"C {row['C']} head {row['head_seconds']}s" + (f" fine-tune {row['fine_tune_seconds']}s"
                                                         if "fine_tune_seconds" in row else ""), flush=True)


def run_task(name: str, loss_names: list[str], n_pairs: int, steps: int, seed: int, embedding_only: bool,
             folder: Path) -> dict:
    task = load_task(name)
    print(f"{name}: {len(task.train_texts)} train / {len(task.test_texts)} test, "
          f"{len(set(task.train_labels))} classes; {n_pairs} pairs, seed {seed}", flush=True)
    results = {"frozen": score_head(task)}
    show("default head, frozen MiniLM", results["frozen"])
    if embedding_only:
        results["frozen_embedding_only"] = score_head(task, use_tfidf=False)
        show("embedding-only head, frozen", results["frozen_embedding_only"])
    for loss_name in loss_names:
        budget = steps if loss_name == "supcon" else n_pairs
        out = folder / f"{name}-{loss_name}-{budget}-seed{seed}"
        seconds = fine_tune(task.train_texts, task.train_labels, out, loss_name, budget, seed)
        row = {**score_head(task, embedding_model=str(out)), "fine_tune_seconds": round(seconds, 1)}
        results[f"fine_tuned_{loss_name}"] = row
        show(f"default head, fine-tuned ({loss_name})", row)
        if embedding_only:
            results[f"fine_tuned_{loss_name}_embedding_only"] = score_head(
                task, embedding_model=str(out), use_tfidf=False)
            show(f"embedding-only head, fine-tuned ({loss_name})", results[f"fine_tuned_{loss_name}_embedding_only"])
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", default="banking77,airline")
    parser.add_argument("--losses", default="cosine,mnrl")
    parser.add_argument("--pairs", type=int, default=2400, help="label pairs seen in the one training pass")
    parser.add_argument("--steps", type=int, default=320, help="optimiser steps of the supcon fine-tuning")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--embedding-only", action="store_true", help="also fit heads without TF-IDF")
    parser.add_argument("--models-dir", default="out/fine_tuned", help="where the fine-tuned encoders are saved")
    parser.add_argument("--out", default="out/benchmark_fine_tuning.json")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    folder = Path(args.models_dir)
    folder.mkdir(parents=True, exist_ok=True)
    results = {name: run_task(name, args.losses.split(","), args.pairs, args.steps, args.seed, args.embedding_only,
                             folder)
               for name in args.tasks.split(",")}
    print("\n| task | metric | frozen MiniLM | " + " | ".join(f"fine-tuned ({n})" for n in args.losses.split(","))
          + " |")
    print("|---|---|---|" + "---|" * len(args.losses.split(",")))
    for name, rows in results.items():
        metric = load_task(name).headline
        cells = [f"{rows[f'fine_tuned_{n}'][metric]:.3f} ({rows[f'fine_tuned_{n}']['fine_tune_seconds']:.0f}s)"
                 for n in args.losses.split(",")]
        print(f"| {name} | {metric} | {rows['frozen'][metric]:.3f} | {' | '.join(cells)} |")
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as handle:
        json.dump(results, handle, indent=2)


if __name__ == "__main__":
    main()
