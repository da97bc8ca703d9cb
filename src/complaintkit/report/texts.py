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

from ..io import iter_parquet_batches, parquet_row_groups

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

    def prefetch(self, labels: Sequence[Any]) -> None:
        """Nothing to do: every text is in memory already."""

    def take(self, labels: Sequence[Any]) -> pd.Series:
        """The texts of the rows with index ``labels``, indexed by them."""
        return self.values.loc[list(labels)]


class ParquetTexts:
    """The string column ``column`` of the Parquet table at ``path``, read on demand.

    Row ``i`` of the table has index label ``i`` (as :func:`complaintkit.io.read_table` numbers rows).
    Texts once read are kept, so a report that asks for the same rows twice reads them once.
    """

    def __init__(self, path: str | Path, column: str, rows: int) -> None:
        self.path, self.column, self.rows = Path(path), column, rows
        self._present: pd.Series | None = None
        self._lengths: pd.Series | None = None
        self._read = pd.Series([], index=pd.Index([], dtype=np.int64), dtype=object)

    def _batches(self) -> Iterator[pa.Array]:
        for batch in iter_parquet_batches(self.path, [self.column], BATCH_ROWS):
            yield _decoded(batch.column(0))

    def _scan(self) -> None:
        present, lengths = [], []
        for values in self._batches():
            present.append(pc.is_valid(values).to_numpy(zero_copy_only=False))
            lengths.append(pc.utf8_length(values).to_numpy(zero_copy_only=False).astype(float))
        self._present = pd.Series(np.concatenate(present) if present else np.zeros(0, bool))
        self._lengths = pd.Series(np.nan_to_num(np.concatenate(lengths) if lengths else np.zeros(0)))

    @property
    def present(self) -> pd.Series:
        """Whether each row has a text (not null); from the file's statistics when they say there are no nulls."""
        if self._present is None:
            if all(nulls == 0 for *_, nulls in parquet_row_groups(self.path, self.column)):
                self._present = pd.Series(np.ones(self.rows, dtype=bool))
            else:
                self._scan()
        return self._present

    def lengths(self) -> pd.Series:
        """Characters per row, missing texts as 0."""
        if self._lengths is None:
            self._scan()
        return self._lengths

    def prefetch(self, labels: Sequence[Any]) -> None:
        """Read the texts of rows ``labels`` now, in one pass, so that later :meth:`take` calls need none."""
        wanted = np.setdiff1d(np.asarray(list(labels), dtype=np.int64), self._read.index.to_numpy())
        pieces = []
        for parquet, index, start, _ in parquet_row_groups(self.path, self.column) if len(wanted) else ():
            inside = wanted[(wanted >= start) & (wanted < start + parquet.metadata.row_group(index).num_rows)]
            if len(inside):  # converted as reading the whole table would (same dtype, same missing values)
                values = _decoded(parquet.read_row_group(index, columns=[self.column]).column(0).combine_chunks())
                pieces.append(values.take(pa.array(inside - start)).to_pandas().set_axis(inside))
        if pieces:
            self._read = pd.concat([self._read, *pieces])

    def take(self, labels: Sequence[Any]) -> pd.Series:
        """The texts of rows ``labels`` (row positions), indexed by them; reads only rows not read before."""
        labels = np.asarray(list(labels), dtype=np.int64)
        self.prefetch(labels)
        return self._read.loc[labels]


def _decoded(values: pa.Array) -> pa.Array:
    return values.dictionary_decode() if pa.types.is_dictionary(values.type) else values


Texts = SeriesTexts | ParquetTexts
