"""Malformed CSV records and JSONL lines become malformed_row rejects with their raw line; the rest is scored."""

from __future__ import annotations

import pandas as pd

from _helpers import KINDS, write_damaged_csv
from complaintkit.io import iter_table
from complaintkit.scoring import score_file


def test_reader_marks_each_damaged_line_and_resumes_after_it(tmp_path):
    damaged = write_damaged_csv(tmp_path / "in.csv", [f"text {i}" for i in range(200)])
    frame = pd.concat(iter_table(tmp_path / "in.csv", chunk_size=30, malformed="mark"), ignore_index=True)
    assert len(frame) == 200
    marked = frame[frame["__malformed_row__"].notna()]
    assert marked.index.tolist() == sorted(damaged)
    assert marked["raw_line"].tolist() == [damaged[i][0] for i in sorted(damaged)]
    good = frame.drop(index=list(damaged))
    assert good["id"].tolist() == [str(i) for i in range(200) if i not in damaged]
    assert good.loc[7, "text"] == 'text 7,\nsecond line of "7"'


def test_score_routes_5_percent_malformed_rows_to_rejects_and_scores_the_rest(tmp_path, trained_bundle,
                                                                            synthetic_frame):
    n = 400
    texts = [synthetic_frame["text"].iloc[i % len(synthetic_frame)] for i in range(n)]
    damaged = write_damaged_csv(tmp_path / "in.csv", texts)
    summary = score_file(trained_bundle, tmp_path / "in.csv", tmp_path / "out.csv", id_cols=["id"], chunk_size=64)
    out = pd.read_csv(tmp_path / "out.csv", dtype={"id": str})
    rejects = pd.read_csv(tmp_path / "out.rejects.csv", dtype={"id": str})
    assert len(damaged) == n // 20 and summary.rows_read == n and summary.rows_rejected == len(damaged)
    assert out["row_number"].tolist() == [i for i in range(n) if i not in damaged]
    assert out["id"].tolist() == [str(i) for i in range(n) if i not in damaged]
    assert out["root_cause"].notna().all()
    assert rejects["row_number"].tolist() == sorted(damaged)
    assert rejects["reject_reason"].tolist() == [damaged[i][1] for i in sorted(damaged)]
    assert rejects["raw_line"].tolist() == [damaged[i][0] for i in sorted(damaged)]
    assert set(summary.reject_reasons) == {reason for _, reason in KINDS.values()}


def test_broken_jsonl_lines_are_rejected_with_their_raw_line(tmp_path, trained_bundle):
    lines = ['{"id": "a", "text": "I was charged twice for my plan", "tenure": 3, "plan": "basic"}',
             '{"id": "b", "text": "the agent was rude',
             '[1, 2]',
             '',
             '{"id": "d", "text": "my internet is down again", "tenure": 12, "plan": "plus"}']
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = score_file(trained_bundle, tmp_path / "in.jsonl", tmp_path / "out.parquet", id_cols=["id"])
    out, rejects = pd.read_parquet(tmp_path / "out.parquet"), pd.read_parquet(tmp_path / "out.rejects.parquet")
    assert out["id"].tolist() == ["a", "d"] and out["tenure"].tolist() == [3, 12]
    assert rejects["reject_reason"].tolist() == ["malformed_row:bad_json", "malformed_row:not_an_object"]
    assert rejects["raw_line"].tolist() == lines[1:3] and rejects["line_number"].tolist() == [2, 3]
    assert summary.rows_read == 4
