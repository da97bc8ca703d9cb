"""Property tests of the table readers (the strategies of scripts/fuzz_readers.py) and fuzz regressions."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from complaintkit.exceptions import InputError
from complaintkit.io import read_table

SCRIPT = Path(__file__).parents[1] / "scripts" / "fuzz_readers.py"
_spec = importlib.util.spec_from_file_location("fuzz_readers", SCRIPT)
fuzz = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fuzz)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(table=fuzz.tables())
def test_readers_answer_any_mutated_table_with_rows_or_an_input_error(table: tuple[str, bytes],
                                                                      tmp_path: Path) -> None:
    fuzz.read_or_input_error(*table, tmp_path)


@pytest.mark.parametrize("suffix", fuzz.SUFFIXES)
def test_the_fuzz_seeds_read_back_whole(suffix: str, tmp_path: Path) -> None:
    path = tmp_path / f"seed{suffix}"
    path.write_bytes(fuzz.seed_bytes(suffix))
    frame = read_table(path)
    assert frame["text"].tolist() == fuzz.SEED["text"].tolist()


def test_fuzz_regression_parquet_with_a_leading_nul_byte(tmp_path: Path) -> None:
    """Found by scripts/fuzz_readers.py: pyarrow raised OSError ("Couldn't deserialize thrift")."""
    path = tmp_path / "bad.parquet"
    path.write_bytes(b"\x00" + fuzz.seed_bytes(".parquet"))
    with pytest.raises(InputError, match=r"cannot read .*bad.parquet' as parquet: .*thrift"):
        read_table(path)
