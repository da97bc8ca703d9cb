"""Very wide tables (a few rows, thousands of columns): read and written whole, in time linear in the width."""

from __future__ import annotations

import time
import timeit
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from complaintkit.io import read_table, write_table
from complaintkit.io.readers import duplicate_names
from complaintkit.scoring.parts import assemble, write_part


def _wide(columns: int, rows: int = 3) -> pd.DataFrame:
    values = np.random.default_rng(0).integers(0, 10**6, size=(rows, columns)).astype(str)
    return pd.DataFrame(values, columns=["text", *(f"c{i}" for i in range(1, columns))]).astype(object)


def _best_time(call) -> float:
    return min(timeit.repeat(call, number=1, repeat=2))


@pytest.mark.parametrize("fmt", ["csv", "tsv", "parquet", "jsonl"])
def test_a_wide_table_round_trips_in_every_format(tmp_path: Path, fmt: str) -> None:
    frame = _wide(1500)
    write_table(frame, tmp_path / f"wide.{fmt}")
    back = read_table(tmp_path / f"wide.{fmt}")
    assert list(back.columns) == list(frame.columns)
    assert back.astype(str).equals(frame.astype(str))


def test_scoring_output_of_a_wide_table_is_assembled_whole(tmp_path: Path) -> None:
    frame = _wide(3000)
    write_part(frame, tmp_path / "part.parquet")
    for fmt in ("parquet", "csv"):
        assemble([tmp_path / "part.parquet"], tmp_path / f"out.{fmt}")
        assert read_table(tmp_path / f"out.{fmt}").astype(str).equals(frame.astype(str))


def test_reading_and_assembling_grow_linearly_with_the_width(tmp_path: Path) -> None:
    """4 times the columns may take about 4 times as long; a quadratic step would take 16 times."""
    ratios = {}
    for name, step in {"read csv": lambda f, n: read_table(f"{tmp_path}/w{n}.csv"),
                       "assemble": lambda f, n: assemble([tmp_path / f"p{n}.parquet"], tmp_path / f"o{n}.parquet")
                       }.items():
        times = []
        for n in (1000, 4000):
            frame = _wide(n)
            write_table(frame, tmp_path / f"w{n}.csv")
            write_part(frame, tmp_path / f"p{n}.parquet")
            times.append(_best_time(lambda f=frame, n=n, s=step: s(f, n)))
        ratios[name] = times[1] / times[0]
    assert all(ratio < 9 for ratio in ratios.values()), ratios


def test_duplicate_column_names_are_found_in_linear_time() -> None:
    names = [f"c{i}" for i in range(200_000)] + ["c7", "c7", "c42"]
    started = time.perf_counter()
    assert duplicate_names(names) == ["c42", "c7"]
    assert time.perf_counter() - started < 2  # the quadratic scan took hours at this width
