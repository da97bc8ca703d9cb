"""Bundles trained the default way (``complaintkit train``) on the train split of each accuracy task: the full
head alone, and the same head behind the default cascade or the fast tier.

Used by the scoring benchmarks: trained once into a folder and reused (delete the folder to retrain).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from _benchdata import Task, load_task
from complaintkit import Bundle, TrainConfig, train
from complaintkit.config import FAST_TIER_MAX_F1_LOSS
from complaintkit.training import CASCADE_MAX_F1_LOSS, CASCADE_MIN_AGREEMENT, add_fast_tier

TASKS = ("airline", "banking77", "cfpb_product", "cfpb_issue")
CASCADES = {"cascade": (CASCADE_MAX_F1_LOSS, CASCADE_MIN_AGREEMENT),  # as train sets them
            "fast": (FAST_TIER_MAX_F1_LOSS, 0.0)}


def task_bundle(task: Task, folder: Path, cascade: str | None = None, precision: str = "fp32",
                long_texts: str = "chunks") -> Bundle:
    """The bundle of ``task`` in ``folder`` (trained and saved there first if missing).

    The ``needs_review`` threshold is not fitted (it does not change the predicted causes that the
    benchmarks compare). The head is trained on vectors of the encoder in ``precision`` ("fp32" by
    default, so that comparisons of the scoring encoders start from the plain encoder's vectors;
    "auto" is what ``complaintkit train`` uses); it has the full head alone (``train --cascade off``).
    With ``cascade`` ("cascade" or "fast") that bundle's head gets the default cascade
    (``train --cascade on``) or the fast tier (``train --fast-tier``), saved in ``folder``-<cascade>.
    A ``long_texts`` policy other than "chunks" (``TrainConfig.long_texts``) trains into ``folder``-<policy>.
    """
    if long_texts != "chunks":
        folder = folder.with_name(f"{folder.name}-{long_texts}")
    if cascade:
        path = folder.with_name(f"{folder.name}-{cascade}") / task.name
        if not (path / "metadata.json").exists():
            bundle = task_bundle(task, folder, precision=precision)
            began = time.perf_counter()
            max_f1_loss, min_agreement = CASCADES[cascade]
            bundle.root_cause = add_fast_tier(bundle.root_cause, task.train_texts, np.asarray(task.train_labels),
                                              bundle.metadata, max_f1_loss, min_agreement=min_agreement)
            bundle.save(path, overwrite=True)
            print(f"  added the {cascade} tier to {task.name} in {time.perf_counter() - began:.0f}s -> {path}",
                  flush=True)
        return Bundle.load(path)
    path = folder / task.name
    if not (path / "metadata.json").exists():
        frame = pd.DataFrame({"text": task.train_texts, "label": task.train_labels})
        began = time.perf_counter()
        config = TrainConfig(label_col="label", review_precision=None, precision=precision, long_texts=long_texts,
                             cascade="off")
        bundle = train(frame, config, name=task.name)
        bundle.save(path, overwrite=True)
        print(f"  trained {task.name} in {time.perf_counter() - began:.0f}s -> {path}", flush=True)
    return Bundle.load(path)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Train the benchmark bundles.")
    parser.add_argument("--folder", type=Path, default=Path("out/bench-bundles"))
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--cascades", default="", help="also the bundles with these cascades: cascade, fast")
    parser.add_argument("--precision", default="fp32", help="the encoder's precision while training (fp32, auto)")
    parser.add_argument("--long-texts", default="chunks", help="how long texts are embedded (chunks, head, head_tail)")
    args = parser.parse_args()
    for name in args.tasks.split(","):
        task_bundle(load_task(name), args.folder, precision=args.precision, long_texts=args.long_texts)
        for cascade in filter(None, args.cascades.split(",")):
            task_bundle(load_task(name), args.folder, cascade=cascade, precision=args.precision)
