"""`complaintkit embed`."""

from __future__ import annotations

from pathlib import Path

import click

from ._options import embedding_model_option, examples, text_col_option
from ._run_options import check_paths, check_side_outputs, report_run, run_options


@click.command("embed", epilog=examples(
    "complaintkit embed --input complaints.csv --output embeddings.parquet --id-col ticket_id",
    "complaintkit embed --input complaints.parquet --output embeddings.parquet --embedding-model multilingual"))
@embedding_model_option("model")
@text_col_option(default="text")
@run_options
def embed_command(keep_cols: tuple[str, ...], reject_exit_code: int, summary_json: Path | None,
                  **options: object) -> None:
    """Write the sentence embedding of every row (an `embedding` list column) with its ids.

    Rows are streamed, validated and rejected exactly as by `complaintkit score`.
    """
    from ..scoring.run import embed_file

    check_paths(options["input_path"], options["output"], stdin_ok=False)

    check_side_outputs(options, summary_json=summary_json)
    summary = embed_file(keep_cols=keep_cols or None, **options)
    report_run(summary, reject_exit_code, summary_json)
