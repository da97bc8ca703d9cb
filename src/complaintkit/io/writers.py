"""Writing tables in the format their extension names."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .files import atomic_write
from .readers import table_format
from .spreadsheet import neutralise_frame


def write_table(frame: pd.DataFrame, path: str | Path, formulas: str = "neutralise") -> None:
    """Write ``frame`` atomically in the format given by the extension of ``path``.

    CSV and TSV text cells that a spreadsheet would run as formulas get a leading ``'``
    (:func:`~complaintkit.io.spreadsheet.neutralise_frame`) unless ``formulas="keep"``.
    """
    path = Path(path)
    fmt = table_format(path) if path.suffix else "parquet"
    with atomic_write(path) as tmp:
        if fmt == "parquet":
            pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp)
        elif fmt == "jsonl":
            frame.to_json(tmp, orient="records", lines=True, force_ascii=False)
        else:
            with open(tmp, "w", encoding="utf-8", newline="") as handle:
                write_delimited(frame, handle, fmt, formulas=formulas)


def write_delimited(frame: pd.DataFrame, handle: IO[str], fmt: str, header: bool = True,
                    formulas: str = "neutralise") -> None:
    """Append ``frame`` to an open CSV or TSV file (``fmt``), formula cells neutralised as ``formulas`` says.

    A text holding a bare carriage return is quoted (the CSV writer quotes only ``\n``): unquoted,
    a reader would split its row in two.
    """
    frame = neutralise_frame(frame, formulas)
    cells = frame.select_dtypes(include=["object", "string"]).to_numpy(dtype=object)  # one pass, however wide
    has_cr = bool(np.frompyfunc(lambda v: isinstance(v, str) and "\r" in v, 1, 1)(cells).any()) if cells.size else False
    frame.to_csv(handle, index=False, header=header, sep="\t" if fmt == "tsv" else ",",
                 quoting=csv.QUOTE_ALL if has_cr else csv.QUOTE_MINIMAL)
