"""Reading and validating tables (CSV, TSV, JSONL, Parquet), in one piece or in chunks."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..exceptions import InputError, MissingColumnError
from .paths import check_input_file

FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".txt": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}


def table_format(path: str | Path) -> str:
    """Return the format of ``path`` from its extension (a directory holds Parquet files)."""
    path = Path(path)
    if path.is_dir():
        return "parquet"
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(
            f"cannot tell the format of {str(path)!r}: expected one of the extensions "
            f"{sorted(FORMATS)}, found {path.suffix or 'none'!r}; rename the file or convert it."
        )
    return fmt


_BINARY_MAGIC = {b"PK\x03\x04": "a zip archive (an Excel .xlsx workbook?)",
                 b"\xd0\xcf\x11\xe0": "an old Excel .xls workbook", b"PAR1": "a Parquet file"}


def _check_readable(path: Path, encoding: str = "utf-8-sig") -> None:
    check_input_file(path)
    if path.is_dir() or FORMATS.get(path.suffix.lower()) in (None, "parquet"):
        return  # a folder, Parquet, or an extension that table_format refuses
    with open(path, "rb") as handle:
        head = handle.read(4096)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) and "16" not in encoding:
        raise InputError(f"{str(path)!r} is UTF-16 text; pass --encoding utf-16 or re-save it as UTF-8.")
    for magic, kind in _BINARY_MAGIC.items():
        if head.startswith(magic):
            raise InputError(f"{str(path)!r} is not a text {path.suffix.lstrip('.').upper()} file: it is {kind}. "
                             "Export it as CSV (UTF-8) or name it by its real format.")
    if head.count(b"\x00") > len(head) // 10 and "16" not in encoding and "32" not in encoding:
        raise InputError(f"{str(path)!r} is not UTF-8 text (many NUL bytes: UTF-16 or a binary file); pass "
                         "--encoding utf-16 if it is UTF-16, else export it as a UTF-8 text table.")
    if path.is_file() and path.stat().st_size == 0:
        raise InputError(f"input {str(path)!r} is empty (0 bytes); expected a table with a header row.")


def _parquet_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    files = sorted(check_input_file(p) for p in path.rglob("*.parquet") if not p.name.startswith((".", "_")))
    if not files:
        raise InputError(f"directory {str(path)!r} holds no .parquet files; expected a Parquet dataset.")
    _check_same_columns(files)
    return files


def duplicate_names(names: Sequence[str]) -> list[str]:
    """The names that occur more than once, sorted (linear in the number of names: tables may be 20,000 wide)."""
    return sorted(name for name, count in Counter(names).items() if count > 1)


def _check_same_columns(files: list[Path]) -> None:
    """Raise unless every Parquet file of a folder has the first one's column names and compatible types."""
    try:
        schemas = [pq.read_schema(file) for file in files]
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"cannot read the Parquet schemas in {str(files[0].parent)!r}: "
                         f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}.") from None
    for file, schema in zip(files, schemas, strict=True):
        duplicated = duplicate_names(schema.names)
        if duplicated:
            raise InputError(f"{str(file)!r} has duplicate column names {duplicated}; rename them.")
        if set(schema.names) != set(schemas[0].names):
            raise InputError(f"the Parquet files of one folder must have the same columns: {str(file)!r} has "
                             f"{schema.names}, {str(files[0])!r} has {schemas[0].names}; score them separately.")
    try:
        pa.unify_schemas(schemas, promote_options="permissive")
    except (pa.ArrowException, TypeError) as exc:
        raise InputError(f"the Parquet files in {str(files[0].parent)!r} give one column different types "
                         f"({str(exc).splitlines()[0]}); convert them to one type or score them separately.") from None


def _check_header(path: Path, sep: str, encoding: str) -> None:
    """Raise on duplicate column names, which a reader would otherwise rename silently."""
    with open(path, encoding=encoding, errors="replace", newline="") as handle:
        for header in csv.reader(handle, delimiter=sep):
            if header:
                break
        else:
            return
    check_column_names(header, path)


def check_column_names(header: Sequence[str], path: str | Path) -> None:
    """Raise :class:`InputError` if ``header`` (the columns of ``path``) names a column twice."""
    duplicated = duplicate_names(header)
    if duplicated:
        raise InputError(f"{str(path)!r} has duplicate column names {duplicated}; rename them so that each "
                         "column has its own name.")


def _csv_dialect(path: Path, fmt: str, encoding: str) -> str:
    if fmt == "tsv":
        return "\t"
    with open(path, encoding=encoding, errors="replace", newline="") as handle:
        sample = handle.read(64 * 1024)
    return csv_delimiter(sample.split("\n", 1)[0], fmt)


def csv_delimiter(header_line: str, fmt: str) -> str:
    """The field separator of a CSV (detected from its header line) or TSV table."""
    if fmt == "tsv":
        return "\t"
    try:
        return csv.Sniffer().sniff(header_line, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


# Columns that iter_table(..., malformed="mark") adds to CSV/TSV chunks: set on malformed records only.
MALFORMED = "__malformed_row__"  # CSV: too_many_fields, too_few_fields, bad_quotes; JSONL: bad_json, not_an_object
RAW_LINE = "raw_line"  # the record's text as it is in the file
LINE_NUMBER = "line_number"  # its first physical line (1 is the header)


def iter_table(
    path: str | Path, chunk_size: int = 10_000, encoding: str = "utf-8-sig", encoding_errors: str = "strict",
    malformed: str = "raise",
) -> Iterator[pd.DataFrame]:
    """Yield ``path`` as non-empty DataFrames of at most ``chunk_size`` rows, in file order.

    CSV/TSV and JSONL columns are read as strings (so every chunk has the same schema);
    Parquet keeps its own types. The delimiter of a ``.csv`` file is detected from its header.
    A table without rows yields nothing. ``encoding_errors="replace"`` turns undecodable bytes
    into U+FFFD instead of failing.

    A CSV/TSV record with more or fewer fields than the header, or a JSONL line that is not a
    JSON object, is malformed: ``malformed="raise"``
    stops with an :class:`InputError` naming its line (a short record is padded with empty cells),
    ``"mark"`` keeps it as a row whose cells are empty and whose ``MALFORMED``, ``RAW_LINE`` and
    ``LINE_NUMBER`` columns say what and where it was (those columns are empty on every other
    row). A record that spans lines (a quoted newline) and has the wrong field count is taken to
    be an unclosed quote: only its first line is marked and reading resumes on the next line,
    so one broken quote does not swallow the rows after it.
    """
    if malformed not in ("raise", "mark"):
        raise ValueError(f"The 'malformed' parameter must be 'raise' or 'mark'. Got {malformed!r} instead.")
    for chunk in _iter_chunks(Path(path), chunk_size, encoding, encoding_errors, malformed):
        if len(chunk):
            yield chunk


def _iter_chunks(path: Path, chunk_size: int, encoding: str, encoding_errors: str,
                 malformed: str = "raise") -> Iterator[pd.DataFrame]:
    _check_readable(path, encoding)
    fmt = table_format(path)
    try:
        if fmt in ("csv", "tsv"):
            _check_header(path, _csv_dialect(path, fmt, encoding), encoding)
        if fmt in ("csv", "tsv") and malformed == "mark":
            yield from _iter_checked_csv(path, _csv_dialect(path, fmt, encoding), chunk_size, encoding,
                                         encoding_errors)
            return
        if fmt == "jsonl":
            for chunk in _iter_checked_jsonl(path, chunk_size, encoding, encoding_errors):
                if malformed == "raise" and MALFORMED in chunk and chunk[MALFORMED].notna().any():
                    first = chunk[chunk[MALFORMED].notna()].iloc[0]
                    raise InputError(f"{str(path)!r} line {first[LINE_NUMBER]} is not a JSON object "
                                     f"({first[MALFORMED]}); fix or remove that line.")
                yield chunk
            return
        if fmt == "parquet":
            for file in _parquet_files(path):
                # pre_buffer would keep every row group read so far in memory until the file is closed
                for batch in pq.ParquetFile(file, pre_buffer=False).iter_batches(batch_size=chunk_size):
                    yield batch.to_pandas()
        else:
            sep = _csv_dialect(path, fmt, encoding)
            with pd.read_csv(
                path, sep=sep, dtype=str, chunksize=chunk_size, encoding=encoding,
                keep_default_na=False, na_values=[""], encoding_errors=encoding_errors,
            ) as reader:
                yield from reader
    except InputError:
        raise
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{str(path)!r} is not valid {encoding} text (byte {exc.start}: {exc.object[exc.start:exc.start + 4]!r}); "
            "re-save it as UTF-8 or pass its encoding with --encoding (e.g. --encoding latin-1)."
        ) from None
    except LookupError:
        raise InputError(f"unknown text encoding {encoding!r}; expected a Python codec name such as "
                         "utf-8, latin-1 or cp1252.") from None
    except (IsADirectoryError, PermissionError) as exc:
        raise InputError(f"cannot read {str(path)!r}: {exc.strerror}; expected a readable {fmt} file.") from None
    except pd.errors.EmptyDataError:
        raise InputError(f"input {str(path)!r} has no header row; expected a table with column names.") from None
    except (pd.errors.ParserError, pa.ArrowException, ValueError, csv.Error, OSError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(
            f"cannot read {str(path)!r} as {fmt}: {first_line}. Check the file is a valid {fmt} table."
        ) from None


_STR = pd.read_csv(io.StringIO("a\nb"), dtype=str)["a"].dtype  # the dtype read_csv(dtype=str) gives


class _Lines:
    """The lines of a text file, with the ones the CSV reader took for its last record, and a way back."""

    def __init__(self, handle: Iterator[str]) -> None:
        self.handle = handle
        self.pending: list[str] = []  # lines to read again, in reverse order
        self.taken: list[str] = []
        self.number = 0  # physical lines read so far

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self.pending.pop() if self.pending else next(self.handle)
        self.number += 1
        self.taken.append(line)
        return line

    def give_back(self, lines: list[str]) -> None:
        self.pending.extend(reversed(lines))
        self.number -= len(lines)


def _iter_checked_csv(path: Path, sep: str, chunk_size: int, encoding: str,
                      encoding_errors: str) -> Iterator[pd.DataFrame]:
    """CSV/TSV chunks with every record's field count checked (see :func:`iter_table`, ``malformed="mark"``)."""
    header = pd.read_csv(path, sep=sep, dtype=str, nrows=0, encoding=encoding, encoding_errors=encoding_errors)
    columns = list(header.columns)
    with open(path, encoding=encoding, errors=encoding_errors, newline="") as handle:
        records: list[list[str | None]] = []
        for record in checked_csv_records(handle, sep, len(columns), skip_header=True):
            records.append(record)
            if len(records) == chunk_size:
                yield _checked_frame(records, columns)
                records = []
        if records:
            yield _checked_frame(records, columns)


def checked_csv_records(lines: Iterable[str], sep: str, width: int, skip_header: bool = False,
                        first_line: int = 1) -> Iterator[list]:
    """Parse CSV ``lines`` (each with its line ending) into records checked against ``width`` fields.

    Each record is its ``width`` cells (``None`` for empty) followed by the malformed marks
    ``[kind, raw_line, line_number]`` (all ``None`` on a good record; on a malformed one the cells
    are ``None``). ``line_number`` counts physical lines from ``first_line`` (the first line
    given). ``skip_header`` drops the first non-blank record. Blank lines are not records.
    """
    csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))  # pandas has no limit: a 1 MB text is a field
    lines = _Lines(iter(lines))
    reader = csv.reader(lines, delimiter=sep, quotechar='"', doublequote=True, strict=True)
    if skip_header:
        for header in reader:
            if header:
                break
    while True:
        lines.taken = []
        number = lines.number + first_line
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error:  # a quote closed in mid-field, or still open at the end of the lines
            fields, problem = None, "bad_quotes"
        else:
            if not fields:
                continue  # a blank line is not a row
            problem = None if len(fields) == width else ("too_many_fields" if len(fields) > width
                                                          else "too_few_fields")
        if problem is None:
            yield [value if value != "" else None for value in fields] + [None, None, None]
        else:
            if len(lines.taken) > 1:  # an unclosed quote took the lines after it: give them back
                lines.give_back(lines.taken[1:])
                lines.taken = lines.taken[:1]
            yield [None] * width + [problem, "".join(lines.taken).rstrip("\r\n"), number]


def _iter_checked_jsonl(path: Path, chunk_size: int, encoding: str, encoding_errors: str) -> Iterator[pd.DataFrame]:
    """JSONL chunks with every line checked; valid lines are read by pandas exactly as when unchecked."""
    with open(path, encoding=encoding, errors=encoding_errors) as handle:
        good: list[str] = []
        bad: list[tuple[int, str, str, int]] = []  # (row in the chunk, kind, raw line, line number)
        rows = 0
        for number, line in enumerate(handle, start=1):
            if not line.strip():  # a blank line is not a record
                continue
            kind = json_line_kind(line)
            if kind is None:
                good.append(line if line.endswith("\n") else line + "\n")
            else:
                bad.append((rows, kind, line.rstrip("\r\n"), number))
            rows += 1
            if rows == chunk_size:
                yield _checked_jsonl_frame(good, bad, rows)
                good, bad, rows = [], [], 0
        if rows:
            yield _checked_jsonl_frame(good, bad, rows)


def json_line_kind(line: str) -> str | None:
    """``None`` if ``line`` is a JSON object, else why it is malformed: ``bad_json`` or ``not_an_object``."""
    try:
        return None if isinstance(json.loads(line), dict) else "not_an_object"
    except ValueError:
        return "bad_json"


def _json_column(values: pd.Series) -> pd.Series:
    """A JSONL column typed without losing anything: whole numbers stay exact (``Int64``, or text
    beyond 64 bits or next to fractions), nested objects and lists become their JSON text."""
    present = values.dropna()
    if present.map(lambda v: isinstance(v, dict | list)).any():
        return values.map(lambda v: json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v)
    is_int = present.map(lambda v: isinstance(v, int) and not isinstance(v, bool))
    if len(present) and is_int.all():
        if present.map(lambda v: -2**63 <= v < 2**63).all():
            return values.astype("Int64")
        return values.map(lambda v: v if v is None or v != v else str(v)).astype(_STR)
    if is_int.any() and present.map(lambda v: isinstance(v, int) and abs(v) > 2**53).any():
        return values.map(lambda v: v if v is None or v != v else str(v)).astype(_STR)
    if present.map(lambda v: isinstance(v, str)).any() and not present.map(lambda v: isinstance(v, str)).all():
        return values.map(lambda v: v if v is None or v != v else str(v)).astype(_STR)
    return values.infer_objects()


def _checked_jsonl_frame(good: list[str], bad: list[tuple[int, str, str, int]], rows: int) -> pd.DataFrame:
    records = [json.loads(line) for line in good]
    frame = pd.DataFrame(records, dtype=object) if records else pd.DataFrame()  # no float detour for ints
    frame = frame.apply(_json_column) if len(frame.columns) else frame
    if not bad:
        return frame
    bad_rows = {row for row, *_ in bad}
    frame.index = [row for row in range(rows) if row not in bad_rows]
    marks = pd.DataFrame([m for _, *m in bad], columns=[MALFORMED, RAW_LINE, LINE_NUMBER],
                         index=[row for row, *_ in bad]).astype({MALFORMED: _STR, RAW_LINE: _STR,
                                                                  LINE_NUMBER: "Int64"})
    return pd.concat([frame.astype(object), marks]).sort_index().reset_index(drop=True)  # object: ints stay ints


def _checked_frame(records: list[list], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(records, columns=[*columns, MALFORMED, RAW_LINE, LINE_NUMBER], dtype=object)
    frame = frame.astype({**dict.fromkeys([*columns, MALFORMED, RAW_LINE], _STR), LINE_NUMBER: "Int64"})
    if frame[MALFORMED].isna().all():
        frame = frame.drop(columns=[MALFORMED, RAW_LINE, LINE_NUMBER])
    return frame


def read_table(path: str | Path, encoding: str = "utf-8-sig") -> pd.DataFrame:
    """Read a whole table (see :func:`iter_table` for formats and types)."""
    chunks = list(iter_table(path, chunk_size=200_000, encoding=encoding))
    frame = pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0] if chunks else None
    if frame is None or frame.empty:
        raise no_rows_error(path, "expected at least one row")
    return frame


def parquet_schema(path: str | Path) -> pa.Schema:
    """The Arrow schema of the Parquet file or dataset folder at ``path`` (its first file's)."""
    _check_readable(Path(path))
    return pq.read_schema(_parquet_files(Path(path))[0])


def iter_parquet_batches(path: str | Path, columns: Sequence[str], batch_size: int) -> Iterator[pa.RecordBatch]:
    """Arrow batches of at most ``batch_size`` rows of ``columns`` of the Parquet file or folder at ``path``."""
    _check_readable(Path(path))
    for file in _parquet_files(Path(path)):
        yield from pq.ParquetFile(file, pre_buffer=False).iter_batches(batch_size=batch_size, columns=list(columns))


def parquet_row_groups(path: str | Path, column: str) -> list[tuple[pq.ParquetFile, int, int, int | None]]:
    """Each row group of the Parquet file or folder at ``path``: its file, index, first row and ``column``'s nulls.

    Rows are numbered across the files in the order :func:`iter_parquet_batches` reads them. The
    null count is None when the file's statistics do not record it.
    """
    _check_readable(Path(path))
    groups, start = [], 0
    for file in _parquet_files(Path(path)):
        parquet = pq.ParquetFile(file, pre_buffer=False)
        for index in range(parquet.metadata.num_row_groups):
            meta = parquet.metadata.row_group(index)
            chunk = next((meta.column(j) for j in range(meta.num_columns) if meta.column(j).path_in_schema == column),
                         None)
            stats = chunk.statistics if chunk is not None else None
            nulls = stats.null_count if stats is not None and stats.has_null_count else None
            groups.append((parquet, index, start, nulls))
            start += meta.num_rows
    return groups


def no_rows_error(path: str | Path, expected: str = "nothing to score") -> InputError:
    """The error for a table that has a header but no rows."""
    return InputError(f"input {str(path)!r} has a header but no rows; {expected}.")


def require_columns(frame: pd.DataFrame, roles: dict[str, tuple[str, str]]) -> None:
    """Raise :class:`MissingColumnError` unless every column named in ``roles`` exists.

    ``roles`` maps a role ("text", "label", ...) to ``(column, option)`` where ``option`` is
    the CLI option a user would change to fix it.
    """
    for role, (column, option) in roles.items():
        if column not in frame.columns:
            raise MissingColumnError(role, column, frame.columns, option)


def join_text_columns(frame: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    """Return the text to embed: the named columns joined with ". ", empty cells skipped."""
    for column in columns:
        require_columns(frame, {"text": (column, "--text-col")})
    parts = frame[list(columns)].map(_cell_text).astype("string").fillna("")
    if len(columns) == 1:
        return parts.iloc[:, 0].str.strip()
    return parts.apply(lambda row: ". ".join(p.strip() for p in row if p.strip()), axis=1).astype("string")


def _cell_text(value: object) -> object:
    """Lists of transcript turns (from JSONL or Parquet) become JSON text; the rest is unchanged."""
    if isinstance(value, list | tuple) or (hasattr(value, "tolist") and getattr(value, "ndim", 0) == 1):
        return json.dumps(list(value.tolist() if hasattr(value, "tolist") else value), ensure_ascii=False)
    return value
