"""The Spark engine: the same :class:`~complaintkit.scoring.ChunkJob` run by ``mapInPandas`` on a cluster.

PySpark is an optional extra (``pip install 'complaintkit[spark]'``) imported only here. Nothing
assumes a disk shared by the driver and the executors:

- the bundle travels with the job (:mod:`.spark_bundle`), verified and loaded once per Python worker;
- the input is read and numbered by the executors (:mod:`.spark_input`);
- the scored rows and the rejects are two Parquet datasets written by the executors (optionally
  partitioned by a column); the driver only renames files and writes small markers
  (:mod:`.spark_files`); one file is assembled only when asked (``single_file``), by one task;
- the input is scored in batches of ``batch_rows`` rows, each one Spark job; a batch's files
  are renamed into the datasets and then marked done, so a rerun with ``resume`` after a killed
  job skips the finished batches and redoes an unfinished one from scratch: no row twice.

Layout of an output dataset ``scores/``: ``part`` files named ``b<batch>-part-…parquet`` (under
``COLUMN=value/`` folders with ``partition_by``), ``_SUCCESS`` when complete, and
``_complaintkit/`` (the run's manifest and done markers; readers skip folders starting with ``_``).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import _logging
from ..exceptions import InputError, OutputExistsError
from ..io import FORMATS, LINE_NUMBER, MALFORMED, RAW_LINE, check_distinct_uris, no_rows_error
from ..io.uris import uri_name
from ..schema import REASON, ROW
from ..scoring.job import ChunkJob, ScoreSummary
from .spark_bundle import cached_embedder, ship_bundle, shipped_bundle
from .spark_files import HadoopFiles
from .spark_input import TEXT_FORMATS, InputPlan, number, plan_input

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

META = "_complaintkit"
DEFAULT_BATCH_ROWS = 200_000


def spark_session(master: str | None = None) -> SparkSession:
    """The active Spark session, or a new one on ``master`` (default ``local[*]``)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise InputError("--engine spark needs PySpark: pip install 'complaintkit[spark]'.") from None
    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        return active
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # workers need this environment's packages
    return (SparkSession.builder.appName("complaintkit").master(master or "local[*]")
            .config("spark.pyspark.python", sys.executable)
            .config("spark.ui.enabled", "false")
            .getOrCreate())


@contextmanager
def _as_input_error(input_uri: str) -> Iterator[None]:
    """Turn a failed Spark job (a worker error, a bad bundle) into one :class:`InputError` line."""
    try:
        yield
    except Exception as exc:
        if not type(exc).__module__.startswith(("pyspark", "py4j")):
            raise
        lines = [line.strip() for line in str(exc).splitlines() if "Error" in line or "Exception" in line]
        raise InputError(f"Spark could not score {input_uri!r}: {(lines or [str(exc)])[-1][:300]}") from None


def _spark_type(values: pd.Series) -> Any:
    from pyspark.sql import types as T

    if pd.api.types.is_bool_dtype(values):
        return T.BooleanType()
    if pd.api.types.is_integer_dtype(values):
        return T.LongType()
    if pd.api.types.is_float_dtype(values):
        return T.DoubleType()
    if len(values) and isinstance(values.iloc[0], np.ndarray | list):
        return T.ArrayType(T.FloatType())
    return T.StringType()


def _output_columns(job: ChunkJob, predictor: Any, sample: pd.DataFrame) -> pd.DataFrame:
    """One scored row with the prediction columns, from a probe row built from ``sample``."""
    probe = sample.head(1).copy()
    for column in (*job.id_cols, *job.text_cols):
        probe[column] = "probe complaint text"
    if MALFORMED in probe.columns:
        probe[MALFORMED] = None
    output, _ = job.run(probe, 0, predictor)
    return output


@dataclass(frozen=True)
class SparkTargets:
    """Where a Spark run writes: the datasets, their final names, and the run's own folder."""

    output: str  # what the user named: the dataset folder, or the single file
    rejects: str
    dataset: str  # the scored rows' Parquet dataset (a hidden sibling of ``output`` with single_file)
    rejects_dataset: str
    single_file: bool

    @classmethod
    def plan(cls, files: HadoopFiles, output: str | Path, rejects: str | Path, single_file: bool) -> SparkTargets:
        output_uri, rejects_uri = files.qualify(output), files.qualify(rejects)

        def hidden(uri: str) -> str:
            parent, name = uri.rstrip("/").rsplit("/", 1)
            return f"{parent}/.{name}.parts"

        if single_file:
            return cls(output_uri, rejects_uri, hidden(output_uri), hidden(rejects_uri), True)
        return cls(output_uri, rejects_uri, output_uri, rejects_uri, False)

    @property
    def meta(self) -> str:
        return f"{self.dataset}/{META}"


def _input_format(files: HadoopFiles, uri: str) -> str:
    if files.is_dir(uri):
        return "parquet"
    suffix = "." + uri_name(uri).rsplit(".", 1)[-1].lower() if "." in uri_name(uri) else ""
    if suffix not in FORMATS:
        raise InputError(f"cannot tell the format of {uri!r}: expected one of the extensions {sorted(FORMATS)}, "
                         f"found {suffix or 'none'!r}; rename the file or convert it.")
    return FORMATS[suffix]


def run_spark(job: ChunkJob, predictor: Any, input_path: str | Path, output: str | Path, rejects: str | Path, *,
              fingerprint: Any = None, master: str | None = None, encoding: str = "utf-8",
              chunk_size: int = 5_000, overwrite: bool = False, resume: bool = False, single_file: bool = False,
              partition_by: str | None = None, batch_rows: int = DEFAULT_BATCH_ROWS) -> ScoreSummary:
    """Run ``job`` over ``input_path`` on Spark into the Parquet datasets ``output`` and ``rejects``.

    ``input_path``, ``output`` and ``rejects`` are local paths or Spark URIs (``hdfs://``,
    ``s3a://``, ``abfss://``, ``file://``). ``predictor`` (the loaded bundle or embedder) probes
    the output columns on the driver; the executors load the shipped bundle (or the installed
    embedding model). ``single_file`` writes ``output`` (and the rejects) as one Parquet file
    each, sorted by ``row_number``; ``partition_by`` partitions the scored dataset by that
    column. ``resume`` continues an interrupted run (see the module notes).
    """
    start = time.perf_counter()
    if encoding.lower().replace("_", "-") not in ("utf-8", "utf-8-sig", "utf8"):
        raise InputError(f"the Spark engine reads UTF-8 text, found --encoding {encoding!r}; re-save the input as "
                         "UTF-8 or use --engine local.")
    if single_file and partition_by:
        raise InputError("--partition-by writes a folder of parts; it cannot be combined with --single-file.")
    spark = spark_session(master)
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(chunk_size))
    spark.conf.set("spark.sql.files.minPartitionNum", "1")  # splits that do not depend on live executors
    files = HadoopFiles(spark)
    input_uri = files.qualify(input_path)
    targets = SparkTargets.plan(files, output, rejects, single_file)
    model = files.qualify(job.source) if job.task == "score" else None
    check_distinct_uris({"--input": input_uri, "--model": model},
                        {"--output": targets.output, "--rejects": targets.rejects,
                         **({"work folder": targets.dataset, "rejects work folder": targets.rejects_dataset}
                            if single_file else {})})
    if not files.exists(input_uri):
        raise InputError(f"input {input_uri!r} does not exist; check the path.")
    with _as_input_error(input_uri):
        plan = plan_input(spark, input_uri, _input_format(files, input_uri))
    if not plan.rows:
        raise no_rows_error(input_uri)
    record = {"input": plan.to_dict(), "model": fingerprint, "job": job.settings(), "batch_rows": batch_rows,
              "chunk_size": chunk_size, "partition_by": partition_by}
    _claim(files, targets, json.loads(json.dumps(record)), overwrite, resume)
    shipped = ship_bundle(spark, job.source) if job.task == "score" else None
    summary = ScoreSummary(output=targets.output, rejects=None, rows_read=plan.rows, precision=job.precision)
    reasons: Counter[str] = Counter()
    with _as_input_error(input_uri):
        scorer = _Scorer(spark, job, predictor, plan, shipped, chunk_size)
        for lo in range(0, plan.rows, batch_rows):
            batch = lo // batch_rows
            summary.chunks += 1
            done = f"{targets.meta}/done/batch-{batch:06d}.json"
            if files.exists(done):
                summary.chunks_resumed += 1
                reasons.update(json.loads(files.read_text(done)))
                continue
            batch_reasons = scorer.write_batch(files, targets, batch, lo, min(lo + batch_rows, plan.rows),
                                               partition_by)
            files.write_text(done, json.dumps(batch_reasons))
            reasons.update(batch_reasons)
        summary.count_rejects(reasons)
        _finish(spark, files, targets, bool(summary.rows_rejected))
    if summary.rows_rejected:
        summary.rejects = targets.rejects
    summary.seconds = round(time.perf_counter() - start, 2)
    _logging.logger.info("spark: %s %d rows, rejected %d, in %.1fs", job.task, summary.rows_scored,
                         summary.rows_rejected, summary.seconds)
    return summary


def _claim(files: HadoopFiles, targets: SparkTargets, record: dict[str, Any], overwrite: bool, resume: bool) -> None:
    """Keep an unfinished run's datasets when resuming the same run; else start afresh.

    Existing outputs are replaced only with ``overwrite``.
    """
    manifest = f"{targets.meta}/manifest.json"
    if resume and files.exists(manifest):
        if json.loads(files.read_text(manifest)) != record:
            raise InputError(f"cannot resume: the unfinished run in {targets.dataset!r} used another input, bundle "
                             "or options; rerun without --resume to start again.")
        return
    existing = [uri for uri in (targets.output, targets.rejects) if files.exists(uri)]
    if existing and not overwrite:
        raise OutputExistsError(f"{existing[0]!r} already exists; pass --overwrite to replace it (or --resume to "
                                "continue the run that wrote it).")
    for uri in {targets.output, targets.rejects, targets.dataset, targets.rejects_dataset}:
        files.delete(uri)
    files.write_text(manifest, json.dumps(record))


class _Scorer:
    """Scores batches of numbered rows: the Spark schema of the result and the function the executors run."""

    def __init__(self, spark: SparkSession, job: ChunkJob, predictor: Any, plan: InputPlan, shipped: str | None,
                 chunk_size: int) -> None:
        from pyspark.sql.types import StringType, StructField, StructType

        self.spark, self.plan, self.chunk_size = spark, plan, chunk_size
        sample_frame = number(spark, plan, 0, 1)
        sample = sample_frame.limit(1).toPandas()
        job.check_columns(sample, predictor)
        scored = _output_columns(job, predictor, sample)
        self.predicted = [c for c in scored.columns if c not in sample.columns]
        self.kept = [c for c in scored.columns if c not in self.predicted and c != ROW]
        self.input_columns = [f.name for f in sample_frame.schema.fields
                              if f.name not in (ROW, MALFORMED, RAW_LINE, LINE_NUMBER)]
        self.where = [RAW_LINE, LINE_NUMBER] if plan.fmt in TEXT_FORMATS else []
        self.schema = StructType([*[f for f in sample_frame.schema.fields if f.name != MALFORMED],
                                  StructField(REASON, StringType(), True),
                                  *[StructField(c, _spark_type(scored[c]), True) for c in self.predicted]])
        self.score = _batch_scorer(job, shipped, self.schema.fieldNames())

    def write_batch(self, files: HadoopFiles, targets: SparkTargets, batch: int, lo: int, hi: int,
                    partition_by: str | None) -> dict[str, int]:
        """Score rows ``lo`` to ``hi - 1`` and move their files into the datasets; return the reject counts."""
        from pyspark.sql import functions as F

        work = f"{targets.meta}/work/batch-{batch:06d}"
        prefix = f"b{batch:06d}-"
        for dataset in (targets.dataset, targets.rejects_dataset):  # a killed earlier attempt of this batch
            for uri in files.list_files(dataset):
                if uri_name(uri).startswith(prefix) and f"/{META}/" not in uri:
                    files.delete(uri)
        files.delete(work)
        tasks = max(1, -(-(hi - lo) // self.chunk_size))
        scored = number(self.spark, self.plan, lo, hi).repartition(tasks).mapInPandas(self.score, self.schema)
        scored.write.parquet(f"{work}/all")
        merged = self.spark.read.parquet(f"{work}/all")
        ok = merged.filter(F.col(REASON).isNull()).select(ROW, *self.kept, *self.predicted)
        if partition_by is not None and partition_by not in ok.columns:
            raise InputError(f"--partition-by {partition_by!r} is not an output column (found {ok.columns}); "
                             "name one of them.")
        writer = ok.write.partitionBy(partition_by) if partition_by else ok.write
        writer.parquet(f"{work}/ok")
        bad = merged.filter(F.col(REASON).isNotNull()).select(ROW, *self.input_columns, REASON, *self.where)
        bad.coalesce(max(1, min(tasks, 8))).write.parquet(f"{work}/rejects")
        reasons = {row[REASON]: row["count"] for row in bad.groupBy(REASON).count().collect()}
        for folder, dataset in ((f"{work}/ok", targets.dataset), (f"{work}/rejects", targets.rejects_dataset)):
            for uri in files.list_files(folder):
                relative = uri[len(files.qualify(folder)) + 1:]
                parent, _, name = relative.rpartition("/")
                if name.startswith(("_", ".")):
                    continue
                files.move(uri, f"{dataset}/{parent + '/' if parent else ''}{prefix}{name}")
        files.delete(work)
        return reasons


def _batch_scorer(job: ChunkJob, shipped: str | None, names: list[str]) -> Any:
    """The function each executor runs on a partition: the job's rows and rejects, in the result schema."""

    def score_batches(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        loaded = shipped_bundle(shipped) if shipped is not None else cached_embedder(job.source)
        for batch in batches:
            output_rows, rejected = job.run(batch, 0, loaded)
            merged = pd.concat([output_rows.set_index(ROW), rejected.set_index(ROW)])
            merged = merged.reindex(columns=names[1:]).rename_axis(ROW).reset_index()
            # pyspark cannot take Arrow-backed or nullable extension columns (strings, Int64 line numbers)
            extension = [c for c in merged.columns if pd.api.types.is_string_dtype(merged[c].dtype)
                         or pd.api.types.is_extension_array_dtype(merged[c].dtype)]
            for column in extension:
                merged[column] = merged[column].astype(object).where(merged[column].notna(), None)
            yield merged

    return score_batches


def _finish(spark: SparkSession, files: HadoopFiles, targets: SparkTargets, any_rejects: bool) -> None:
    """Mark the datasets complete, or turn them into the single files asked for; drop empty rejects."""
    pairs = [(targets.dataset, targets.output)]
    if any_rejects:
        pairs.append((targets.rejects_dataset, targets.rejects))
    else:
        files.delete(targets.rejects_dataset)
    for dataset, final in pairs:
        if not targets.single_file:
            files.write_text(f"{dataset}/_SUCCESS", "")
            continue
        single = f"{targets.meta}/single"
        files.delete(single)
        spark.read.parquet(dataset).orderBy(ROW).coalesce(1).write.parquet(single)
        (part,) = [uri for uri in files.list_files(single) if uri_name(uri).startswith("part-")]
        files.delete(final)  # a finished file from a killed earlier attempt of this step
        files.move(part, final)
    if targets.single_file:
        files.delete(targets.dataset)
        files.delete(targets.rejects_dataset)
