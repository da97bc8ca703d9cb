"""Scoring tables through a bundle: one output row per valid input row, the rest rejected.

Input is streamed in chunks. Each finished chunk is written as a Parquet part in a work
folder next to the output, so a killed run can ``resume``; the output file appears under
its final name only when every chunk is done. One chunk function (:meth:`ChunkJob.run`)
serves every engine: the in-process loop, the worker pool and Spark's ``mapInPandas``.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from . import _logging
from .bundle import Bundle
from .embedding import (
    DEFAULT_MODEL,
    PRECISIONS,
    SentenceTransformerEmbedder,
    inference_precision,
    resolve_precision,
)
from .exceptions import InputError
from .io import (
    LINE_NUMBER,
    MALFORMED,
    RAW_LINE,
    check_output_path,
    iter_table,
    join_text_columns,
    require_columns,
    table_format,
)
from .text import normalise_text

ROW = "row_number"
REASON = "reject_reason"
TOP_K = 3


def predict_frame(bundle: Bundle, frame: pd.DataFrame, texts: pd.Series, *, explain: bool = False,
                  language: bool = False) -> pd.DataFrame:
    """Prediction columns for ``frame`` (whose complaint texts are ``texts``), same index.

    ``explain`` adds the nearest training examples and top terms of the predicted cause
    (:func:`complaintkit.explain.explain_frame`); ``language`` adds the detected ``language``.
    """
    out = pd.DataFrame(index=frame.index)
    if frame.empty:
        return out
    if bundle.root_cause is not None:
        codes, distinct = pd.factorize(texts, use_na_sentinel=False)  # the head reads text alone: once each
        proba = bundle.root_cause.predict_proba(distinct.tolist())[codes]
        classes = np.asarray(bundle.root_cause.classes_, dtype=object)
        order = np.argsort(-proba, axis=1, kind="stable")[:, :TOP_K]
        for k in range(order.shape[1]):
            suffix = "" if k == 0 else f"_{k + 1}"
            out[f"root_cause{suffix}"] = classes[order[:, k]]
            out[f"root_cause{suffix}_proba"] = np.take_along_axis(proba, order[:, k : k + 1], axis=1)[:, 0]
        out["needs_review"] = out["root_cause_proba"] < bundle.review_threshold
        if bundle.hierarchy:
            out["root_cause_parent"] = out["root_cause"].map(bundle.hierarchy)
        if explain:
            from .explain import explain_frame

            out = out.join(explain_frame(bundle.root_cause, texts, out["root_cause"]))
    if bundle.churn is not None:
        out["churn_proba"] = bundle.churn.predict_proba(frame.assign(text=texts))[:, 1]
    if language:
        from .language import detect_languages

        out["language"] = detect_languages(texts)
    return out


def score_frame(bundle: Bundle, frame: pd.DataFrame, text_cols: Sequence[str] | None = None, *,
                explain: bool = False, language: bool = False) -> pd.DataFrame:
    """Return ``frame`` with the prediction columns of :func:`predict_frame` appended.

    Rows with an empty text get no prediction (NaN) and ``reject_reason`` "empty_text";
    for streaming, lossless scoring of files use :func:`score_file`.
    """
    texts = join_text_columns(frame, list(text_cols or bundle.text_cols))
    empty = texts.fillna("").str.strip() == ""
    scored = predict_frame(bundle, frame[~empty], texts[~empty], explain=explain, language=language)
    result = pd.concat([frame, scored.reindex(frame.index)], axis=1)
    if empty.any():
        result[REASON] = np.where(empty, "empty_text", None)
    return result


@dataclass
class ScoreSummary:
    """What a scoring run did."""

    output: str
    rejects: str | None
    rows_read: int = 0
    rows_scored: int = 0
    rows_rejected: int = 0
    reject_reasons: dict[str, int] = field(default_factory=dict)
    chunks: int = 0
    chunks_resumed: int = 0
    seconds: float = 0.0
    precision: str = "fp32"
    threads: int | None = None  # torch threads per process; None: torch's default (one per core)

    @property
    def rows_per_second(self) -> float:
        return self.rows_read / self.seconds if self.seconds else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "rows_per_second": round(self.rows_per_second, 1)}


UNDECODABLE = "\ufffd"  # what undecodable input bytes become when read with errors="replace"
TOO_LONG_POLICIES = ("reject", "truncate")
TRUNCATED = "text_truncated"
EMBEDDING = "embedding"


def embed_frame(embedder: SentenceTransformerEmbedder, frame: pd.DataFrame, texts: pd.Series) -> pd.DataFrame:
    """An ``embedding`` column (float32 unit vectors of normalised texts) for ``frame``, same index."""
    normalised = [normalise_text(t) for t in texts.tolist()]
    vectors = embedder.transform(normalised) if normalised else np.zeros((0, 0), dtype=np.float32)
    return pd.DataFrame({EMBEDDING: list(vectors)}, index=frame.index)


_LOADED: dict[tuple[str, str], Any] = {}


def _predictor(task: str, source: str) -> Any:
    """The bundle (task "score") or embedder (task "embed") at ``source``, loaded once per process."""
    key = (task, source)
    if key not in _LOADED:
        if task == "score":
            _LOADED[key] = Bundle.load(source)
        else:
            _LOADED[key] = SentenceTransformerEmbedder(model=source).fit()
    return _LOADED[key]


@dataclass(frozen=True)
class ChunkJob:
    """How to turn one input chunk into output rows and rejected rows.

    It holds a path and options, never a model, so it pickles cheaply to worker processes
    and Spark executors; each process loads the bundle (or embedder) once, on first use.

    Parameters
    ----------
    source : str
        Bundle folder (``task="score"``) or embedding model alias/folder (``task="embed"``).
    task : {"score", "embed"}
        Predictions of :func:`predict_frame`, or the embeddings of :func:`embed_frame`.
    text_cols : tuple of str
        Columns joined into the text.
    id_cols : tuple of str, default=()
        Columns that must be present in every row (else ``missing_id:<col>``).
    keep_cols : tuple of str or None, default=None
        Input columns copied to the output; ``None`` copies all.
    max_chars : int, default=50_000
        Longest text accepted as is.
    too_long : {"reject", "truncate"}, default="reject"
        Reject longer texts as ``text_too_long``, or score their first ``max_chars``
        characters and set ``text_truncated``.
    precision : {"fp32", "bf16"}, default="fp32"
        Encoder precision as run (see :func:`~complaintkit.embedding.inference_precision`);
        "auto" is resolved before the job is made, once per run.
    explain, language : bool, default=False
        Extra columns of :func:`predict_frame` (task "score" only).
    """

    source: str
    task: str = "score"
    text_cols: tuple[str, ...] = ("text",)
    id_cols: tuple[str, ...] = ()
    keep_cols: tuple[str, ...] | None = None
    max_chars: int = 50_000
    too_long: str = "reject"
    precision: str = "fp32"
    explain: bool = False
    language: bool = False

    def __post_init__(self) -> None:
        if self.task not in ("score", "embed"):
            raise ValueError(f"The 'task' parameter must be 'score' or 'embed'. Got {self.task!r} instead.")
        if self.precision not in PRECISIONS:
            raise InputError(f"--precision must be one of {list(PRECISIONS)}, found {self.precision!r}.")
        if self.too_long not in TOO_LONG_POLICIES:
            raise InputError(f"--too-long must be one of {list(TOO_LONG_POLICIES)}, found {self.too_long!r}.")

    def check_columns(self, frame: pd.DataFrame) -> None:
        """Raise :class:`MissingColumnError` unless ``frame`` has every column this job names."""
        for column in self.id_cols:
            require_columns(frame, {"id": (column, "--id-col")})
        for column in self.keep_cols or ():
            require_columns(frame, {"kept": (column, "--keep-col")})
        join_text_columns(frame.head(0), self.text_cols)
        churn = _predictor(self.task, self.source).churn if self.task == "score" else None
        for column in (*churn.numeric_cols, *churn.categorical_cols) if churn is not None else ():
            if column not in frame.columns:
                raise InputError(f"the bundle's churn head needs the column {column!r}, which is not in the table "
                                 f"(found {[str(c) for c in frame.columns]}); add it, or use a bundle without churn.")

    def run(self, chunk: pd.DataFrame, start: int) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Return ``(output, rejected)`` for ``chunk``, whose first row is input row ``start``.

        Both carry ``row_number`` (taken from ``chunk`` when it has that column); ``rejected``
        holds the input columns and ``reject_reason``, plus ``raw_line`` and ``line_number``
        when ``chunk`` marks malformed CSV records (:func:`~complaintkit.io.iter_table`).
        """
        if ROW in chunk.columns:  # numbered upstream (the Spark engine)
            chunk = chunk.set_index(ROW)
        else:
            chunk = chunk.reset_index(drop=True)
            chunk.index = pd.RangeIndex(start, start + len(chunk))
        malformed = chunk[[MALFORMED, RAW_LINE, LINE_NUMBER]] if MALFORMED in chunk.columns else None
        if malformed is not None:
            chunk = chunk.drop(columns=list(malformed.columns))
        texts = join_text_columns(chunk, self.text_cols)
        reasons = _reject_reasons(chunk, texts, self.id_cols, self.max_chars if self.too_long == "reject" else None)
        if malformed is not None:
            kind = malformed[MALFORMED]
            reasons = ("malformed_row:" + kind.astype("string")).where(kind.notna(), reasons).astype(object)
        good = reasons.isna()
        kept = chunk if self.keep_cols is None else chunk[list(dict.fromkeys([*self.id_cols, *self.keep_cols]))]
        texts = texts[good]
        columns = [kept[good].rename_axis(ROW).reset_index()]
        if self.too_long == "truncate":
            truncated = texts.str.len() > self.max_chars
            texts = texts.str.slice(0, self.max_chars)
            columns.append(pd.DataFrame({TRUNCATED: truncated.to_numpy(dtype=bool)}))
        predictor = _predictor(self.task, self.source)
        with inference_precision(self.precision):
            if self.task == "score":
                predicted = predict_frame(predictor, chunk[good], texts, explain=self.explain, language=self.language)
            else:
                predicted = embed_frame(predictor, chunk[good], texts)
        columns.append(predicted.reset_index(drop=True))
        output = pd.concat(columns, axis=1)
        rejected = chunk[~good].assign(**{REASON: reasons[~good]})
        if malformed is not None:
            rejected = rejected.join(malformed.loc[~good, [RAW_LINE, LINE_NUMBER]])
        return output, rejected.rename_axis(ROW).reset_index()

    def process(self, chunk: pd.DataFrame, start: int, part: Path, rejected_part: Path) -> list[str]:
        """Run :meth:`run` and write both results as Parquet parts; return the reject reasons."""
        output, rejected = self.run(chunk, start)
        _write_part(rejected, rejected_part)
        _write_part(output, part)
        return rejected[REASON].tolist()


def _reject_reasons(chunk: pd.DataFrame, texts: pd.Series, id_cols: Sequence[str],
                    max_chars: int | None) -> pd.Series:
    """One machine-readable reason per rejected row (the first that applies), ``None`` otherwise."""
    reasons = pd.Series(None, index=chunk.index, dtype=object)
    for column in id_cols:
        missing = chunk[column].isna() | (chunk[column].astype("string").str.strip() == "")
        reasons[missing.fillna(True).to_numpy(dtype=bool) & reasons.isna()] = f"missing_id:{column}"
    undecodable = pd.Series(False, index=chunk.index)
    for column in chunk.columns:
        if chunk[column].dtype == object or pd.api.types.is_string_dtype(chunk[column].dtype):
            undecodable |= chunk[column].astype("string").str.contains(UNDECODABLE, regex=False).fillna(False)
    reasons[undecodable.to_numpy(dtype=bool) & reasons.isna()] = "undecodable_bytes"
    stripped = texts.fillna("").str.strip()
    reasons[(stripped == "").to_numpy(dtype=bool) & reasons.isna()] = "empty_text"
    if max_chars is not None:
        reasons[(stripped.str.len() > max_chars).to_numpy(dtype=bool) & reasons.isna()] = "text_too_long"
    return reasons


def _write_part(frame: pd.DataFrame, path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp)
    os.replace(tmp, path)


def _manifest(input_path: Path, job: ChunkJob, fingerprint: Any, chunk_size: int) -> dict[str, Any]:
    stat = input_path.stat()
    manifest = {"input": str(input_path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
                "model": fingerprint, "job": {**asdict(job), "source": None}, "chunk_size": chunk_size}
    return json.loads(json.dumps(manifest))  # as it reads back from manifest.json (tuples become lists)


def _prepare_workdir(workdir: Path, manifest: dict[str, Any], resume: bool) -> None:
    manifest_file = workdir / "manifest.json"
    if resume and manifest_file.exists():
        previous = json.loads(manifest_file.read_text())
        if previous != manifest:
            raise InputError(
                f"cannot resume: the unfinished run in {str(workdir)!r} used another input, bundle or "
                "options; rerun without --resume to start again."
            )
        return
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    manifest_file.write_text(json.dumps(manifest))


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with ``schema``'s columns in its order, null where ``table`` lacks one (e.g. ``raw_line``)."""
    columns = [table.column(f.name).cast(f.type) if f.name in table.column_names else pa.nulls(len(table), f.type)
               for f in schema]
    return pa.Table.from_arrays(columns, schema=schema)


def _assemble(parts: list[Path], target: Path) -> None:
    """Concatenate Parquet ``parts`` into ``target`` (format by extension), atomically."""
    fmt = table_format(target)
    tmp = target.with_name(f".{target.name}.tmp")
    schemas = [pq.read_schema(p) for p in parts]
    schema = pa.unify_schemas(schemas, promote_options="permissive")
    try:
        if fmt == "parquet":
            with pq.ParquetWriter(tmp, schema) as writer:
                for part in parts:
                    writer.write_table(_conform(pq.read_table(part), schema))
        else:
            with open(tmp, "w", encoding="utf-8", newline="") as handle:
                for i, part in enumerate(parts):
                    frame = _conform(pq.read_table(part), schema).to_pandas()
                    if fmt == "jsonl":
                        frame.to_json(handle, orient="records", lines=True, force_ascii=False)
                    else:
                        frame.to_csv(handle, index=False, header=i == 0, sep="\t" if fmt == "tsv" else ",")
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def default_rejects_path(output: Path) -> Path:
    """``scores.parquet`` → ``scores.rejects.parquet``."""
    return output.with_name(f"{output.stem}.rejects{output.suffix}")


ENGINES = ("local", "spark")


def run_file(job: ChunkJob, input_path: str | Path, output: str | Path, *, fingerprint: Any,
             rejects: str | Path | None = None, chunk_size: int = 5_000, overwrite: bool = False,
             resume: bool = False, encoding: str = "utf-8-sig", engine: str = "local", workers: int = 1,
             threads: int | None = None, spark_master: str | None = None) -> ScoreSummary:
    """Stream ``input_path`` through ``job`` into ``output`` and its rejects file; return what happened.

    Every input row ends in ``output`` (in input order, with ``row_number``) or in the
    rejects file with a ``reject_reason``. Finished chunks are kept as Parquet parts in a
    work folder next to the output, so ``resume`` continues a killed run; ``output`` appears
    under its final name only when every chunk is done. ``fingerprint`` identifies the model
    (a resumed run must use the same one).
    """
    input_path, output = Path(input_path), Path(output)
    table_format(output)
    check_output_path(output, overwrite)
    rejects_path = Path(rejects) if rejects else default_rejects_path(output)
    check_output_path(rejects_path, overwrite=True)
    if engine not in ENGINES:
        raise InputError(f"--engine must be one of {list(ENGINES)}, found {engine!r}.")
    if engine == "spark":
        from .engines.spark import run_spark

        return run_spark(job, input_path, output, rejects_path, master=spark_master, encoding=encoding,
                         chunk_size=chunk_size)
    from .engines.local import default_threads, load_average, map_chunks

    workdir = output.with_name(f".{output.name}.parts")
    _prepare_workdir(workdir, _manifest(input_path, job, fingerprint, chunk_size), resume)
    threads = threads if threads is not None else default_threads(workers)
    summary = ScoreSummary(output=str(output), rejects=None, precision=job.precision, threads=threads)
    reasons: Counter[str] = Counter()
    start = time.perf_counter()
    scored_parts, reject_parts = [], []
    rows = iter_table(input_path, chunk_size=chunk_size, encoding=encoding, encoding_errors="replace",
                      malformed="mark")

    def tasks():
        offset = 0
        for index, chunk in enumerate(rows):
            if index == 0:
                job.check_columns(chunk)
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
                done = pq.read_table(rejected_part, columns=[REASON]).column(REASON).to_pylist()
                yield len(chunk), done, None
            else:
                yield len(chunk), None, (chunk, offset, part, rejected_part)
            offset += len(chunk)

    with _logging.progress(None, "scoring" if job.task == "score" else "embedding") as bar:
        for n_rows, chunk_reasons in map_chunks(job, tasks(), workers=workers, threads=threads):
            reasons.update(chunk_reasons)
            summary.rows_read += n_rows
            bar.update(n_rows)
    if not scored_parts:
        raise InputError(f"input {str(input_path)!r} has a header but no rows; nothing to score.")
    summary.rows_rejected = sum(reasons.values())
    summary.rows_scored = summary.rows_read - summary.rows_rejected
    summary.reject_reasons = dict(reasons)
    if summary.rows_rejected:
        _assemble(reject_parts, rejects_path)
        summary.rejects = str(rejects_path)
    else:
        rejects_path.unlink(missing_ok=True)
    _assemble(scored_parts, output)
    shutil.rmtree(workdir, ignore_errors=True)
    summary.seconds = round(time.perf_counter() - start, 2)
    _logging.logger.info("%s %d rows, rejected %d, in %.1fs (%.0f rows/s)",
                         "scored" if job.task == "score" else "embedded", summary.rows_scored,
                         summary.rows_rejected, summary.seconds, summary.rows_per_second)
    return summary


def score_file(bundle: Bundle, input_path: str | Path, output: str | Path, *,
               text_cols: Sequence[str] | None = None, id_cols: Sequence[str] = (),
               keep_cols: Sequence[str] | None = None, max_chars: int = 50_000, too_long: str = "reject",
               precision: str = "auto", explain: bool = False, language: bool = False,
               **run_options: Any) -> ScoreSummary:
    """Score ``input_path`` into ``output`` with ``bundle`` (a saved one), chunk by chunk.

    Rejected rows (``reject_reason`` malformed_row:<kind> for CSV/TSV records with the wrong
    field count or broken quotes, empty_text, missing_id:<col>, undecodable_bytes,
    text_too_long) go to the rejects file; see :class:`ChunkJob` for the options and
    :func:`run_file` for ``run_options`` (rejects, chunk_size, resume, engine, workers, ...).
    ``precision`` "auto" runs the encoder in bf16 on CPUs with native bf16 matmul, else fp32
    (:func:`~complaintkit.embedding.resolve_precision`); the summary records which.
    """
    if bundle.path is None:
        raise InputError("score_file needs a saved bundle (Bundle.load or Bundle.save); this one has no path.")
    source = str(Path(bundle.path).resolve())
    _LOADED[("score", source)] = bundle
    job = ChunkJob(source=source, task="score", text_cols=tuple(text_cols or bundle.text_cols),
                   id_cols=tuple(id_cols), keep_cols=tuple(keep_cols) if keep_cols else None,
                   max_chars=max_chars, too_long=too_long, precision=resolve_precision(precision), explain=explain,
                   language=language)
    return run_file(job, input_path, output, fingerprint=bundle.metadata.get("artifacts"), **run_options)


def embed_file(input_path: str | Path, output: str | Path, *, model: str = DEFAULT_MODEL,
               text_cols: Sequence[str] = ("text",), id_cols: Sequence[str] = (),
               keep_cols: Sequence[str] | None = None, max_chars: int = 50_000, too_long: str = "reject",
               precision: str = "auto", **run_options: Any) -> ScoreSummary:
    """Write the sentence embedding of every valid row of ``input_path`` to ``output``.

    The output has ``row_number``, the kept columns and ``embedding`` (a list of floats);
    rows are validated and rejected, and ``precision`` resolved, exactly as by :func:`score_file`.
    """
    embedder = SentenceTransformerEmbedder(model=model).fit()
    _LOADED[("embed", model)] = embedder
    job = ChunkJob(source=model, task="embed", text_cols=tuple(text_cols), id_cols=tuple(id_cols),
                   keep_cols=tuple(keep_cols) if keep_cols else None, max_chars=max_chars, too_long=too_long,
                   precision=resolve_precision(precision))
    return run_file(job, input_path, output, fingerprint=embedder.model_sha256_, **run_options)
