"""The Spark engine: the same :class:`~complaintkit.scoring.ChunkJob` run by ``mapInPandas``.

PySpark is an optional extra (``pip install 'complaintkit[spark]'``) imported only here.
The job holds the bundle's path, not the model: each Python worker loads the bundle once
from that path (so on a cluster the bundle must be at the same path on every node, or be
shipped with the job, see notes). Input rows are numbered in file order before they are
spread over partitions, so the output keeps input order and ``row_number`` like the local
engine. Malformed CSV records fail the job (``FAILFAST``) instead of being kept with nulls.
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

from .. import _logging
from ..exceptions import InputError
from ..io import table_format
from ..scoring import REASON, ROW, ChunkJob, ScoreSummary, _assemble

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


def _output_columns(job: ChunkJob, sample: pd.DataFrame) -> pd.DataFrame:
    """One scored row with the prediction columns, from a probe row built from ``sample``."""
    probe = sample.head(1).copy()
    for column in (*job.id_cols, *job.text_cols):
        probe[column] = "probe complaint text"
    output, _ = job.run(probe, 0)
    return output


def run_spark(job: ChunkJob, input_path: Path, output: Path, rejects_path: Path, *, master: str | None = None,
              encoding: str = "utf-8", chunk_size: int = 5_000) -> ScoreSummary:
    """Run ``job`` over ``input_path`` on Spark; write ``output`` and rejects like the local engine."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType, StructField, StructType

    start = time.perf_counter()
    spark = spark_session(master)
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(chunk_size))
    with _as_input_error(input_path):
        numbered = read_numbered(spark, input_path, encoding)
        sample = numbered.limit(1).toPandas()
    input_fields = [f for f in numbered.schema.fields if f.name != ROW]
    if sample.empty:
        raise InputError(f"input {str(input_path)!r} has a header but no rows; nothing to score.")
    job.check_columns(sample)
    scored = _output_columns(job, sample)
    predicted = [c for c in scored.columns if c not in sample.columns]
    schema = StructType([*numbered.schema.fields, StructField(REASON, StringType(), True),
                         *[StructField(c, _spark_type(scored[c]), True) for c in predicted]])

    def score_batches(batches):
        for batch in batches:
            output_rows, rejected = job.run(batch, 0)
            merged = pd.concat([output_rows.set_index(ROW), rejected.set_index(ROW)])
            merged = merged.reindex(columns=schema.fieldNames()[1:]).rename_axis(ROW).reset_index()
            strings = [c for c in merged.columns if pd.api.types.is_string_dtype(merged[c].dtype)]
            yield merged.astype(dict.fromkeys(strings, object))  # pyspark cannot take Arrow-backed strings

    staging = output.with_name(f".{output.name}.spark")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        with _as_input_error(input_path):
            partitions = max(spark.sparkContext.defaultParallelism, -(-numbered.count() // chunk_size))
            numbered.repartition(partitions).mapInPandas(score_batches, schema).write.parquet(str(staging / "all"))
            merged = spark.read.parquet(str(staging / "all"))
            kept = [c for c in scored.columns if c not in predicted and c != ROW]
            ok = merged.filter(F.col(REASON).isNull()).select(ROW, *kept, *predicted)
            bad = merged.filter(F.col(REASON).isNotNull()).select(ROW, *[f.name for f in input_fields], REASON)
            ok.orderBy(ROW).write.parquet(str(staging / "scored"))
            bad.orderBy(ROW).write.parquet(str(staging / "rejects"))
            reasons = Counter({row[REASON]: row["count"] for row in bad.groupBy(REASON).count().collect()})
            summary = ScoreSummary(output=str(output), rejects=None, rows_read=merged.count(), chunks=partitions,
                                   precision=job.precision)
            summary.rows_rejected = sum(reasons.values())
            summary.rows_scored = summary.rows_read - summary.rows_rejected
            summary.reject_reasons = dict(reasons)
            if summary.rows_rejected:
                _assemble(sorted((staging / "rejects").glob("part-*.parquet")), rejects_path)
                summary.rejects = str(rejects_path)
            _assemble(sorted((staging / "scored").glob("part-*.parquet")), output)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    summary.seconds = round(time.perf_counter() - start, 2)
    _logging.logger.info("spark: %s %d rows, rejected %d, in %.1fs", job.task, summary.rows_scored,
                         summary.rows_rejected, summary.seconds)
    return summary
