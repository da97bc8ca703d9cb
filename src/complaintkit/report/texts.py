"""The complaint texts of a scored table, kept out of memory until a section needs some of them.

The report needs every row's text only for two numbers (is it present, how long is it); it shows
and clusters a few thousand sampled rows. :class:`ParquetTexts` reads a Parquet table's text column
batch by batch for those, so a report on millions of rows never holds every narrative at once;
:class:`SeriesTexts` wraps texts already in memory (a CSV table, or a DataFrame passed in Python).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..io import iter_parquet_batches

BATCH_ROWS = 65_536


def is_string_type(kind: pa.DataType) -> bool:
    """Whether Arrow values of type ``kind`` read as Python strings (plain or dictionary-encoded)."""
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


class SeriesTexts:
    """Texts held in a pandas Series (index = the scored table's index)."""

    def __init__(self, values: pd.Series) -> None:
        self.values = values

    @property
    def present(self) -> pd.Series:
        """Whether each row has a text (not missing)."""
        return self.values.notna()

    def lengths(self) -> pd.Series:
        """Characters per row, missing texts as 0."""
        return self.values.str.len().fillna(0)

    def take(self, labels: Sequence[Any]) -> pd.Series:
        """The texts of the rows with index ``labels``, indexed by them."""
        return self.values.loc[list(labels)]


class ParquetTexts:
    """The string column ``column`` of the Parquet table at ``path``, read in batches on demand.

    Row ``i`` of the table has index label ``i`` (as :func:`complaintkit.io.read_table` numbers rows).
    """

    def __init__(self, path: str | Path, column: str, rows: int) -> None:
        self.path, self.column, self.rows = Path(path), column, rows
        self._present: pd.Series | None = None
        self._lengths: pd.Series | None = None

    def _batches(self) -> Iterator[pa.Array]:
        for batch in iter_parquet_batches(self.path, [self.column], BATCH_ROWS):
            values = batch.column(0)
            yield values.dictionary_decode() if pa.types.is_dictionary(values.type) else values

    def _scan(self) -> None:
        present, lengths = [], []
        for values in self._batches():
            present.append(pc.is_valid(values).to_numpy(zero_copy_only=False))
            lengths.append(pc.utf8_length(values).to_numpy(zero_copy_only=False).astype(float))
        self._present = pd.Series(np.concatenate(present) if present else np.zeros(0, bool))
        self._lengths = pd.Series(np.nan_to_num(np.concatenate(lengths) if lengths else np.zeros(0)))

    @property
    def present(self) -> pd.Series:
        """Whether each row has a text (not null); computed in one pass with :meth:`lengths`."""
        if self._present is None:
            self._scan()
        return self._present

    def lengths(self) -> pd.Series:
        """Characters per row, missing texts as 0."""
        if self._lengths is None:
            self._scan()
        return self._lengths

    def take(self, labels: Sequence[Any]) -> pd.Series:
        """The texts of rows ``labels`` (row positions), indexed by them, in one pass over the column."""
        labels = np.asarray(list(labels), dtype=np.int64)
        wanted = np.unique(labels)
        pieces, found, start = [], 0, 0
        for values in self._batches():
            stop = start + len(values)
            inside = wanted[(wanted >= start) & (wanted < stop)]
            if len(inside):  # converted as reading the whole table would (same dtype, same missing values)
                piece = values.take(pa.array(inside - start)).to_pandas()
                pieces.append(piece.set_axis(inside))
                found += len(inside)
            start = stop
            if found == len(wanted):
                break
        if not pieces:
            return pd.Series([], index=labels, dtype=object)
        return pd.concat(pieces).loc[labels]

Texts = SeriesTexts | ParquetTexts
