"""Throughput and accuracy of `complaintkit score` variants against the naive path, interleaved, same run.

Each accuracy task (airline reasons, banking77, CFPB product, CFPB issue; ``scripts/_benchdata.py``)
has a bundle with the full head alone, trained on its train split (``scripts/_scoring_bundles.py``: fp32
embeddings, ``--cascade off``), the same head behind the cascade ``complaintkit train`` adds by default
from 1,000 labelled rows (the ``cascade`` variant), and behind the fast tier of ``--fast-tier`` (``fast``).
Their test texts are scored by every variant in turn, block by block, each time with an empty embedding
store; the cache folder stays the same for the whole run, as in one ``score`` process, so the int8
encoder's session and the static table are loaded once, like the models.

Naive path: the block's input file read with pandas, ``SentenceTransformer.encode`` with its default
settings (fp32, torch's threads) on the same chunks, scikit-learn's own ``TfidfVectorizer.transform`` for
the head's TF-IDF blocks, then the bundle's classifier (``predict_proba``), the causes written to a
Parquet file; no cache, no de-duplication. Every variant reads the same input file, written before the
clock starts, and writes its output file; reading the output back for the comparison is not timed.
Variants run ``score_file``:
"default" is what ``complaintkit score`` does without options (``--precision auto`` and the load-aware
thread count; both printed) on the full-head bundle, "cascade" and "fast" the same on the cascade bundles,
the others set one option each; "default-<policy>" (e.g. ``default-head_tail``)
is "default" on a bundle trained with ``TrainConfig(long_texts=<policy>)`` (one window per long text), and
"naive-trunc" is the naive path on whole texts, which ``encode`` truncates at the model's 256 tokens (the
default bundle's classifier). Reported per variant: texts/s, the
ratio to naive, agreement with naive's causes, and macro-F1 (accuracy for banking77 too) per task on
the timed texts. ``--full-accuracy`` adds macro-F1 on every test row, scored with a persistent cache
(not timed); there the naive path's vectors are the fp32 ones (it agrees with fp32 on every timed text).

The machine is shared: only ratios from the same run mean something; the load average is printed.

    python scripts/benchmark_scoring.py --n 150 --block 50 --variants naive,default,fp32,threads1,int8,fast
"""

from __future__ import annotations

import argparse
import copy
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from _benchdata import Task, cpu_flags, label_scores, load_task
from _scoring_bundles import CASCADES, TASKS, task_bundle
from complaintkit import Bundle
from complaintkit.embedding import (
    default_batch_size,
    load_sentence_transformer,
    native_bf16_flag,
    onnx_encoder,
    resolve_model_path,
    resolve_precision,
)
from complaintkit.engines.local import default_threads, set_torch_threads
from complaintkit.scoring import score_file
from complaintkit.text import LONG_TEXT_POLICIES, split_into_chunks, text_windows

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


def cpu_summary() -> str:
    """The CPU's model, its SIMD/bf16 flags of interest and what ``--precision auto`` resolves to."""
    return (f"CPU: {cpu_flags()}; native bf16: {native_bf16_flag() or 'none'}; --precision auto resolves to "
            f"{resolve_precision('auto')}; the int8 graph's batches: {default_batch_size('int8')} texts; "
            f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def plain_sklearn(step: object) -> object:
    """``step`` as scikit-learn's own ``TfidfVectorizer`` when it is a complaintkit subclass of it."""
    if not isinstance(step, TfidfVectorizer) or type(step) is TfidfVectorizer:
        return step
    plain = copy.copy(step)
    plain.__class__ = TfidfVectorizer
    return plain


def naive_predict(bundle: Bundle, texts: list[str], truncate: bool = False) -> np.ndarray:
    """The bundle's classes for ``texts`` via plain ``encode`` defaults and the head's classifier.

    The embedding is of the head's chunks, mean-pooled, or with ``truncate`` of each whole text (``encode``
    truncates it at the model's token limit).
    """
    pipeline = bundle.root_cause.pipeline_
    normalised = pipeline.named_steps["normalise"].transform(texts)
    union = pipeline.named_steps["features"]
    blocks = []
    for name, step in union.transformer_list:
        weight = (union.transformer_weights or {}).get(name, 1.0)
        if name == "embedding":
            pieces = [[t] if truncate else split_into_chunks(t, step.max_words_per_chunk) for t in normalised]
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


def naive_run(bundle: Bundle, source: Path, output: Path, truncate: bool = False) -> None:
    """The naive path from file to file: read ``source``, :func:`naive_predict`, write the causes to ``output``."""
    texts = pd.read_parquet(source, columns=[bundle.text_cols[0]])[bundle.text_cols[0]].tolist()
    pd.DataFrame({"root_cause": naive_predict(bundle, texts, truncate)}).to_parquet(output)


Variant = Callable[[dict[str, Bundle], Path, Path], object]
SCORE_OPTIONS = {
    "default": {}, "fp32": {"precision": "fp32"}, "threads1": {"threads": 1},
    "fp32threads1": {"precision": "fp32", "threads": 1}, "threads2": {"threads": 2}, "workers2": {"workers": 2},
    "int8": {"precision": "int8"}, "int8threads1": {"precision": "int8", "threads": 1},
    "int8threads2": {"precision": "int8", "threads": 2}, "bf16": {"precision": "bf16"},
    "bf16threads1": {"precision": "bf16", "threads": 1},
}


def variant(name: str) -> Variant:
    """How variant ``name`` turns an input file into an output file: ``naive``, a ``score_file`` option set, or
    ``cascade[...]`` or ``fast[...]``; ``<variant>@batch<N>`` runs it with N texts per forward pass,
    ``<variant>@padded`` with the int8 graph's batches padded to their longest text however unlike (no
    ``MAX_PADDING`` bound: how batches were cut before it)."""
    if name.endswith("@padded"):  # batches of the int8 graph padded to their longest text, however unlike
        run = variant(name.removesuffix("@padded") or "default")

        def padded_batches(bundles: dict[str, Bundle], source: Path, output: Path) -> object:
            bound, onnx_encoder.MAX_PADDING = onnx_encoder.MAX_PADDING, float("inf")
            try:
                return run(bundles, source, output)
            finally:
                onnx_encoder.MAX_PADDING = bound
        return padded_batches
    if "@batch" in name:
        name, size = name.split("@batch")
        run = variant(name or "default")  # a cascade's warm-up passes "@batch<N>" alone

        def with_batch_size(bundles: dict[str, Bundle], source: Path, output: Path) -> object:
            embedders = [e for bundle in bundles.values() for e in bundle.embedders]
            saved = [e.batch_size for e in embedders]
            for embedder in embedders:
                embedder.batch_size = int(size)
            try:
                return run(bundles, source, output)
            finally:
                for embedder, old in zip(embedders, saved, strict=True):
                    embedder.batch_size = old
        return with_batch_size
    if name in ("naive", "naive-trunc"):
        return lambda bundles, source, output: naive_run(bundles["default"], source, output, name == "naive-trunc")
    if name.startswith("default-"):  # the bundle trained with that long_texts policy, scored as "default"
        bundle, options = name.removeprefix("default-"), {}
    elif name.startswith(("fast", "cascade")):  # that cascade's bundle, with the options of the rest of the name
        bundle = "fast" if name.startswith("fast") else "cascade"
        options = SCORE_OPTIONS[name.removeprefix(bundle) or "default"]
    else:
        bundle, options = "default", SCORE_OPTIONS[name]
    return lambda bundles, source, output: score_file(bundles[bundle], source, output, overwrite=True, **options)


def write_input(bundle: Bundle, texts: list[str], folder: Path) -> Path:
    """``texts`` as the Parquet input file every variant reads (written before any clock starts)."""
    source = folder / "in.parquet"
    pd.DataFrame({bundle.text_cols[0]: texts}).to_parquet(source)
    return source


def predict(name: str, bundles: dict[str, Bundle], texts: list[str], folder: Path) -> np.ndarray:
    """The causes variant ``name`` writes for ``texts`` (untimed: warming up, whole-split accuracy)."""
    output = folder / f"{name}.parquet"
    variant(name)(bundles, write_input(bundles["default"], texts, folder), output)
    return pd.read_parquet(output, columns=["root_cause"])["root_cause"].to_numpy()


def timing_cache(folder: Path, derived_from: Path) -> Path:
    """``folder`` as the embedding cache of the timings, seeing the static table and the int8 graph of ``derived_from``.

    Both are derived from the model once per machine, like the model itself. The folder stays the same for
    the whole run, as a ``score`` process's cache folder does, so the encoder's session and the static table
    are loaded once (a new folder per block made every block load them again); :func:`empty_vectors` empties
    its vectors before every variant's block.
    """
    os.environ["COMPLAINTKIT_CACHE_DIR"] = str(folder)
    for derived in ("static", "onnx"):
        if (derived_from / derived).is_dir():
            os.symlink(derived_from / derived, folder / derived)
    return folder


def empty_vectors(folder: Path) -> None:
    """Delete the embedding store of ``folder``: no variant reuses another's vectors, or a block's earlier ones."""
    for path in folder.glob("embeddings.sqlite*"):
        path.unlink()


def timed_run(tasks: list[Task], bundles: dict[str, dict[str, Bundle]], chosen: list[str], n: int,
              block_size: int, cache: Path) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, np.ndarray]],
                                                     dict[str, list[str]]]:
    """Seconds and predicted causes per variant and task, every block scored by every variant in turn, each
    with the empty embedding store of the timing cache folder ``cache``."""
    torch_default = __import__("torch").get_num_threads()
    seconds = {name: dict.fromkeys((task.name for task in tasks), 0.0) for name in chosen}
    predicted = {name: {task.name: [] for task in tasks} for name in chosen}
    sampled = {}
    rng = np.random.default_rng(0)
    for task in tasks:
        take = rng.permutation(len(task.test_texts))[: n or None]
        sampled[task.name] = take
    blocks = [(task, start) for start in range(0, max(len(t) for t in sampled.values()), block_size) for task in tasks
              if start < len(sampled[task.name])]
    done = 0
    for task, start in blocks:
        block = [task.test_texts[i] for i in sampled[task.name][start:start + block_size]]
        with tempfile.TemporaryDirectory() as inputs:
            source = write_input(bundles[task.name]["default"], block, Path(inputs))
            for name in chosen:
                set_torch_threads(torch_default)
                empty_vectors(cache)
                with tempfile.TemporaryDirectory() as folder:
                    output = Path(folder) / "out.parquet"
                    began = time.perf_counter()
                    variant(name)(bundles[task.name], source, output)
                    seconds[name][task.name] += time.perf_counter() - began
                    predicted[name][task.name].append(pd.read_parquet(output, columns=["root_cause"])["root_cause"]
                                                      .to_numpy())
        done += len(block)
        print(f"  {done} texts ({task.name}), load {os.getloadavg()[0]:.2f}: "
              + ", ".join(f"{k} {done / sum(v.values()):.1f}/s" for k, v in seconds.items()), flush=True)
    labels = {task.name: [task.test_labels[i] for i in sampled[task.name]] for task in tasks}
    return seconds, {k: {t: np.concatenate(v) for t, v in p.items()} for k, p in predicted.items()}, labels


def full_accuracy(tasks: list[Task], bundles: dict[str, dict[str, Bundle]], chosen: list[str],
                  cache: Path) -> dict[str, dict[str, dict[str, float]]]:
    """Scores of every variant on every test row, with a persistent cache (naive: the fp32 vectors)."""
    os.environ["COMPLAINTKIT_CACHE_DIR"] = str(cache)
    scores: dict[str, dict[str, dict[str, float]]] = {}
    for name in chosen:
        scores[name] = {}
        for task in tasks:
            with tempfile.TemporaryDirectory() as folder:
                predicted = predict("fp32" if name == "naive" else name, bundles[task.name], task.test_texts,
                                    Path(folder))
            scores[name][task.name] = label_scores(task.test_labels, predicted)
        print(f"  full test splits, {name}: " + ", ".join(f"{t} {v['macro_f1']:.4f}" for t, v in scores[name].items()),
              flush=True)
    return scores


def escalation(tasks: list[Task], bundles: dict[str, dict[str, Bundle]], cascade: str) -> dict[str, float]:
    """Share of each task's test rows the ``cascade`` bundle hands to the full head."""
    shares = {}
    for task in tasks:
        head = bundles[task.name][cascade].root_cause
        texts = head.full_.pipeline_.named_steps["normalise"].transform(task.test_texts)
        shares[task.name] = float(head.escalated(texts)[1].mean())
    return shares


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--n", type=int, default=150, help="test texts per task to time (0: all)")
    parser.add_argument("--block", type=int, default=50, help="texts per interleaved block")
    parser.add_argument("--variants", default="naive,default,fp32,threads1,int8,fast",
                        help="comma-separated: naive, naive-trunc, " + ", ".join(SCORE_OPTIONS)
                        + ", default-<long_texts policy>, cascade, cascade<option set>, fast, fast<option set>;"
                        " any of them followed by @batch<N> (N texts per forward pass, e.g. default@batch64)"
                        " or @padded (batches padded to their longest text, without the padding bound)")
    parser.add_argument("--bundles", type=Path, default=REPO / "out" / "bench-bundles",
                        help="folder of the default bundles (trained there when missing)")
    parser.add_argument("--full-accuracy", action="store_true", help="also macro-F1 on every test row (not timed)")
    parser.add_argument("--cache", type=Path, default=REPO / "out" / "cache",
                        help="persistent embedding cache for training and --full-accuracy")
    args = parser.parse_args()
    chosen = args.variants.split(",")
    print(cpu_summary())
    print(f"thread default now: {default_threads(1) or 'torch default'} ({__import__('torch').get_num_threads()} "
          "torch threads)")
    os.environ["COMPLAINTKIT_CACHE_DIR"] = str(args.cache)
    tasks = [load_task(name) for name in args.tasks.split(",")]
    bundles = {}
    for task in tasks:
        bundles[task.name] = {"default": task_bundle(task, args.bundles)}
        for policy in (name.removeprefix("default-") for name in chosen if name.startswith("default-")):
            bundles[task.name][policy] = task_bundle(task, args.bundles, long_texts=policy)
        for cascade in CASCADES:
            if any(name.startswith(cascade) for name in chosen):
                bundles[task.name][cascade] = task_bundle(task, args.bundles, cascade=cascade)
    # Load the models (and build the int8 copy, the static table) outside the timings; a cascade variant also
    # warms its encoder through the default bundle, as its few texts may all stay with the fast head.
    warm = [*chosen, *(name.removeprefix(cascade) or "default" for name in chosen for cascade in CASCADES
                       if name.startswith(cascade))]
    timing = tempfile.TemporaryDirectory()
    cache = timing_cache(Path(timing.name), args.cache)
    for name in dict.fromkeys(warm):
        empty_vectors(cache)
        with tempfile.TemporaryDirectory() as folder:
            predict(name, bundles[tasks[0].name], tasks[0].test_texts[-8:], Path(folder))
    for task in tasks:  # how many encoder windows each variant's texts become
        normalised = bundles[task.name]["default"].root_cause.pipeline_.named_steps["normalise"].transform(
            task.test_texts)
        counts = {policy: sum(len(text_windows(t, 180, policy)) for t in normalised) for policy in LONG_TEXT_POLICIES}
        print(f"{task.name}: {len(normalised)} test texts, {sum(len(t.split()) > 180 for t in normalised)} longer "
              "than 180 words; windows per text: " + ", ".join(f"{k} {v / len(normalised):.2f}" for k, v in
                                                              counts.items()), flush=True)
    per_task, predicted, labels = timed_run(tasks, bundles, chosen, args.n, args.block, cache)
    timing.cleanup()
    seconds = {name: sum(by_task.values()) for name, by_task in per_task.items()}
    print(f"load average at end (1, 5, 15 min): {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    total = sum(len(v) for v in labels.values())
    reference = chosen[0]
    names = [t.name for t in tasks]
    print(f"\n{total} timed texts ({', '.join(f'{k} {len(v)}' for k, v in labels.items())})")
    print(f"| variant | texts/s | × {reference} | agreement with {reference} | "
          + " | ".join(f"{n} macro-F1" for n in names) + " |")
    print("|---|---|---|---|" + "---|" * len(names))
    for name in chosen:
        agree = np.mean(np.concatenate([predicted[name][t] == predicted[reference][t] for t in names]))
        f1 = [label_scores(labels[t], predicted[name][t])["macro_f1"] for t in names]
        print(f"| {name} | {total / seconds[name]:.1f} | {seconds[reference] / seconds[name]:.2f} | {agree:.4f} | "
              + " | ".join(f"{v:.3f}" for v in f1) + " |")
    if len(names) > 1:
        print(f"\nper task: texts/s (× {reference})\n| variant | " + " | ".join(names) + " |")
        print("|---|" + "---|" * len(names))
        for name in chosen:
            cells = [f"{len(labels[t]) / per_task[name][t]:.1f} ({per_task[reference][t] / per_task[name][t]:.2f})"
                     for t in names]
            print(f"| {name} | " + " | ".join(cells) + " |")
    for cascade in (c for c in CASCADES if any(name.startswith(c) for name in chosen)):
        print(f"{cascade}: share of test rows escalated to the full head: "
              + ", ".join(f"{k} {v:.1%}" for k, v in escalation(tasks, bundles, cascade).items()))
        for task in tasks:
            info = bundles[task.name][cascade].metadata["heads"]["root_cause"]["fast_tier"]
            print(f"  {task.name}: threshold {info['threshold']:.3f}, out-of-fold {info['out_of_fold']}")
    if args.full_accuracy:
        scores = full_accuracy(tasks, bundles, chosen, args.cache)
        extra = " banking77 accuracy |" if "banking77" in names else ""
        print("\n| variant | " + " | ".join(f"{n} macro-F1 (Δ points vs {reference})" for n in names) + " |" + extra)
        print("|---|" + "---|" * (len(names) + bool(extra)))
        for name in chosen:
            cells = [f"{scores[name][t]['macro_f1']:.4f} "
                     f"({100 * (scores[name][t]['macro_f1'] - scores[reference][t]['macro_f1']):+.2f})" for t in names]
            if "banking77" in names:
                cells.append(f"{scores[name]['banking77']['accuracy']:.4f}")
            print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
