"""`complaintkit evaluate`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ._options import (
    TABLE_FORMATS,
    encoding_option,
    examples,
    input_option,
    load_bundle,
    model_option,
    overwrite_option,
    precision_option,
    text_col_option,
)
from ._summaries import with_interval


def _print_summary(result: dict) -> None:
    if "root_cause" in result:
        rc = result["root_cause"]
        ci = rc.get("ci", {})
        click.echo(f"root cause: {rc['rows']} rows, {with_interval('accuracy', rc['accuracy'], ci.get('accuracy'))}, "
                   f"{with_interval('macro_f1', rc['macro_f1'], ci.get('macro_f1'))}, "
                   f"ECE {rc['ece']:.3f}, auto-classified {rc['coverage']:.0%} at "
                   f"accuracy {rc['accuracy_when_auto']:.3f}")
        click.echo(f"{'class':32} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>8}")
        for label, s in rc["per_class"].items():
            click.echo(f"{label[:32]:32} {s['precision']:9.3f} {s['recall']:7.3f} {s['f1']:6.3f} {s['support']:8d}")
    for language, s in result.get("root_cause_by_language", {}).items():
        click.echo(f"language {language}: {s['rows']} rows, accuracy {s['accuracy']:.3f}, macro-F1 {s['macro_f1']:.3f}")
    if "churn" in result:
        ch = result["churn"]
        click.echo(f"churn: {ch['rows']} rows, base rate {ch['base_rate']:.3f}, ECE {ch['ece']:.3f}")
        for key, name in (("roc_auc", "ROC-AUC"), ("pr_auc", "PR-AUC"), ("brier", "Brier"),
                          ("lift_top_decile", "top-decile lift"), ("capture_top_decile", "top-decile capture")):
            low, high = ch["ci"].get(key, (float("nan"), float("nan")))
            click.echo(f"  {name:20} {ch[key]:.3f}  (95% CI {low:.3f} to {high:.3f})")
    if "by_cause" in result.get("churn", {}):
        rows = result["churn"]["by_cause"]
        money = "value_at_risk" in rows[0] if rows else False
        click.echo(f"{'predicted cause':32} {'complaints':>10} {'churn rate':>10} {'mean proba':>10}"
                   + (f" {'value at risk':>14}" if money else ""))
        for r in rows:
            click.echo(f"{r['cause'][:32]:32} {r['complaints']:10d} {r['churn_rate']:10.3f} "
                       f"{r['mean_churn_proba']:10.3f}" + (f" {r['value_at_risk']:14.2f}" if money else ""))


@click.command("evaluate", epilog=examples(
    "complaintkit evaluate --model models/mine --input labelled.csv",
    "complaintkit evaluate --model models/mine --input labelled.csv --split-col split --output metrics.json"))
@model_option
@input_option(f"Labelled table to evaluate on ({TABLE_FORMATS}).", aliases=("--data",))
@text_col_option()
@click.option("--label-col", help="Root-cause label column. Default: the bundle's.")
@click.option("--churn-col", help="Churn outcome column. Default: the bundle's.")
@click.option("--split-col", help="Evaluate only rows whose --split-col equals --split.")
@click.option("--split", default="test", show_default=True, help="Value of --split-col to evaluate.")
@click.option("--output", type=click.Path(path_type=Path), help="Write all metrics as JSON here.")
@click.option("--value-col", help="Money per complaint (e.g. monthly charges): adds value at risk per cause.")
@click.option("--plots-dir", type=click.Path(path_type=Path),
              help="Write PNG plots (confusion.png, coverage.png, reliability.png) into this folder; existing ones "
                   "are replaced only with --overwrite.")
@encoding_option
@precision_option
@overwrite_option
def evaluate_command(model_path: Path, input_path: Path, text_cols: tuple[str, ...], output: Path | None,
                     plots_dir: Path | None, encoding: str, overwrite: bool, **options: object) -> None:
    """Report per-class precision/recall/F1, macro-F1, confusion and churn metrics."""
    from ..evaluation import evaluate
    from ..io import atomic_write, claim_outputs, read_table
    from ..plots import PLOT_FILES

    plots = {f"--plots-dir file {name}": plots_dir / name for name in PLOT_FILES.values()} if plots_dir else {}
    with claim_outputs({"--output": output, **plots}, inputs={"--input": input_path, "--model": model_path},
                       overwrite=overwrite):
        bundle = load_bundle(model_path)
        result = evaluate(bundle, read_table(input_path, encoding=encoding), text_cols=text_cols or None,
                          plots_dir=plots_dir, **options)
        click.echo(f"encoder {result['encoder']}")
        _print_summary(result)
        if output:
            with atomic_write(output) as partial:
                partial.write_text(json.dumps(result, indent=2))
            click.echo(f"wrote {output}")
