"""Training a bundle from a labelled table."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from . import _logging
from .bundle import Bundle
from .config import TrainConfig
from .data_profile import training_profile
from .embedding import DEFAULT_MODEL
from .evaluation import evaluate, review_threshold
from .exceptions import InputError
from .heads import ChurnClassifier, RootCauseClassifier, ZeroShotClassifier, normalise_outcome
from .heads.few_label import choose_root_cause_head, fit_few_label
from .io import join_text_columns, read_table, require_columns
from .language import check_encoder_language
from .taxonomy import Taxonomy


def _data_fingerprint(data: str | Path | pd.DataFrame) -> tuple[str, str]:
    if isinstance(data, pd.DataFrame):
        digest = hashlib.sha256(pd.util.hash_pandas_object(data, index=False).to_numpy().tobytes())
        return "<DataFrame>", digest.hexdigest()
    digest = hashlib.sha256()
    paths = sorted(Path(data).rglob("*.parquet")) if Path(data).is_dir() else [Path(data)]
    for path in paths:
        digest.update(path.read_bytes())
    return str(data), digest.hexdigest()


def _nonempty(series: pd.Series) -> pd.Series:
    return series.notna() & (series.astype("string").str.strip().fillna("") != "")


def _check_labels(labels: pd.Series, column: str) -> None:
    counts = labels.value_counts()
    if counts.empty:
        raise InputError(
            f"the label column {column!r} is empty in every training row that has a text; "
            "fill it in or name the right column with --label-col."
        )
    if len(counts) < 2:
        raise InputError(
            f"the label column {column!r} has a single class {list(counts.index)}; "
            "a classifier needs at least two. Check the column or the split."
        )
    lonely = sorted(counts[counts < 2].index)
    if lonely:
        raise InputError(
            f"the label column {column!r} has classes with a single example: {lonely[:10]}; "
            "each class needs at least 2 training rows. Add examples, merge them or drop those rows."
        )


def fit_review_threshold(head: RootCauseClassifier, texts: pd.Series, labels: pd.Series,
                         precision: float, seed: int = 0) -> dict[str, Any]:
    """Choose the ``needs_review`` confidence threshold for ``precision`` on out-of-fold predictions."""
    folds = int(min(3, labels.value_counts().min()))
    if folds < 2:
        return {"threshold": 0.0, "rule": "off: a class has too few rows for out-of-fold predictions"}
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    refit = clone(head).set_params(C=head.C_, embedding_weight=head.embedding_weight_)  # settings already chosen
    proba = cross_val_predict(refit, texts.tolist(), labels.to_numpy(), cv=cv, method="predict_proba")
    classes = np.unique(labels.to_numpy())
    correct = classes[proba.argmax(axis=1)] == labels.to_numpy()
    threshold = review_threshold(proba.max(axis=1), correct, precision)
    coverage = float((proba.max(axis=1) >= threshold).mean())
    return {"threshold": threshold, "target_precision": precision, "oof_coverage": coverage,
            "rule": f"chosen on {folds}-fold out-of-fold predictions of the training rows "
                    f"(with the head's chosen C and embedding weight) for {precision:.0%} precision"}


def label_parents(labels: pd.Series, parents: pd.Series) -> dict[str, str]:
    """Map each label to its most frequent parent label."""
    pairs = pd.DataFrame({"label": labels.astype(str), "parent": parents.astype(str)})
    return {str(k): str(v) for k, v in pairs.groupby("label")["parent"].agg(lambda p: p.mode().iloc[0]).items()}


def train(data: str | Path | pd.DataFrame, config: TrainConfig, name: str | None = None,
          encoding: str = "utf-8-sig") -> Bundle:
    """Fit the heads asked for by ``config`` on ``data`` and return an unsaved bundle.

    With ``config.split_col``, rows marked ``train_split`` are fitted and rows marked
    ``test_split`` give the held-out metrics stored in the bundle. ``encoding`` is the
    text encoding of a CSV/TSV/JSONL ``data`` file.
    """
    frame = data if isinstance(data, pd.DataFrame) else read_table(data, encoding=encoding)
    roles = {"label": (config.label_col, "--label-col"), "parent label": (config.parent_col, "--parent-col"),
             "churn outcome": (config.churn_col, "--churn-col"),
             "split": (config.split_col, "--split-col")}
    roles.update({f"numeric ({c})": (c, "--numeric-col") for c in config.numeric_cols})
    roles.update({f"categorical ({c})": (c, "--categorical-col") for c in config.categorical_cols})
    require_columns(frame, {k: v for k, v in roles.items() if v[0] is not None})
    texts = join_text_columns(frame, config.text_cols)
    if not _nonempty(texts).any():
        raise InputError(f"the text column(s) {list(config.text_cols)} are empty in every row; "
                         "name the column that holds the complaint with --text-col.")
    train_rows = pd.Series(True, index=frame.index)
    test_rows = pd.Series(False, index=frame.index)
    if config.split_col:
        split = frame[config.split_col].astype(str)
        train_rows, test_rows = split == config.train_split, split == config.test_split
        if not train_rows.any():
            raise InputError(f"no rows have {config.split_col} == {config.train_split!r}; "
                             f"values found: {sorted(split.unique())[:10]}.")
    usable = train_rows & _nonempty(texts)
    dropped = {"empty_text": int((train_rows & ~_nonempty(texts)).sum())}
    source, sha = _data_fingerprint(data)
    metadata: dict[str, Any] = {
        "name": name,
        "columns": {"text": list(config.text_cols), "label": config.label_col, "churn": config.churn_col,
                    "numeric": list(config.numeric_cols), "categorical": list(config.categorical_cols)},
        "config": config.to_dict(),
        "redaction": {"kinds": list(config.redact), "applied": "before embedding, at training and scoring"},
        "heads": {},
    }
    heads: dict[str, Any] = {}
    languages = check_encoder_language(texts[usable], config.embedding_model)
    start = time.perf_counter()
    if config.label_col:
        rows = usable & _nonempty(frame[config.label_col])
        dropped["empty_label"] = int((usable & ~rows).sum())
        labels = frame.loc[rows, config.label_col].astype(str).str.strip()
        _check_labels(labels, config.label_col)
        path, reason = choose_root_cause_head(config.root_cause_head, labels)
        _logging.logger.info("training the %s root-cause head on %d rows, %d classes (%s)", path, len(labels),
                             labels.nunique(), reason)
        # row numbers of the training table identify the examples behind explanations
        if path == "few-label":
            head, chosen = fit_few_label(texts[usable], labels.reindex(texts[usable].index), config,
                                         example_ids=np.flatnonzero(usable.to_numpy()))
        else:
            head = RootCauseClassifier(embedding_model=config.embedding_model, speakers=config.speakers,
                                       redact=config.redact, calibration=config.calibration)
            head.fit(texts[rows].tolist(), labels.to_numpy(), example_ids=np.flatnonzero(rows.to_numpy()))
            chosen = {"C": head.C_, "embedding_weight": head.embedding_weight_, "calibration": head.calibration_,
                      "cv_macro_f1": head.cv_macro_f1_}
        heads["root_cause"] = head
        metadata["heads"]["root_cause"] = {
            "labels": [str(c) for c in head.classes_], "params": head.get_params(),
            "path": {"head": path, "reason": reason}, "chosen": chosen,
            "label_counts": {str(k): int(v) for k, v in labels.value_counts().items()}}
        if config.parent_col:
            metadata["hierarchy"] = label_parents(labels, frame.loc[rows, config.parent_col])
        if config.review_precision is not None and path == "few-label":
            metadata["review"] = {"threshold": 0.0, "rule": "off: few-label training has too few rows per class "
                                  "for out-of-fold predictions (each fold would fine-tune the encoder again)"}
        elif config.review_precision is not None:
            _logging.logger.info("choosing the needs_review threshold on out-of-fold predictions")
            metadata["review"] = fit_review_threshold(head, texts[rows], labels, config.review_precision,
                                                      config.seed)
    if config.churn_col:
        rows = usable & frame[config.churn_col].notna()
        dropped["missing_outcome"] = int((usable & ~rows).sum())
        normalise_outcome(frame.loc[rows, config.churn_col], config.churn_col)
        inputs = frame.loc[rows].assign(text=texts[rows])
        head = ChurnClassifier(embedding_model=config.embedding_model, numeric_cols=config.numeric_cols,
                               categorical_cols=config.categorical_cols, redact=config.redact)
        _logging.logger.info("training churn head on %d rows", int(rows.sum()))
        heads["churn"] = head.fit(inputs, frame.loc[rows, config.churn_col])
        metadata["heads"]["churn"] = {"params": head.get_params()}
    if any(dropped.values()):
        _logging.logger.warning("rows left out of training (counted in the bundle's metadata): %s",
                                {k: v for k, v in dropped.items() if v})
    metadata["training_data"] = {"path": source, "sha256": sha, "rows": int(len(frame)),
                                 "rows_used": int(usable.sum()), "dropped": dropped,
                                 "languages": languages,
                                 "seconds": round(time.perf_counter() - start, 1)}
    metadata["training_profile"] = training_profile(frame[usable], texts[usable], config.label_col)
    bundle = Bundle(metadata=metadata, **heads)
    if test_rows.any():
        _logging.logger.info("evaluating on %d held-out rows", int(test_rows.sum()))
        metrics = evaluate(bundle, frame[test_rows], precision="fp32")  # the encoder as trained
        metadata["metrics_precision"] = metrics.pop("precision")
        metadata["metrics"] = metrics
        metadata["metrics_split"] = {"column": config.split_col, "value": config.test_split}
    return bundle


def train_zero_shot(taxonomy: Taxonomy, embedding_model: str = DEFAULT_MODEL, name: str | None = None,
                    text_cols: tuple[str, ...] = ("text",)) -> Bundle:
    """A bundle whose root-cause head scores complaints by similarity to ``taxonomy``'s causes.

    No labelled complaint is used: the probabilities are a softmax of similarities,
    calibrated on nothing, so no ``needs_review`` threshold is set.
    """
    texts, labels = taxonomy.prototype_table()
    head = ZeroShotClassifier(embedding_model=embedding_model)
    _logging.logger.info("embedding %d descriptions and examples of %d causes", len(texts), len(taxonomy.causes))
    head.fit(texts, labels)
    metadata: dict[str, Any] = {
        "name": name,
        "kind": "zero-shot",
        "columns": {"text": list(text_cols), "label": None, "churn": None, "numeric": [], "categorical": []},
        "heads": {"root_cause": {"labels": [str(c) for c in head.classes_], "params": head.get_params()}},
        "taxonomy": {"path": taxonomy.source, "languages": taxonomy.languages,
                     "causes": {c.id: {"name": c.name, "dimension": c.dimension} for c in taxonomy.causes}},
        "review": {"threshold": 0.0, "rule": "off: a zero-shot model is calibrated on nothing"},
        "training_data": {"path": taxonomy.source, "sha256": _data_fingerprint(Path(taxonomy.source))[1]
                          if Path(taxonomy.source).is_file() else None,
                          "rows": len(texts), "rows_used": len(texts), "dropped": {}},
        "notes": ["Zero-shot: trained on no labelled complaint. Each cause is the mean embedding of its "
                  "description and example phrases; a complaint's scores are a softmax (temperature "
                  f"{head.temperature}) of its cosine similarity to each cause. The probabilities are "
                  "calibrated on nothing: read them as a ranking, not as frequencies.",
                  "Label a few hundred complaints (`complaintkit suggest` picks which) and train a "
                  "supervised model as soon as you can."],
    }
    return Bundle(metadata=metadata, root_cause=head)
