"""The Spark engine: the same :class:`~complaintkit.scoring.ChunkJob` run by ``mapInPandas``.

PySpark is an optional extra (``pip install 'complaintkit[spark]'``) imported only here.
The job holds the bundle's path, not the model: each Python worker loads the bundle once
from that path (so on a cluster the bundle must be at the same path on every node, or be
shipped with the job, see notes). Input rows are numbered in file order before they are
spread over partitions, so the output keeps input order and ``row_number`` like the local
engine. CSV/TSV input is first read on the driver by complaintkit's own checked reader into a
staging Parquet file, so malformed records become ``malformed_row:<kind>`` rejects exactly as
with the local engine (Spark's CSV reader would keep them with null fields, or fail the job).
A multi-line CSV file is one unsplittable partition for Spark anyway.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .. import _logging
from ..exceptions import InputError
from ..io import LINE_NUMBER, MALFORMED, RAW_LINE, iter_table, no_rows_error, table_format
from ..schema import REASON, ROW
from ..scoring.job import ChunkJob, ScoreSummary
from ..scoring.parts import assemble

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


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


def checked_csv_to_parquet(source: Path, target: Path, encoding: str, chunk_size: int) -> None:
    """Copy CSV/TSV ``source`` to Parquet ``target`` with malformed records marked (see ``iter_table``)."""
    markers = {MALFORMED: None, RAW_LINE: None, LINE_NUMBER: pd.NA}
    writer = None
    try:
        for chunk in iter_table(source, chunk_size=chunk_size, encoding=encoding, encoding_errors="replace",
                                malformed="mark"):
            chunk = chunk.assign(**{k: v for k, v in markers.items() if k not in chunk.columns})
            table = pa.Table.from_pandas(chunk.astype({LINE_NUMBER: "Int64"}), preserve_index=False)
            if writer is None:
                schema = pa.schema([pa.field(f.name, pa.int64() if f.name == LINE_NUMBER else pa.string())
                                    for f in table.schema])
                writer = pq.ParquetWriter(target, schema)
            writer.write_table(table.cast(writer.schema))
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        raise no_rows_error(source)


def read_numbered(spark: SparkSession, path: Path, encoding: str = "utf-8") -> DataFrame:
    """Read ``path`` (CSV, TSV, JSONL or Parquet) with a ``row_number`` column in file order."""
    from pyspark.sql.types import LongType, StructField, StructType

    fmt = table_format(path)
    charset = encoding.removesuffix("-sig")  # Spark's UTF-8 reader skips a byte-order mark itself
    if fmt == "parquet":
        frame = spark.read.parquet(str(path))
    elif fmt == "jsonl":
        frame = spark.read.option("mode", "FAILFAST").option("encoding", charset).json(str(path))
    else:
        frame = (spark.read.option("header", True).option("mode", "FAILFAST").option("multiLine", True)
                 .option("escape", '"').option("encoding", charset)
                 .option("sep", "\t" if fmt == "tsv" else ",").csv(str(path)))
    if ROW in frame.columns:
        raise InputError(f"input {str(path)!r} already has a {ROW!r} column; rename it before scoring.")
    schema = StructType([StructField(ROW, LongType(), False), *frame.schema.fields])
    numbered = frame.rdd.zipWithIndex().map(lambda pair: (pair[1], *pair[0]))
    return spark.createDataFrame(numbered, schema)


@contextmanager
def _as_input_error(input_path: Path) -> Iterator[None]:
    """Turn a failed Spark job (a malformed record, a worker error) into one :class:`InputError` line."""
    try:
        yield
    except Exception as exc:
        if not type(exc).__module__.startswith(("pyspark", "py4j")):
            raise
        lines = [line.strip() for line in str(exc).splitlines() if "Error" in line or "Exception" in line]
        raise InputError(f"Spark could not score {str(input_path)!r}: {(lines or [str(exc)])[-1][:300]}") from None


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


def run_spark(job: ChunkJob, predictor: Any, input_path: Path, output: Path, rejects_path: Path, *,
              master: str | None = None, encoding: str = "utf-8", chunk_size: int = 5_000,
              csv_formulas: str = "neutralise") -> ScoreSummary:
    """Run ``job`` over ``input_path`` on Spark; write ``output`` and rejects like the local engine.

    ``predictor`` (the loaded bundle or embedder) probes the output columns on the driver;
    each executor loads its own from ``job.source``, once per partition.
    """
    start = time.perf_counter()
    spark = spark_session(master)
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(chunk_size))
    staging = output.with_name(f".{output.name}.spark")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        return _run_spark(spark, job, predictor, input_path, output, rejects_path, staging, encoding, chunk_size, start,
                          csv_formulas)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _run_spark(spark: SparkSession, job: ChunkJob, predictor: Any, input_path: Path, output: Path, rejects_path: Path,
               staging: Path, encoding: str, chunk_size: int, start: float, csv_formulas: str) -> ScoreSummary:
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType, StructField, StructType

    source = input_path
    if table_format(input_path) in ("csv", "tsv"):
        staging.mkdir(parents=True)
        source = staging / "input.parquet"
        checked_csv_to_parquet(input_path, source, encoding, chunk_size)
    with _as_input_error(input_path):
        numbered = read_numbered(spark, source, encoding)
        sample = numbered.limit(1).toPandas()
    input_fields = [f for f in numbered.schema.fields if f.name not in (ROW, MALFORMED, RAW_LINE, LINE_NUMBER)]
    if sample.empty:
        raise no_rows_error(input_path)
    job.check_columns(sample, predictor)
    scored = _output_columns(job, predictor, sample)
    predicted = [c for c in scored.columns if c not in sample.columns]
    schema = StructType([*[f for f in numbered.schema.fields if f.name != MALFORMED],  # read by job.run only
                         StructField(REASON, StringType(), True),
                         *[StructField(c, _spark_type(scored[c]), True) for c in predicted]])

    def score_batches(batches):
        loaded = job.load()  # on the executor, once per partition
        for batch in batches:
            output_rows, rejected = job.run(batch, 0, loaded)
            merged = pd.concat([output_rows.set_index(ROW), rejected.set_index(ROW)])
            merged = merged.reindex(columns=schema.fieldNames()[1:]).rename_axis(ROW).reset_index()
            # pyspark cannot take Arrow-backed or nullable extension columns (strings, Int64 line numbers)
            extension = [c for c in merged.columns if pd.api.types.is_string_dtype(merged[c].dtype)
                         or pd.api.types.is_extension_array_dtype(merged[c].dtype)]
            for column in extension:
                merged[column] = merged[column].astype(object).where(merged[column].notna(), None)
            yield merged

    with _as_input_error(input_path):
        partitions = max(spark.sparkContext.defaultParallelism, -(-numbered.count() // chunk_size))
        numbered.repartition(partitions).mapInPandas(score_batches, schema).write.parquet(str(staging / "all"))
        merged = spark.read.parquet(str(staging / "all"))
        kept = [c for c in scored.columns if c not in predicted and c != ROW]
        ok = merged.filter(F.col(REASON).isNull()).select(ROW, *kept, *predicted)
        bad = merged.filter(F.col(REASON).isNotNull())
        reasons = Counter({row[REASON]: row["count"] for row in bad.groupBy(REASON).count().collect()})
        where = [RAW_LINE, LINE_NUMBER] if any(r.startswith("malformed_row:") for r in reasons) else []
        bad = bad.select(ROW, *[f.name for f in input_fields], REASON, *where)  # as the local engine's rejects
        ok.orderBy(ROW).write.parquet(str(staging / "scored"))
        bad.orderBy(ROW).write.parquet(str(staging / "rejects"))
        summary = ScoreSummary(output=str(output), rejects=None, rows_read=merged.count(), chunks=partitions,
                               precision=job.precision)
        summary.count_rejects(reasons)
        if summary.rows_rejected:
            assemble(sorted((staging / "rejects").glob("part-*.parquet")), rejects_path, csv_formulas)
            summary.rejects = str(rejects_path)
        assemble(sorted((staging / "scored").glob("part-*.parquet")), output, csv_formulas)
    summary.seconds = round(time.perf_counter() - start, 2)
    _logging.logger.info("spark: %s %d rows, rejected %d, in %.1fs", job.task, summary.rows_scored,
                         summary.rows_rejected, summary.seconds)
    return summary
