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
from .embedding import DEFAULT_MODEL, ENGLISH_ONLY_MODELS, encoder_runtime, resolve_precision
from .evaluation import churn_metrics, evaluate, review_threshold, root_cause_metrics
from .exceptions import InputError
from .explain import embed_for_head
from .heads import (
    AdaptiveZeroShotClassifier,
    ChurnClassifier,
    RootCauseClassifier,
    ZeroShotClassifier,
    normalise_outcome,
)
from .heads.cascade import CascadeRootCauseClassifier
from .heads.few_label import FewLabelClassifier, choose_root_cause_head, fit_few_label
from .heads.self_training import estimated_review_threshold
from .io import join_text_columns, read_table, require_columns
from .label_issues import (
    DOUBTFUL_RULE,
    HEAD_METHOD,
    LABEL_ISSUE_FOLDS,
    LABEL_ISSUES_FILE,
    METHOD,
    doubtful_rows,
    embedding_oof_proba,
    find_label_issues,
    label_issues_summary,
    with_dropped_rows,
)
from .language import check_encoder_language
from .private_labels import mask_label_issues, mask_metadata
from .redaction import redact
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


def out_of_fold_proba(head: RootCauseClassifier) -> tuple[np.ndarray, int]:
    """Out-of-fold probabilities of the rows ``head`` was just fitted on (from its calibration folds,
    with its chosen settings and calibrator), and the number of folds.

    Columns follow the sorted labels (``head.classes_``).
    """
    return head.held_out_proba_, head.held_out_folds_


def fit_review_threshold(head: RootCauseClassifier, labels: pd.Series, precision: float,
                         oof: tuple[np.ndarray, int] | None = None, z: float = 0.0) -> dict[str, Any]:
    """Choose the ``needs_review`` confidence threshold for ``precision`` on out-of-fold predictions.

    ``labels`` are the rows ``head`` was fitted on; ``oof`` are other out-of-fold predictions of them
    (default: :func:`out_of_fold_proba`'s); ``z`` > 0
    asks the precision's Wilson lower bound to reach ``precision`` (see :func:`review_threshold`).
    """
    proba, folds = oof or out_of_fold_proba(head)
    classes = np.unique(labels.to_numpy())
    correct = classes[proba.argmax(axis=1)] == labels.to_numpy()
    threshold = review_threshold(proba.max(axis=1), correct, precision, z)
    coverage = float((proba.max(axis=1) >= threshold).mean())
    return {"threshold": threshold, "target_precision": precision, "oof_coverage": coverage,
            "rule": f"chosen on {folds}-fold out-of-fold predictions of the training rows "
                    f"(with the head's chosen settings) for {precision:.0%} precision"}


# The default cascade (TrainConfig.cascade): from this many labelled rows, at this agreement with the full head
# and this macro-F1 loss out of fold (docs/scoring-at-scale.md measures them on four tasks).
CASCADE_MIN_ROWS = 1000
CASCADE_MIN_AGREEMENT = 0.99
CASCADE_MAX_F1_LOSS = 0.005
FEW_LABEL_REVIEW_Z = 1.645  # one-sided 95%: the few-label needs_review threshold asks the precision's lower bound


def few_label_review_threshold(head: FewLabelClassifier, labels: pd.Series, precision: float) -> dict[str, Any]:
    """The ``needs_review`` threshold of a few-label head, from its held-out probabilities (``oof_proba_``).

    With so few rows, the precision that must reach ``precision`` is its one-sided 95% Wilson lower
    bound, not the observed share: a few dozen lucky rows do not open the gate.
    """
    if head.oof_proba_ is None:
        return {"threshold": 0.0, "rule": "off: a class has a single labelled row, too few for held-out predictions"}
    found = fit_review_threshold(head, labels.reset_index(drop=True), precision,
                                 oof=(head.oof_proba_, head.oof_folds_), z=FEW_LABEL_REVIEW_Z)
    if found["threshold"] > 1.0:  # no confidence is certified: flag every prediction short of 1.0 (bundles keep [0, 1])
        found.update(threshold=1.0, oof_coverage=float((head.oof_proba_.max(axis=1) >= 1.0).mean()))
    found["rule"] = (f"chosen on {head.oof_folds_}-fold held-out predictions of the labelled rows: the "
                     "lowest confidence at which the one-sided 95% lower bound of their precision is "
                     f"{precision:.0%}; each fold predicted by an encoder fine-tuned without it (half the steps) "
                     "and a regression on its embeddings, temperature-scaled")
    return found


def cross_validated_metrics(head: RootCauseClassifier, labels: pd.Series, proba: np.ndarray,
                            folds: int) -> dict[str, Any]:
    """:func:`~complaintkit.evaluation.root_cause_metrics` of out-of-fold predictions (with bootstrap
    95% intervals of macro-F1 and accuracy), and how they were made."""
    return {**root_cause_metrics(labels.to_numpy(), proba, head.classes_),
            "method": f"{folds}-fold out-of-fold predictions of the training rows (the calibration's folds), with "
                      "the settings, text features and calibration fitted on all of them; percentile bootstrap "
                      "95% intervals over the rows"}


def cross_validated_churn_metrics(head: ChurnClassifier, inputs: pd.DataFrame, outcome: np.ndarray,
                                  seed: int = 0) -> dict[str, Any] | None:
    """:func:`~complaintkit.evaluation.churn_metrics` (with bootstrap 95% intervals) of 3-fold out-of-fold
    churn probabilities; ``None`` when an outcome has fewer than 2 rows."""
    folds = int(min(3, np.bincount(outcome, minlength=2).min()))
    if folds < 2:
        return None
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    probability = cross_val_predict(clone(head), inputs, outcome, cv=cv, method="predict_proba")[:, 1]
    return {**churn_metrics(outcome, probability),
            "method": f"{folds}-fold out-of-fold predictions of the training rows; percentile bootstrap 95% "
                      "intervals over the rows"}


def quality_summary(metadata: dict[str, Any]) -> dict[str, Any] | None:
    """The training run's headline quality figure: held-out metrics when a split was given, else
    cross-validated ones; ``None`` when there is neither (e.g. a churn-only bundle without a split)."""
    for kind, key in (("held-out", "metrics"), ("cross-validated", "cv_metrics")):
        source = metadata.get(key, {})
        for head, values in source.items():
            if head in ("root_cause", "churn"):
                keys = ("macro_f1", "accuracy") if head == "root_cause" else ("roc_auc", "pr_auc")
                return {"head": head, "kind": kind, "rows": values.get("rows"),
                        **{k: values[k] for k in keys}, "ci": {k: values.get("ci", {}).get(k) for k in keys}}
    return None


def _row_ids(frame: pd.DataFrame, rows: pd.Series, id_col: str | None) -> np.ndarray:
    """The ids that name training rows (in explanations): the id column, else the row number in the table."""
    return frame.loc[rows, id_col].astype(str).to_numpy() if id_col else np.flatnonzero(rows.to_numpy())


def refit_with_chosen_settings(head: RootCauseClassifier, texts: pd.Series, labels: pd.Series,
                               example_ids: np.ndarray) -> tuple[RootCauseClassifier, tuple[np.ndarray, int] | None]:
    """``head`` fitted again on ``texts`` with the settings its search chose (no new search), and its
    :func:`out_of_fold_proba` on them."""
    _logging.logger.info("refitting the root-cause head on the %d rows left and its out-of-fold predictions",
                         len(labels))
    refit = clone(head).set_params(C=head.C_, embedding_weight=head.embedding_weight_, use_tfidf=head.use_tfidf_,
                                   char_ngrams=head.char_ngrams_)
    refit.fit(texts.tolist(), labels.to_numpy(), example_ids=example_ids)
    return refit, out_of_fold_proba(refit)


def add_fast_tier(head: RootCauseClassifier, texts: list[str], labels: np.ndarray, metadata: dict[str, Any],
                  max_f1_loss: float = 0.01, seed: int = 0, full_oof_proba: np.ndarray | None = None,
                  min_agreement: float = 0.0) -> CascadeRootCauseClassifier:
    """The fitted root-cause ``head`` behind a fast tier; what was chosen goes into ``metadata``.

    The threshold keeps the out-of-fold macro-F1 within ``max_f1_loss`` of the head's and the
    cascade's answers the head's on at least ``min_agreement`` of the rows.
    ``full_oof_proba``: the head's out-of-fold probabilities (:func:`out_of_fold_proba`) when computed already.
    """
    _logging.logger.info("training the fast head of the scoring cascade and choosing its threshold on out-of-fold "
                         "predictions")
    cascade = CascadeRootCauseClassifier(head, max_f1_loss=max_f1_loss, min_agreement=min_agreement,
                                         random_state=seed)
    cascade.fit(texts, labels, full_oof_proba=full_oof_proba)
    agreement = f" and answers as the full head does on at least {min_agreement:.0%} of them" if min_agreement else ""
    metadata["heads"]["root_cause"]["fast_tier"] = {
        "threshold": cascade.threshold_, "out_of_fold": cascade.oof_,
        "fast_head": {"embedding_model": cascade.fast_.embedding_model, "C": cascade.fast_.C_,
                      "embedding_weight": cascade.fast_.embedding_weight_},
        "rule": "rows whose fast-head confidence is below the threshold go to the full head; the threshold is the "
                f"lowest that keeps out-of-fold macro-F1 within {max_f1_loss:.3f} of the full head's{agreement}"}
    return cascade


def cascade_bounds(config: TrainConfig, n_rows: int) -> tuple[float, float] | None:
    """The cascade ``train`` adds for ``config`` on ``n_rows`` labelled rows, as (max macro-F1 loss,
    min agreement with the full head), or ``None`` for none."""
    if config.fast_tier:
        return config.fast_tier_max_f1_loss, 0.0
    if config.cascade == "on" or (config.cascade == "auto" and n_rows >= CASCADE_MIN_ROWS):
        return CASCADE_MAX_F1_LOSS, CASCADE_MIN_AGREEMENT
    return None


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
    roles = {"id": (config.id_col, "--id-col"), "label": (config.label_col, "--label-col"),
             "parent label": (config.parent_col, "--parent-col"),
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
    files: dict[str, bytes] = {}
    steps = _logging.Steps(sum(map(bool, (config.label_col, config.label_col, config.churn_col, test_rows.any()))))
    languages = check_encoder_language(texts[usable], config.embedding_model)
    precision = resolve_precision(config.precision)
    start = time.perf_counter()
    if config.label_col:
        rows = usable & _nonempty(frame[config.label_col])
        dropped["empty_label"] = int((usable & ~rows).sum())
        labels = frame.loc[rows, config.label_col].astype(str).str.strip()
        _check_labels(labels, config.label_col)
        path, reason = choose_root_cause_head(config.root_cause_head, labels)
        steps.next("training the %s root-cause head on %d rows, %d classes (%s)", path, len(labels),
                   labels.nunique(), reason)
        if path == "few-label":
            head, chosen = fit_few_label(texts[usable], labels.reindex(texts[usable].index), config,
                                         example_ids=_row_ids(frame, usable, config.id_col))
        else:
            head = RootCauseClassifier(embedding_model=config.embedding_model, speakers=config.speakers,
                                       redact=config.redact, calibration=config.calibration, precision=precision,
                                       long_texts=config.long_texts, n_jobs=config.n_jobs)
            head.fit(texts[rows].tolist(), labels.to_numpy(), example_ids=_row_ids(frame, rows, config.id_col),
                     keep_text_block_outputs=cascade_bounds(config, len(labels)) is not None)
            chosen = {**head.chosen_settings(), "calibration": head.calibration_,
                      "cv_macro_f1": head.cv_macro_f1_, "cv_scheme": head.cv_scheme_}
        heads["root_cause"] = head
        metadata["heads"]["root_cause"] = {
            "labels": [str(c) for c in head.classes_], "params": head.get_params(),
            "path": {"head": path, "reason": reason}, "chosen": chosen,
            "label_counts": {str(k): int(v) for k, v in labels.value_counts().items()}}
        if config.parent_col:
            metadata["hierarchy"] = label_parents(labels, frame.loc[rows, config.parent_col])
        oof = None
        if path == "few-label":
            if config.drop_doubtful_labels:
                _logging.logger.warning("--drop-doubtful-labels: no row left out; a few-label head has too few "
                                        "labelled rows to doubt any of them")
            if config.review_precision is not None:
                metadata["review"] = few_label_review_threshold(head, labels, config.review_precision)
        else:
            steps.next("out-of-fold predictions for the needs_review threshold and doubtful labels")
            oof = out_of_fold_proba(head)
        if oof is not None:
            ids = frame.loc[rows, config.id_col] if config.id_col else np.flatnonzero(rows.to_numpy())
            vectors = embed_for_head(head, texts[rows].tolist())  # from the embedding cache: computed by the fit
            folds = min(LABEL_ISSUE_FOLDS, oof[1])
            proba, folds = oof if vectors is None else (
                embedding_oof_proba(vectors, labels.tolist(), folds, config.seed), folds)
            issues = find_label_issues(proba, labels.tolist(), head.classes_, list(ids), texts[rows].tolist())
            summary = label_issues_summary(issues, len(labels), folds, HEAD_METHOD if vectors is None else METHOD)
            if config.drop_doubtful_labels:
                doubtful = doubtful_rows(oof[0], labels.tolist(), head.classes_)
                issues = with_dropped_rows(issues, doubtful, proba, labels.tolist(), head.classes_, list(ids),
                                           texts[rows].tolist())
                summary["dropped"] = {"rows": int(doubtful.sum()), "rule": DOUBTFUL_RULE}
                dropped["doubtful_label"] = int(doubtful.sum())
                if doubtful.any():
                    rows &= ~rows.index.isin(labels.index[doubtful])
                    labels = labels[~doubtful]
                    head, oof = refit_with_chosen_settings(head, texts[rows], labels,
                                                           _row_ids(frame, rows, config.id_col))
                    metadata["heads"]["root_cause"]["label_counts"] = {
                        str(k): int(v) for k, v in labels.value_counts().items()}
                    heads["root_cause"] = head
            if config.private_labels:
                issues = mask_label_issues(issues, head.classes_)
            files[LABEL_ISSUES_FILE] = issues.to_csv(index=False).encode()
            metadata["label_issues"] = summary
        if config.review_precision is not None and oof is not None:
            metadata["review"] = fit_review_threshold(head, labels, config.review_precision, oof=oof)
        if oof is not None:
            metadata["cv_metrics"] = {"root_cause": cross_validated_metrics(head, labels, *oof)}
        bounds = cascade_bounds(config, len(labels))
        if bounds and path == "few-label":
            if config.fast_tier or config.cascade == "on":
                _logging.logger.warning("no cascade for a few-label head: it is trained on too few rows to choose one")
        elif bounds:
            cascade = add_fast_tier(head, texts[rows].tolist(), labels.to_numpy(), metadata, bounds[0], config.seed,
                                    full_oof_proba=None if oof is None else oof[0], min_agreement=bounds[1])
            if np.isfinite(cascade.threshold_) or config.fast_tier:
                heads["root_cause"] = cascade
            else:
                metadata["heads"]["root_cause"]["fast_tier"]["kept"] = False
                _logging.logger.info("no fast-head threshold keeps the cascade within its bounds: the full head "
                                     "answers every row")
    if config.churn_col:
        rows = usable & frame[config.churn_col].notna()
        dropped["missing_outcome"] = int((usable & ~rows).sum())
        outcome = normalise_outcome(frame.loc[rows, config.churn_col], config.churn_col)
        inputs = frame.loc[rows].assign(text=texts[rows])
        head = ChurnClassifier(embedding_model=config.embedding_model, numeric_cols=config.numeric_cols,
                               categorical_cols=config.categorical_cols, redact=config.redact, precision=precision)
        steps.next("training the churn head on %d rows", int(rows.sum()))
        heads["churn"] = head.fit(inputs, frame.loc[rows, config.churn_col])
        metadata["heads"]["churn"] = {"params": head.get_params()}
        if not test_rows.any():
            _logging.logger.info("out-of-fold churn predictions of the training rows (CV metrics)")
            churn_cv = cross_validated_churn_metrics(head, inputs, outcome, config.seed)
            if churn_cv is not None:
                metadata.setdefault("cv_metrics", {})["churn"] = churn_cv
    if any(dropped.values()):
        _logging.logger.warning("rows left out of training (counted in the bundle's metadata): %s",
                                {k: v for k, v in dropped.items() if v})
    metadata["training_data"] = {"path": redact(source, config.redact), "sha256": sha, "rows": int(len(frame)),
                                 "rows_used": int(usable.sum()), "dropped": dropped,
                                 "languages": languages, "encoder": encoder_runtime(precision),
                                 "seconds": round(time.perf_counter() - start, 1)}
    metadata["training_profile"] = training_profile(frame[usable], texts[usable], config.label_col)
    bundle = Bundle(metadata=metadata, files=files, **heads)
    if test_rows.any():
        steps.next("evaluating on %d held-out rows", int(test_rows.sum()))
        metrics = evaluate(bundle, frame[test_rows], precision=precision)  # the encoder as trained
        metadata["metrics_precision"] = metrics.pop("precision")
        metrics.pop("encoder")
        metadata["metrics"] = metrics
        metadata["metrics_split"] = {"column": config.split_col, "value": config.test_split}
    metadata["quality"] = quality_summary(metadata)
    if config.private_labels:
        bundle.metadata = mask_metadata(metadata, heads["root_cause"].classes_)
    return bundle


def zero_shot_inputs(frame: pd.DataFrame, text_cols: tuple[str, ...], taxonomy: Taxonomy,
                     label_col: str | None = None) -> tuple[list[str], list[str | None]]:
    """The complaints of ``frame`` to adapt a zero-shot model to: texts, and labels (``None`` = unlabelled).

    Rows with an empty text are left out; with ``label_col``, rows whose label is filled in must
    name a cause of ``taxonomy`` and are kept as labelled examples, the others are unlabelled.
    """
    texts = join_text_columns(frame, text_cols)
    keep = _nonempty(texts)
    labels: list[str | None] = [None] * int(keep.sum())
    if label_col is not None:
        require_columns(frame, {"label": (label_col, "--label-col")})
        given = frame.loc[keep, label_col]
        labels = [str(v).strip() if filled else None for v, filled in zip(given, _nonempty(given), strict=True)]
        unknown = sorted({v for v in labels if v is not None} - set(taxonomy.ids))
        if unknown:
            raise InputError(f"the label column {label_col!r} has labels that are not causes of the taxonomy "
                             f"{taxonomy.source!r}: {unknown[:10]}; expected one of {taxonomy.ids}. Add them to "
                             "the taxonomy, fix the labels, or drop --label-col.")
    return texts[keep].tolist(), labels


def train_zero_shot(taxonomy: Taxonomy, embedding_model: str = DEFAULT_MODEL, name: str | None = None,
                    text_cols: tuple[str, ...] = ("text",), complaints: list[str] | None = None,
                    complaint_labels: list[str | None] | None = None, review_precision: float | None = 0.9,
                    seed: int = 0) -> Bundle:
    """A bundle whose root-cause head scores complaints by similarity to ``taxonomy``'s causes.

    Without ``complaints`` no complaint is used: the probabilities are a softmax of
    similarities, calibrated on nothing, so no ``needs_review`` threshold is set. With
    ``complaints`` (the company's own, unlabelled where ``complaint_labels`` is ``None`` or
    holds ``None``) the head self-trains on them (:class:`AdaptiveZeroShotClassifier`), its
    probabilities are tempered without labels and the ``needs_review`` threshold is the one at
    which the auto-classified rows' mean probability reaches ``review_precision``.
    """
    # An English-only encoder reads the other languages' phrases as noise that blurs every cause.
    texts, labels = taxonomy.prototype_table(["en"] if embedding_model in ENGLISH_ONLY_MODELS else None)
    complaints = list(complaints or [])
    complaint_labels = list(complaint_labels) if complaint_labels is not None else [None] * len(complaints)
    adapt = bool(complaints)
    head = (AdaptiveZeroShotClassifier(embedding_model=embedding_model, seed=seed) if adapt
            else ZeroShotClassifier(embedding_model=embedding_model))
    _logging.logger.info("embedding %d descriptions and examples of %d causes%s", len(texts), len(taxonomy.causes),
                         f" and {len(complaints)} complaints to adapt to" if adapt else "")
    head.fit(texts + complaints, labels + complaint_labels)
    source = Path(taxonomy.source)
    metadata: dict[str, Any] = {
        "name": name,
        "kind": "zero-shot",
        "columns": {"text": list(text_cols), "label": None, "churn": None, "numeric": [], "categorical": []},
        "heads": {"root_cause": {"labels": [str(c) for c in head.classes_], "params": head.get_params()}},
        "taxonomy": {"path": taxonomy.source, "languages": taxonomy.languages,
                     "causes": {c.id: {"name": c.name, "dimension": c.dimension} for c in taxonomy.causes}},
        "review": {"threshold": 0.0, "rule": "off: a zero-shot model is calibrated on nothing"},
        "training_data": {"path": taxonomy.source, "sha256": _data_fingerprint(source)[1]
                          if source.is_file() else None,
                          "rows": len(texts), "rows_used": len(texts), "dropped": {}},
        "notes": ["Zero-shot: trained on no labelled complaint. Each cause is the mean embedding of its "
                  "description and example phrases; a complaint's scores are a softmax (temperature "
                  f"{head.temperature}) of its cosine similarity to each cause. The probabilities are "
                  "calibrated on nothing: read them as a ranking, not as frequencies.",
                  "Label a few hundred complaints (`complaintkit suggest` picks which) and train a "
                  "supervised model as soon as you can."],
    }
    if adapt:
        _adapted_metadata(metadata, head, complaints, complaint_labels, review_precision)
    return Bundle(metadata=metadata, root_cause=head)


def _adapted_metadata(metadata: dict[str, Any], head: AdaptiveZeroShotClassifier, complaints: list[str],
                      complaint_labels: list[str | None], review_precision: float | None) -> None:
    """Record what a self-trained zero-shot head learnt from, how it is calibrated and its review rule."""
    classifier = head.pipeline_.named_steps["classifier"]
    calibration = head.calibration_
    labelled = sum(label is not None for label in complaint_labels)
    metadata["adapted"] = {"complaints": len(complaints), "labelled_complaints": labelled,
                           "unlabelled_complaints": len(complaints) - labelled,
                           "rounds": classifier.rounds_,
                           "pseudo_labels": getattr(classifier, "pseudo_label_counts_", {})}
    metadata["heads"]["root_cause"]["chosen"] = {"calibration": head.calibration_}
    metadata["notes"] = [
        "Zero-shot adapted to the company's own complaints: each cause starts as the mean embedding of its "
        "description and example phrases; the most confident complaints of each cause became pseudo-labels "
        f"for a class-balanced logistic regression ({len(classifier.rounds_)} rounds), and a complaint's "
        "scores mix both views. No complaint's true cause was used unless it was given as a label.",
        f"Calibration: {calibration.get('method')} - {calibration.get('rule', calibration.get('reason'))}. "
        "It is an estimate made without labels: check it on a few labelled complaints.",
        "Label a few hundred complaints (`complaintkit suggest` picks which) and train a "
        "supervised model as soon as you can."]
    if review_precision is not None:
        top = head.predict_proba(complaints).max(axis=1)
        threshold = estimated_review_threshold(top, review_precision)
        metadata["review"] = {
            "threshold": threshold, "target_precision": review_precision,
            "estimated_coverage": float((top >= threshold).mean()),
            "rule": f"estimated without labels: the lowest confidence at which the complaints it adapted to have a "
                    f"mean calibrated probability of {review_precision:.0%} (an estimate of their precision, "
                    "only as good as the calibration); complaints that fit no cause score low and are flagged"}
