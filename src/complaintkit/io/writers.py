"""Writing tables in the format their extension names."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .files import atomic_write
from .readers import table_format


def write_table(frame: pd.DataFrame, path: str | Path) -> None:
    """Write ``frame`` atomically in the format given by the extension of ``path``."""
    path = Path(path)
    fmt = table_format(path) if path.suffix else "parquet"
    with atomic_write(path) as tmp:
        if fmt == "parquet":
            pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp)
        elif fmt == "jsonl":
            frame.to_json(tmp, orient="records", lines=True, force_ascii=False)
        else:
            frame.to_csv(tmp, index=False, sep="\t" if fmt == "tsv" else ",")
