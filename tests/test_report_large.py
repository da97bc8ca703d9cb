"""The report on a Parquet table reads its texts on demand and says exactly what the in-memory report says.

SYNTHETIC scored rows (see ``_report_data``), written in several row groups with some texts missing.
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from _report_data import synthetic_scored
from complaintkit.io import read_table
from complaintkit.report import build_report, report_file, training_profile
from complaintkit.report.run import read_scored
from complaintkit.report.texts import ParquetTexts


@pytest.fixture(scope="module")
def scored_parquet(tmp_path_factory):
    scored = synthetic_scored(rows=3000, seed=3)
    scored.loc[np.random.default_rng(0).random(len(scored)) < 0.05, "text"] = None
    path = tmp_path_factory.mktemp("large") / "scored.parquet"
    pq.write_table(pa.Table.from_pandas(scored, preserve_index=False), path, row_group_size=700)
    return path


def _without_time(report: dict) -> dict:
    return {k: v for k, v in report.items() if k != "generated_at"}


def test_parquet_texts_are_read_on_demand_with_the_same_rows(scored_parquet):
    table, texts = read_scored(scored_parquet, named=["agent_id"])
    whole = read_table(scored_parquet)
    assert isinstance(texts, ParquetTexts) and texts.column == "text"
    # only what the report reads: predictions, the named segment, the guessed id and date; no texts
    assert list(table.columns) == ["complaint_id", "date", "agent_id", "root_cause", "root_cause_proba",
                                   "needs_review", "churn_proba"]
    assert table.equals(whole[table.columns])
    assert texts.present.tolist() == whole["text"].notna().tolist()
    assert texts.lengths().tolist() == whole["text"].str.len().fillna(0).tolist()
    labels = [2999, 0, 700, 699, 1500, 0]  # across row groups, unsorted, repeated
    assert texts.take(labels).tolist() == whole["text"].loc[labels].tolist()


def test_report_on_parquet_equals_the_report_on_the_table_in_memory(scored_parquet, tmp_path):
    whole = read_table(scored_parquet)
    profile = training_profile(whole, whole["text"].fillna("").str.slice(0, 20), "root_cause")
    options = {"by": ["agent_id", "channel"], "value_col": "annual_value", "training_profile": profile,
               "previous": synthetic_scored(seed=4)}
    table, texts = read_scored(scored_parquet, named=["agent_id", "channel", "annual_value"])
    lazy = build_report(table, texts=texts, text_col=texts.column, **options)
    assert _without_time(lazy) == _without_time(build_report(whole, **options))
    assert lazy["emerging"]["clusters"] and all(c["examples"]["confident"] for c in lazy["causes"])
    written = report_file(scored_parquet, tmp_path / "report.json", fmt="json", by=["agent_id"])
    expected = build_report(whole, by=["agent_id"])
    assert _without_time(written) == _without_time(expected)
    assert json.loads((tmp_path / "report.json").read_text())["rows"] == 3000


def test_parquet_texts_without_nulls_dictionary_encoded_and_split_over_files(tmp_path):
    scored = synthetic_scored(rows=900, seed=5)
    folder = tmp_path / "dataset"
    folder.mkdir()
    for part, start in enumerate(range(0, 900, 300)):  # three files, rows numbered across them in name order
        chunk = pa.Table.from_pandas(scored.iloc[start:start + 300], preserve_index=False)
        chunk = chunk.set_column(chunk.schema.get_field_index("text"), "text", chunk["text"].dictionary_encode())
        pq.write_table(chunk, folder / f"part-{part}.parquet", row_group_size=128)
    _, texts = read_scored(folder)
    assert texts.present.all() and len(texts.present) == 900  # no nulls recorded: nothing read for this
    assert texts._read.empty
    labels = [899, 0, 300, 299, 127, 128, 0]
    assert texts.take(labels).tolist() == scored["text"].iloc[labels].tolist()
    texts.prefetch([5, 899])
    assert sorted(texts._read.index) == sorted({*labels, 5})  # rows read once, kept
    assert texts.lengths().tolist() == scored["text"].str.len().tolist()
