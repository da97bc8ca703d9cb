"""`complaintkit train`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..config import CASCADE_SETTINGS, FAST_TIER_MAX_F1_LOSS, LONG_TEXT_POLICIES, ROOT_CAUSE_HEADS
from ..heads.calibration import CALIBRATION_METHODS
from ..redaction import KINDS
from ._options import (
    TABLE_FORMATS,
    AliasedOption,
    embedding_model_option,
    encoding_option,
    examples,
    input_option,
    overwrite_option,
    precision_option,
    text_col_option,
)
from ._summaries import quality_line

if TYPE_CHECKING:
    from ..bundle import Bundle
    from ..taxonomy import Taxonomy


@click.command("train", epilog=examples(
    "complaintkit train --input complaints.csv --label-col label --id-col ticket_id --model models/mine",
    "complaintkit train --input complaints.csv --label-col label --churn-col churned --split-col split \\",
    "    --model models/mine",
    "complaintkit train --taxonomy default --model models/zero-shot",
    "complaintkit train --taxonomy my_taxonomy.yaml --unlabelled complaints.csv --model models/zero-shot"))
@input_option(f"Labelled table ({TABLE_FORMATS}).", required=False, aliases=("--data",))
@click.option("--taxonomy", help="Build a zero-shot root-cause model from this taxonomy YAML file, or `default` for "
                                 "the packaged ten causes; with --input or --unlabelled it adapts to those complaints.")
@click.option("--unlabelled", type=click.Path(path_type=Path),
              help="With --taxonomy: a table of your own unlabelled complaints to adapt the zero-shot model to.")
@text_col_option(default="text")
@click.option("--label-col", help="Root-cause label column.")
@click.option("--parent-col", help="Coarser label each root cause rolls up to (e.g. product for issue).")
@click.option("--churn-col", help="Churn outcome column (0/1, yes/no, true/false).")
@click.option("--numeric-col", "numeric_cols", multiple=True, help="Numeric customer column for the churn head.")
@click.option("--categorical-col", "categorical_cols", multiple=True, help="Categorical column for the churn head.")
@click.option("--split-col", help="Column marking train/test rows; held-out metrics go into the bundle.")
@click.option("--train-split", default="train", show_default=True, help="Value of --split-col for training rows.")
@click.option("--test-split", default="test", show_default=True, help="Value of --split-col for held-out rows.")
@embedding_model_option()
@click.option("--speaker", "speakers", multiple=True,
              help="For transcripts, embed only this speaker's turns (repeat for several), e.g. customer.")
@click.option("--review-precision", type=float, default=0.9, show_default=True,
              help="Target precision of auto-classified complaints; sets the needs_review threshold.")
@click.option("--calibration", type=click.Choice(("auto", *CALIBRATION_METHODS)), default="auto", show_default=True,
              help="Root-cause probability calibration. auto = temperature scaling, which keeps the class-balanced "
                   "decisions; isotonic is better calibrated on many imbalanced classes but favours frequent ones.")
@click.option("--root-cause-head", type=click.Choice(ROOT_CAUSE_HEADS), default="auto", show_default=True,
              help="auto = few-label training (the encoder fine-tuned on the labels, then a linear head) when "
                   "the median class has fewer than 32 labelled rows, else the standard TF-IDF + embedding head.")
@click.option("--long-texts", type=click.Choice(LONG_TEXT_POLICIES), default="chunks", show_default=True,
              help="How the root-cause head embeds a text longer than 180 words: chunks = every 180-word chunk, "
                   "mean-pooled; head = the first 180 words; head_tail = the first and last 90 words as one window "
                   "(one encoder pass per text; see docs/scoring-at-scale.md).")
@click.option("--cascade", type=click.Choice(CASCADE_SETTINGS), default="auto", show_default=True,
              help="on = a static-embedding head answers for the rows it is sure of and hands the rest to the "
                   "transformer, at the threshold where its out-of-fold answers match the full head's on 99% of the "
                   "training rows (faster scoring); off = the transformer for every row; auto = on from 1,000 "
                   "labelled rows.")
@click.option("--fast-tier", is_flag=True,
              help="Train the fast tier instead: the same cascade, its threshold set by the macro-F1 it may lose "
                   "(--fast-tier-max-f1-loss), so that far fewer rows reach the transformer (many times faster "
                   "scoring; the out-of-fold loss is recorded in the bundle).")
@click.option("--fast-tier-max-f1-loss", type=click.FloatRange(0, 1, max_open=True), default=FAST_TIER_MAX_F1_LOSS,
              show_default=True,
              help="Out-of-fold macro-F1 the fast tier may lose against the full head.")
@click.option("--redact", "redact_all", is_flag=True,
              help="Mask personal data (e-mail, phone, card, IBAN, SSN, URL tokens) before embedding; "
                   "recorded in the bundle, so scoring masks the same.")
@click.option("--redact-kind", "redact_kinds", multiple=True, type=click.Choice(KINDS),
              help="Mask only this kind of personal data (repeat; implies --redact).")
@click.option("--private-labels", is_flag=True,
              help="Write opaque ids (label_01, label_02, ...) instead of the root-cause class names in metadata.json, "
                   "the model card and label_issues.csv; the heads keep the names, which scoring needs.")
@click.option("--drop-doubtful-labels", is_flag=True,
              help="Leave out the training rows whose label the root-cause head finds less probable than half of "
                   "chance out of fold, and refit; for labels with random slips. label_issues.csv marks them.")
@click.option("--jobs", "n_jobs", type=click.IntRange(min=-1), default=-1, show_default=True,
              help="Processes that fit the root-cause head's SVMs side by side: -1 = one per core, 1 = one at a time "
                   "(on a busy shared host). The trained model is the same either way.")
@click.option("--id-col", help="Complaint id column: names training complaints in label_issues.csv (doubtful labels) "
                               "and in explanations (score --explain). Default: their row number.")
@click.option("--mlflow", "mlflow_run", is_flag=True,
              help="Log the run to MLflow (also on whenever MLFLOW_TRACKING_URI is set): parameters, metrics, "
                   "plots, the bundle and a registered pyfunc model.")
@click.option("--mlflow-experiment", default="complaintkit", show_default=True, help="MLflow experiment name.")
@click.option("--mlflow-model-name", help="Registered model name in MLflow. Default: the bundle folder's name.")
@click.option("--model", "--output", "--out", "out", cls=AliasedOption, hidden_aliases=("--output", "--out"),
              required=True, type=click.Path(path_type=Path), help="Bundle folder to write, e.g. models/mine.")
@precision_option
@encoding_option
@overwrite_option
def train_command(input_path: Path | None, taxonomy: str | None, unlabelled: Path | None, out: Path, overwrite: bool,
                  encoding: str, redact_all: bool, redact_kinds: tuple[str, ...], mlflow_run: bool,
                  mlflow_experiment: str, mlflow_model_name: str | None, **options: object) -> None:
    """Train a root-cause and/or churn model and save it as a bundle folder.

    With --label-col, a root-cause classifier is trained on your labels; with --churn-col, a churn
    classifier; with --taxonomy, a zero-shot root-cause model from cause descriptions (no labels needed).
    """
    from ..config import TrainConfig
    from ..io import claim_outputs
    from ..taxonomy import load_taxonomy
    from ..tracking import log_training_run, tracking_requested
    from ..training import train

    if taxonomy is None and unlabelled is not None:
        raise click.UsageError("--unlabelled adapts a zero-shot model; add --taxonomy (e.g. --taxonomy default).")
    if taxonomy is None and input_path is None:
        raise click.UsageError("nothing to train from: pass --input (labelled table) or --taxonomy (zero-shot).")
    if taxonomy is not None and options["long_texts"] != "chunks":
        raise click.UsageError("--long-texts applies to heads trained on labels (--label-col); a zero-shot model "
                               "embeds long texts in chunks. Drop --long-texts or --taxonomy.")
    if taxonomy is not None and options["drop_doubtful_labels"]:
        raise click.UsageError("--drop-doubtful-labels leaves out training rows whose label looks wrong; a zero-shot "
                               "model (--taxonomy) is not trained on labels. Drop one of them.")
    if taxonomy is not None and options["private_labels"]:
        raise click.UsageError("--private-labels needs labels of your own (--label-col); a zero-shot model's causes "
                               "are the taxonomy's, which is not secret.")
    taxonomy_file = Path(taxonomy) if taxonomy is not None and os.path.lexists(taxonomy) else None  # else a name
    with claim_outputs({"--model": out}, inputs={"--input": input_path, "--taxonomy": taxonomy_file,
                                               "--unlabelled": unlabelled}, overwrite=overwrite, folders=True):
        if taxonomy is not None:
            bundle = _train_from_taxonomy(load_taxonomy(taxonomy), input_path, unlabelled, out.name, encoding, options)
        else:
            config = TrainConfig(**options, redact=redact_kinds or (KINDS if redact_all else ()))
            bundle = train(input_path, config, name=out.name, encoding=encoding)
        bundle.save(out, overwrite=overwrite)
    click.echo(f"saved {out}")
    path = bundle.metadata.get("heads", {}).get("root_cause", {}).get("path")
    if path:
        click.echo(f"root-cause head: {path['head']} ({path['reason']})")
    tier = bundle.metadata.get("heads", {}).get("root_cause", {}).get("fast_tier")
    if tier and tier.get("kept") is not False:
        click.echo(f"scoring cascade: the transformer answers {tier['out_of_fold']['escalated']:.0%} of the training "
                   "rows out of fold, a static-embedding head the rest (score --cascade off: the transformer for all)")
    issues = bundle.metadata.get("label_issues")
    if issues:
        left_out = f"; {issues['dropped']['rows']} left out of training" if "dropped" in issues else ""
        click.echo(f"doubtful labels: {issues['rows_flagged']} of {issues['rows_checked']} training rows, "
                   f"listed in {out / issues['file']}{left_out}")
    click.echo(quality_line(bundle.metadata.get("quality")))
    if tracking_requested(mlflow_run):
        run_id = log_training_run(bundle, experiment=mlflow_experiment, model_name=mlflow_model_name or out.name)
        click.echo(f"logged MLflow run {run_id} (experiment {mlflow_experiment!r})")


def _train_from_taxonomy(taxonomy: Taxonomy, data: Path | None, unlabelled: Path | None, name: str, encoding: str,
                         options: dict[str, object]) -> Bundle:
    """Zero-shot from the taxonomy, adapted to the complaints of --input and/or --unlabelled when given."""
    from ..io import read_table, require_columns
    from ..training import train_zero_shot, zero_shot_inputs

    text_cols = tuple(options["text_cols"])
    texts: list[str] = []
    labels: list[str | None] = []
    if data is not None:
        frame = read_table(data, encoding=encoding)
        if options.get("split_col"):
            require_columns(frame, {"split": (options["split_col"], "--split-col")})
            frame = frame[frame[options["split_col"]].astype(str) == options["train_split"]]
        texts, labels = zero_shot_inputs(frame, text_cols, taxonomy, options.get("label_col"))
    if unlabelled is not None:
        more, _ = zero_shot_inputs(read_table(unlabelled, encoding=encoding), text_cols, taxonomy)
        texts, labels = texts + more, labels + [None] * len(more)
    if (data is not None or unlabelled is not None) and not texts:
        raise click.UsageError(f"no complaint with a text in {list(text_cols)} to adapt to; name the column "
                               "with --text-col.")
    return train_zero_shot(taxonomy, str(options["embedding_model"]), name=name, text_cols=text_cols,
                           complaints=texts, complaint_labels=labels, review_precision=options["review_precision"])
