"""Input tables read by Spark on the executors, every record numbered as the local engine numbers it.

Spark reads the input in splits (``_metadata.file_path`` and ``file_block_start`` name each
one). CSV, TSV and JSONL are read as lines and parsed on the executors by the local engine's
own record checks (:func:`~complaintkit.io.checked_csv_records`,
:func:`~complaintkit.io.json_line_kind`), so a malformed record gets the same
``malformed_row:<kind>``, ``raw_line`` and ``line_number``. Parquet is read by Spark's reader.

Numbering: a first pass counts the physical lines and the records of every split (one small
row per split reaches the driver); splits are ordered by file path, then position, and each
split's first ``row_number`` and first line are the sums over the splits before it. Each
record's ``row_number`` is then its split's first number plus its position in the split: the
same as the local engine's for one file, and for a folder the files in path order. The split
sizes do not depend on how many executors are alive (``spark.sql.files.minPartitionNum`` is
set to 1), so a rerun numbers the same way.

A CSV record with a quoted line break that crosses a split boundary (splits are
``spark.sql.files.maxPartitionBytes``, 128 MB by default) is not joined across it: its pieces
become ``malformed_row`` rejects (never lost) where the local engine would read one record.
"""

from __future__ import annotations

import csv
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..exceptions import InputError
from ..io import (
    LINE_NUMBER,
    MALFORMED,
    RAW_LINE,
    check_column_names,
    checked_csv_records,
    csv_delimiter,
    json_line_kind,
)
from ..schema import ROW

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

FILE, BLOCK = "__file__", "__block__"
JSON_TEXT = "__json__"
TEXT_FORMATS = ("csv", "tsv", "jsonl")


@dataclass
class InputPlan:
    """How an input is numbered: its format, columns and every split's first row and first line."""

    uri: str
    fmt: str
    columns: list[str]
    separators: dict[str, str] = field(default_factory=dict)  # CSV/TSV: file → delimiter
    blocks: dict[str, list[int]] = field(default_factory=dict)  # "file|start" → [first row, first line, rows]
    rows: int = 0
    json_schema: str | None = None  # JSONL: the inferred Spark schema (JSON)

    def to_dict(self) -> dict[str, Any]:
        return {"uri": self.uri, "fmt": self.fmt, "columns": self.columns, "separators": self.separators,
                "blocks": self.blocks, "rows": self.rows, "json_schema": self.json_schema}

    def blocks_between(self, lo: int, hi: int) -> list[tuple[str, int]]:
        """The splits holding rows ``lo`` to ``hi - 1``."""
        keys = []
        for key, (first, _, rows) in self.blocks.items():
            if rows and first < hi and first + rows > lo:
                file, start = key.rsplit("|", 1)
                keys.append((file, int(start)))
        return keys


def _key(file: str, block: int) -> str:
    return f"{file}|{int(block)}"


def scan(spark: SparkSession, uri: str, fmt: str) -> DataFrame:
    """The input as Spark reads it, with the file and split of every row (lines for CSV/TSV/JSONL)."""
    from pyspark.sql import functions as F

    where = [F.col("_metadata.file_path").alias(FILE), F.col("_metadata.file_block_start").alias(BLOCK)]
    if fmt == "parquet":
        frame = spark.read.parquet(uri)
        if ROW in frame.columns:
            raise InputError(f"input {uri!r} already has a {ROW!r} column; rename it before scoring.")
        return frame.select("*", *where)
    return spark.read.text(uri).select("value", *where)


def _splits(batches: Iterator[pd.DataFrame], columns: list[str]) -> Iterator[tuple[str, int, Iterator[tuple]]]:
    """Rows of consecutive batches grouped by split, in the order Spark read them."""
    rows = (row for batch in batches for row in
            zip(batch[FILE], batch[BLOCK], *(batch[c] for c in columns), strict=True))
    for (file, block), group in itertools.groupby(rows, key=lambda row: (row[0], row[1])):
        yield file, int(block), (row[2:] for row in group)


class _Counted:
    """An iterator of a split's lines (with a line ending added) that counts them."""

    def __init__(self, values: Iterator[tuple]) -> None:
        self.values = values
        self.count = 0

    def __iter__(self) -> _Counted:
        return self

    def __next__(self) -> str:
        (line,) = next(self.values)
        self.count += 1
        return (line or "") + "\n"


def _records(fmt: str, lines: _Counted, separator: str, width: int, header: bool,
             first_line: int) -> Iterator[list]:
    """The checked records of a split: cells + [kind, raw_line, line_number] (JSONL: [json text] + marks)."""
    if fmt != "jsonl":
        yield from checked_csv_records(lines, separator, width, skip_header=header, first_line=first_line)
        return
    for line in lines:
        if line.strip():
            kind = json_line_kind(line)
            text = line.rstrip("\r\n")
            yield [text, None, None, None] if kind is None else [None, kind, text, first_line + lines.count - 1]


def _headers(spark: SparkSession, uri: str, fmt: str) -> tuple[list[str], dict[str, str]]:
    """The columns of CSV/TSV input and each file's delimiter (every file's header must match)."""
    from pyspark.sql import functions as F

    lines = scan(spark, uri, fmt).withColumn("position", F.monotonically_increasing_id())
    firsts = (lines.filter((F.col(BLOCK) == 0) & (F.length(F.trim("value")) > 0)).groupBy(FILE)
              .agg(F.min_by("value", "position").alias("header")).collect())
    if not firsts:
        raise InputError(f"input {uri!r} is empty; expected a {fmt.upper()} table with a header row.")
    columns: list[str] | None = None
    separators = {}
    for row in sorted(firsts, key=lambda r: r[FILE]):
        line = row["header"].lstrip("\ufeff")
        separator = csv_delimiter(line, fmt)
        names = next(csv.reader([line], delimiter=separator))
        check_column_names(names, row[FILE])
        if columns is not None and names != columns:
            raise InputError(f"{row[FILE]!r} has the columns {names}, other files of {uri!r} have {columns}; "
                             "score files with different columns separately.")
        columns, separators[row[FILE]] = names, separator
    return columns or [], separators


def plan_input(spark: SparkSession, uri: str, fmt: str) -> InputPlan:
    """Read ``uri`` once on the executors to number it (see the module notes); only split counts reach the driver."""
    if fmt == "parquet":
        frame = scan(spark, uri, fmt)
        plan = InputPlan(uri, fmt, [c for c in frame.columns if c not in (FILE, BLOCK)])
        counts = [(r[FILE], r[BLOCK], r["count"], 0) for r in frame.groupBy(FILE, BLOCK).count().collect()]
    else:
        columns, separators = _headers(spark, uri, fmt) if fmt != "jsonl" else ([], {})
        plan = InputPlan(uri, fmt, columns, separators)

        def count_splits(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
            for file, block, values in _splits(batches, ["value"]):
                lines = _Counted(values)
                records = sum(1 for _ in _records(fmt, lines, separators.get(file, ","), len(columns),
                                                  block == 0, 1))
                yield pd.DataFrame({FILE: [file], BLOCK: [block], "count": [records], "lines": [lines.count]})

        schema = f"{FILE} string, {BLOCK} long, count long, lines long"
        counts = [(r[FILE], r[BLOCK], r["count"], r["lines"])
                  for r in scan(spark, uri, fmt).mapInPandas(count_splits, schema).collect()]
    first_row, first_line, previous = 0, 0, None
    for file, block, rows, lines in sorted(counts):
        first_line = first_line if file == previous else 0
        plan.blocks[_key(file, block)] = [first_row, first_line, rows]
        first_row, first_line, previous = first_row + rows, first_line + lines, file
    plan.rows = first_row
    if fmt == "jsonl" and plan.rows:
        plan.columns, plan.json_schema = _json_columns(spark, plan)
    return plan


def _json_columns(spark: SparkSession, plan: InputPlan) -> tuple[list[str], str]:
    """JSONL columns (the first object's keys first) and their types as Spark infers them."""
    from pyspark.sql import functions as F

    good = number(spark, plan, 0, plan.rows).filter(F.col(JSON_TEXT).isNotNull())
    first = good.orderBy(ROW).select(JSON_TEXT).first()
    schema = spark.read.option("mode", "PERMISSIVE").json(good.select(JSON_TEXT).rdd.map(lambda r: r[0])).schema
    names = [f.name for f in schema.fields if f.name != "_corrupt_record"]
    ordered = [k for k in json.loads(first[0]) if k in names] if first else []
    columns = ordered + [n for n in names if n not in ordered]
    if ROW in columns:
        raise InputError(f"input {plan.uri!r} already has a {ROW!r} field; rename it before scoring.")
    return columns, schema.json()


def number(spark: SparkSession, plan: InputPlan, lo: int, hi: int) -> DataFrame:
    """Rows ``lo`` to ``hi - 1`` of the input with ``row_number`` (and, for CSV/TSV/JSONL, the malformed marks).

    JSONL rows carry their JSON text (parsed into columns by :func:`json_columns`).
    """
    from pyspark.sql import functions as F

    frame = scan(spark, plan.uri, plan.fmt)
    wanted = plan.blocks_between(lo, hi)
    if not wanted:
        raise InputError(f"input {plan.uri!r} has no rows {lo} to {hi - 1}.")
    frame = frame.filter(F.concat_ws("|", F.col(FILE), F.col(BLOCK).cast("string"))
                         .isin([_key(f, b) for f, b in wanted]))
    blocks, fmt, columns, separators = plan.blocks, plan.fmt, plan.columns, plan.separators

    def where(file: str, block: int) -> list[int]:
        try:
            return blocks[_key(file, block)]
        except KeyError:
            raise InputError(f"the input {plan.uri!r} was split differently from when this run was planned "
                             f"(split {file} at {block} is new); was it changed? Rerun without --resume.") from None

    if fmt == "parquet":
        data = [c for c in frame.columns if c not in (FILE, BLOCK)]
        schema = frame.select(F.lit(0).cast("long").alias(ROW), *data).schema

        def number_rows(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
            seen: dict[tuple[str, int], int] = {}
            for batch in batches:
                keys = list(zip(batch[FILE], batch[BLOCK].astype(int), strict=True))
                rows = []
                for file, block in keys:
                    position = seen.get((file, block), 0)
                    seen[(file, block)] = position + 1
                    rows.append(where(file, block)[0] + position)
                out = batch.drop(columns=[FILE, BLOCK])
                out.insert(0, ROW, rows)
                yield out[(out[ROW] >= lo) & (out[ROW] < hi)]

        return frame.mapInPandas(number_rows, schema)

    cells = [JSON_TEXT] if fmt == "jsonl" else columns
    schema = ", ".join([f"`{ROW}` long", *[f"`{c}` string" for c in cells], f"`{MALFORMED}` string",
                        f"`{RAW_LINE}` string", f"`{LINE_NUMBER}` long"])

    def number_lines(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        names = [ROW, *cells, MALFORMED, RAW_LINE, LINE_NUMBER]
        for file, block, values in _splits(batches, ["value"]):
            first_row, first_line, _ = where(file, block)
            records = _records(fmt, _Counted(values), separators.get(file, ","), len(columns), block == 0,
                               first_line + 1)
            kept = [[first_row + i, *record] for i, record in enumerate(records) if lo <= first_row + i < hi]
            for start in range(0, len(kept), 10_000):
                yield pd.DataFrame(kept[start:start + 10_000], columns=names)

    numbered = frame.select("value", FILE, BLOCK).mapInPandas(number_lines, schema)
    if fmt == "jsonl" and plan.json_schema is not None:
        return json_columns(numbered, plan)
    return numbered


def json_columns(numbered: DataFrame, plan: InputPlan) -> DataFrame:
    """Numbered JSONL rows with their JSON text parsed into the plan's columns (nested values as JSON text)."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import ArrayType, MapType, StructType

    schema = StructType.fromJson(json.loads(plan.json_schema))
    types = {f.name: f.dataType for f in schema.fields}
    parsed = numbered.withColumn(JSON_TEXT, F.from_json(JSON_TEXT, schema))
    cells = [F.to_json(F.col(JSON_TEXT)[c]).alias(c) if isinstance(types[c], StructType | ArrayType | MapType)
             else F.col(JSON_TEXT)[c].alias(c) for c in plan.columns]
    return parsed.select(ROW, *cells, MALFORMED, RAW_LINE, LINE_NUMBER)
