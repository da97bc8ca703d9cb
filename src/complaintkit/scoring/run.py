"""Scoring and embedding files: streaming a table through a :class:`ChunkJob` on an engine.

Every input row ends in the output (in input order, with ``row_number``) or in the rejects
file with a ``reject_reason``. Finished chunks are kept as Parquet parts next to the output
(:mod:`complaintkit.scoring.parts`), so a killed run can ``resume``; the output appears
under its final name only when every chunk is done.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import _logging
from ..embedding import DEFAULT_MODEL, SentenceTransformerEmbedder, resolve_precision
from ..exceptions import ComplaintkitError, InputError
from ..io import OutputLock, claim_outputs, estimate_rows, iter_table, no_rows_error, table_format
from ..io.uris import is_uri
from .choices import ENGINES
from .columns import log_cascade
from .job import ChunkJob, ScoreSummary
from .parts import (
    assemble,
    default_rejects_path,
    manifest,
    prepare_workdir,
    read_part_reasons,
    work_folder,
)

if TYPE_CHECKING:
    from ..bundle import Bundle

def run_file(job: ChunkJob, input_path: str | Path, output: str | Path, *, fingerprint: Any,
             predictor: Any = None, rejects: str | Path | None = None, chunk_size: int = 5_000,
             overwrite: bool = False, resume: bool = False, encoding: str = "utf-8-sig", engine: str = "local",
             workers: int = 1, threads: int | None = None, spark_master: str | None = None,
             csv_formulas: str = "neutralise", single_file: bool = False, partition_by: str | None = None,
             batch_rows: int | None = None) -> ScoreSummary:
    """Stream ``input_path`` through ``job`` into ``output`` and its rejects file; return what happened.

    ``predictor`` is the loaded bundle or embedder this process uses (``None``: ``job.load()``);
    worker processes and Spark executors load their own from ``job.source``. ``fingerprint``
    identifies the model (a resumed run must use the same one). The output and rejects paths
    are checked and locked first (:func:`~complaintkit.io.claim_outputs`). ``csv_formulas``:
    "neutralise" (a CSV/TSV text cell a spreadsheet would run as a formula gets a leading ``'``) or "keep".

    With ``engine="spark"`` the paths may be Spark URIs and the output and rejects are Parquet
    datasets (``single_file``: one file each; ``partition_by``: one folder per value of that
    column; ``batch_rows``: rows per resumable batch); see :func:`complaintkit.engines.spark.run_spark`.
    """
    if engine == "spark":
        return _run_on_spark(job, input_path, output, rejects, fingerprint=fingerprint, predictor=predictor,
                             chunk_size=chunk_size, overwrite=overwrite, resume=resume, encoding=encoding,
                             master=spark_master, single_file=single_file, partition_by=partition_by,
                             batch_rows=batch_rows)
    given = [name for name, value in (("--single-file", single_file), ("--partition-by", partition_by),
                                      ("--spark-batch-rows", batch_rows)) if value]
    uris = [str(p) for p in (input_path, output, rejects) if p is not None and is_uri(p)]
    if given or uris:
        raise InputError(f"{', '.join(given + uris)} need --engine spark; the local engine reads and writes "
                         "local files.")
    input_path, output = Path(input_path), Path(output)
    table_format(output)
    rejects_path = Path(rejects) if rejects else default_rejects_path(output)
    model = job.source if Path(job.source).exists() else None
    with claim_outputs({"--output": output, "--rejects": rejects_path},
                       inputs={"--input": input_path, "--model": model}, overwrite=overwrite):
        return _run_claimed(job, input_path, output, rejects_path, fingerprint=fingerprint, predictor=predictor,
                            chunk_size=chunk_size, resume=resume, encoding=encoding, engine=engine,
                            workers=workers, threads=threads, csv_formulas=csv_formulas)


def _run_on_spark(job: ChunkJob, input_path: str | Path, output: str | Path, rejects: str | Path | None, *,
                  predictor: Any, batch_rows: int | None, **options: Any) -> ScoreSummary:
    """The Spark engine, with the local outputs (if any) locked against other runs."""
    from ..engines.spark import DEFAULT_BATCH_ROWS, run_spark

    if rejects is None:
        rejects = (default_rejects_path(Path(output)) if not is_uri(output)
                   else re.sub(r"(\.[A-Za-z0-9]+)?/*$", r".rejects\1", str(output), count=1))
    predictor = predictor if predictor is not None else job.load()
    with ExitStack() as locks:
        for path in (output, rejects):
            if not is_uri(path):
                Path(path).absolute().parent.mkdir(parents=True, exist_ok=True)
                locks.enter_context(OutputLock(Path(path).absolute()))
        return run_spark(job, predictor, input_path, output, rejects, batch_rows=batch_rows or DEFAULT_BATCH_ROWS,
                         **options)


def _run_claimed(job: ChunkJob, input_path: Path, output: Path, rejects_path: Path, *, fingerprint: Any,
                 predictor: Any, chunk_size: int, resume: bool, encoding: str, engine: str,
                 workers: int, threads: int | None, csv_formulas: str) -> ScoreSummary:
    if engine not in ENGINES:
        raise InputError(f"--engine must be one of {list(ENGINES)}, found {engine!r}.")
    predictor = predictor if predictor is not None else job.load()
    workdir = work_folder(output)
    prepare_workdir(workdir, manifest(input_path, job.settings(), fingerprint, chunk_size), resume)
    try:
        return _run_chunks(job, input_path, output, rejects_path, workdir, predictor=predictor, chunk_size=chunk_size,
                           encoding=encoding, workers=workers, threads=threads, csv_formulas=csv_formulas)
    except ComplaintkitError:
        if not any(workdir.glob("part-*.parquet")):
            shutil.rmtree(workdir, ignore_errors=True)  # nothing finished: a failed check leaves nothing behind
        raise


def _run_chunks(job: ChunkJob, input_path: Path, output: Path, rejects_path: Path, workdir: Path, *,
                predictor: Any, chunk_size: int, encoding: str, workers: int, threads: int | None,
                csv_formulas: str) -> ScoreSummary:
    from ..cpu import load_average
    from ..engines.local import default_threads, map_chunks

    threads = threads if threads is not None else default_threads(workers)
    summary = ScoreSummary(output=str(output), rejects=None, precision=job.precision, threads=threads)
    reasons: Counter[str] = Counter()
    start = time.perf_counter()
    scored_parts: list[Path] = []
    reject_parts: list[Path] = []
    rows = iter_table(input_path, chunk_size=chunk_size, encoding=encoding, encoding_errors="replace",
                      malformed="mark")

    def tasks() -> Iterator[tuple]:
        offset = 0
        for index, chunk in enumerate(rows):
            if index == 0:
                job.check_columns(chunk, predictor)
                load = load_average()
                _logging.logger.info("encoder precision %s, torch threads per process: %s (load average %s, "
                                     "%d cores)", job.precision, threads or "torch's default",
                                     "n/a" if load is None else f"{load:.1f}", os.cpu_count() or 1)
            part, rejected_part = workdir / f"part-{index:06d}.parquet", workdir / f"rejects-{index:06d}.parquet"
            scored_parts.append(part)
            reject_parts.append(rejected_part)
            summary.chunks += 1
            if part.exists():
                summary.chunks_resumed += 1
                yield len(chunk), read_part_reasons(rejected_part), None
            else:
                yield len(chunk), None, (chunk, offset, part, rejected_part)
            offset += len(chunk)

    with _logging.progress(estimate_rows(input_path), "scoring" if job.task == "score" else "embedding") as bar:
        for n_rows, chunk_reasons in map_chunks(job, tasks(), predictor=predictor, workers=workers, threads=threads):
            reasons.update(chunk_reasons)
            summary.rows_read += n_rows
            bar.update(n_rows)
    if not scored_parts:
        raise no_rows_error(input_path)
    summary.count_rejects(reasons)
    if summary.rows_rejected:
        assemble(reject_parts, rejects_path, csv_formulas)
        summary.rejects = str(rejects_path)
    else:
        rejects_path.unlink(missing_ok=True)
    assemble(scored_parts, output, csv_formulas)
    shutil.rmtree(workdir, ignore_errors=True)
    summary.seconds = round(time.perf_counter() - start, 2)
    _logging.logger.info("%s %d rows, rejected %d, in %.1fs (%.0f rows/s)",
                         "scored" if job.task == "score" else "embedded", summary.rows_scored,
                         summary.rows_rejected, summary.seconds, summary.rows_per_second)
    return summary


def score_file(bundle: Bundle, input_path: str | Path, output: str | Path, *,
               text_cols: Sequence[str] | None = None, id_cols: Sequence[str] = (),
               keep_cols: Sequence[str] | None = None, max_chars: int = 50_000, too_long: str = "reject",
               precision: str = "auto", explain: bool = False, language: bool = False, cascade: str = "on",
               **run_options: Any) -> ScoreSummary:
    """Score ``input_path`` into ``output`` with ``bundle`` (a saved one), chunk by chunk.

    Rejected rows (``reject_reason`` malformed_row:<kind> for CSV/TSV records with the wrong
    field count or broken quotes, empty_text, missing_id:<col>, undecodable_bytes,
    text_too_long) go to the rejects file; see :class:`ChunkJob` for the options and
    :func:`run_file` for ``run_options`` (rejects, chunk_size, resume, engine, workers, ...).
    ``precision`` "auto" runs the encoder in bf16 on CPUs with AMX bf16 tiles, else int8 (ONNX Runtime)
    (:func:`~complaintkit.embedding.resolve_precision`); the summary records which.
    ``cascade`` "off" has the full root-cause head of a bundle trained with a scoring cascade answer
    every row, as if trained with ``--cascade off`` (:func:`~complaintkit.scoring.columns.root_cause_head`);
    a bundle without a cascade scores as with "on", and the log says so.
    """
    if bundle.path is None:
        raise InputError("score_file needs a saved bundle (Bundle.load or Bundle.save); this one has no path.")
    job = ChunkJob(source=str(Path(bundle.path).resolve()), task="score",
                   text_cols=tuple(text_cols or bundle.text_cols), id_cols=tuple(id_cols),
                   keep_cols=tuple(keep_cols) if keep_cols else None,
                   max_chars=max_chars, too_long=too_long, precision=resolve_precision(precision), explain=explain,
                   language=language, cascade=cascade)
    log_cascade(bundle, cascade)
    return run_file(job, input_path, output, fingerprint=bundle.metadata.get("artifacts"), predictor=bundle,
                    **run_options)


def embed_file(input_path: str | Path, output: str | Path, *, model: str = DEFAULT_MODEL,
               text_cols: Sequence[str] = ("text",), id_cols: Sequence[str] = (),
               keep_cols: Sequence[str] | None = None, max_chars: int = 50_000, too_long: str = "reject",
               precision: str = "auto", **run_options: Any) -> ScoreSummary:
    """Write the sentence embedding of every valid row of ``input_path`` to ``output``.

    The output has ``row_number``, the kept columns and ``embedding`` (a list of floats);
    rows are validated and rejected, and ``precision`` resolved, exactly as by :func:`score_file`.
    """
    embedder = SentenceTransformerEmbedder(model=model).fit()
    job = ChunkJob(source=model, task="embed", text_cols=tuple(text_cols), id_cols=tuple(id_cols),
                   keep_cols=tuple(keep_cols) if keep_cols else None, max_chars=max_chars, too_long=too_long,
                   precision=resolve_precision(precision))
    return run_file(job, input_path, output, fingerprint=embedder.model_sha256_, predictor=embedder, **run_options)
