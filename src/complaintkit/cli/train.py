"""`complaintkit train`."""

from __future__ import annotations

from pathlib import Path

import click

from ..config import ROOT_CAUSE_HEADS
from ..embedding.models import DEFAULT_MODEL
from ..heads.calibration import CALIBRATION_METHODS
from ..redaction import KINDS
from ._options import encoding_option, overwrite_option, text_col_option


@click.command("train")
@click.option("--data", type=click.Path(path_type=Path), help="Labelled table (CSV, JSONL, Parquet).")
@click.option("--taxonomy", type=click.Path(path_type=Path),
              help="Without --data: build a zero-shot root-cause model from this taxonomy (e.g. data/taxonomy.yaml).")
@text_col_option(default="text")
@click.option("--label-col", help="Root-cause label column.")
@click.option("--parent-col", help="Coarser label each root cause rolls up to (e.g. product for issue).")
@click.option("--churn-col", help="Churn outcome column (0/1, yes/no, true/false).")
@click.option("--numeric-col", "numeric_cols", multiple=True, help="Numeric customer column for the churn head.")
@click.option("--categorical-col", "categorical_cols", multiple=True, help="Categorical column for the churn head.")
@click.option("--split-col", help="Column marking train/test rows; held-out metrics go into the bundle.")
@click.option("--train-split", default="train", show_default=True, help="Value of --split-col for training rows.")
@click.option("--test-split", default="test", show_default=True, help="Value of --split-col for held-out rows.")
@click.option("--embedding-model", default=DEFAULT_MODEL, show_default=True,
              help="Embedding model alias or local sentence-transformers folder.")
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
@click.option("--redact", "redact_all", is_flag=True,
              help="Mask personal data (e-mail, phone, card, IBAN, SSN, URL tokens) before embedding; "
                   "recorded in the bundle, so scoring masks the same.")
@click.option("--redact-kind", "redact_kinds", multiple=True, type=click.Choice(KINDS),
              help="Mask only this kind of personal data (repeat; implies --redact).")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Bundle folder to write, e.g. models/cfpb.")
@encoding_option
@overwrite_option
def train_command(data: Path | None, taxonomy: Path | None, out: Path, overwrite: bool, encoding: str,
                  redact_all: bool, redact_kinds: tuple[str, ...], **options: object) -> None:
    """Train a root-cause and/or churn model and save it as a bundle."""
    from ..config import TrainConfig
    from ..taxonomy import load_taxonomy
    from ..training import train, train_zero_shot

    if out.exists() and not overwrite:
        raise click.UsageError(f"bundle folder {str(out)!r} already exists; pass --overwrite to replace it.")
    if taxonomy is not None:
        if data is not None:
            raise click.UsageError("--taxonomy builds a zero-shot model from no labels; drop --data, or drop "
                                   "--taxonomy to train on labelled data.")
        bundle = train_zero_shot(load_taxonomy(taxonomy), str(options["embedding_model"]), name=out.name,
                                 text_cols=tuple(options["text_cols"]))
    elif data is None:
        raise click.UsageError("nothing to train from: pass --data (labelled table) or --taxonomy (zero-shot).")
    else:
        config = TrainConfig(**options, redact=redact_kinds or (KINDS if redact_all else ()))
        bundle = train(data, config, name=out.name, encoding=encoding)
    bundle.save(out, overwrite=overwrite)
    metrics = bundle.metadata.get("metrics", {})
    click.echo(f"saved {out}")
    path = bundle.metadata.get("heads", {}).get("root_cause", {}).get("path")
    if path:
        click.echo(f"root-cause head: {path['head']} ({path['reason']})")
    for head, values in metrics.items():
        shown = {k: round(v, 4) for k, v in values.items() if isinstance(v, float)}
        click.echo(f"held-out {head}: {shown}")
