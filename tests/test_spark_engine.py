"""The Spark engine gives the same output and rejects as the local engine (PySpark local mode)."""

from __future__ import annotations

import pandas as pd
import pytest

from _helpers import write_damaged_csv
from complaintkit.scoring import score_file

pyspark = pytest.importorskip("pyspark")


@pytest.fixture(scope="session")
def spark():
    """One local Spark session for the whole test run (starting one costs 10-20 s)."""
    from complaintkit.engines.spark import spark_session

    session = spark_session("local[2]")
    session.conf.set("spark.sql.shuffle.partitions", "4")
    yield session
    session.stop()


@pytest.mark.slow
def test_spark_output_equals_local_output(tmp_path, spark, trained_bundle, synthetic_frame):
    n = 2_000
    base = synthetic_frame["text"].tolist()
    frame = pd.DataFrame({"id": [f"s{i}" for i in range(n)], "text": [base[i % len(base)] for i in range(n)],
                          "tenure": [str(i % 40) for i in range(n)], "plan": ["basic", "plus"] * (n // 2)})
    frame.loc[::97, "text"] = ""
    frame.loc[5::211, "id"] = None
    frame.loc[7, "text"] = "Line one of a complaint,\nwith a quoted \"newline\" inside"
    frame.to_csv(tmp_path / "in.csv", index=False)

    local = score_file(trained_bundle, tmp_path / "in.csv", tmp_path / "local.parquet", id_cols=["id"],
                       chunk_size=500)
    on_spark = score_file(trained_bundle, tmp_path / "in.csv", tmp_path / "spark.parquet", id_cols=["id"],
                          chunk_size=500, engine="spark")

    assert (on_spark.rows_read, on_spark.reject_reasons) == (n, local.reject_reasons)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "spark.parquet"),
                                  pd.read_parquet(tmp_path / "local.parquet"), check_dtype=False)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "spark.rejects.parquet"),
                                  pd.read_parquet(tmp_path / "local.rejects.parquet"), check_dtype=False)
    assert not list(tmp_path.glob(".*"))


@pytest.mark.slow
def test_spark_routes_malformed_csv_rows_to_rejects_like_the_local_engine(tmp_path, spark, trained_bundle,
                                                                          synthetic_frame):
    texts = [synthetic_frame["text"].iloc[i % len(synthetic_frame)] for i in range(200)]
    damaged = write_damaged_csv(tmp_path / "in.csv", texts)
    local = score_file(trained_bundle, tmp_path / "in.csv", tmp_path / "local.parquet", id_cols=["id"],
                       chunk_size=64)
    on_spark = score_file(trained_bundle, tmp_path / "in.csv", tmp_path / "spark.parquet", id_cols=["id"],
                          chunk_size=64, engine="spark")
    assert (on_spark.rows_read, on_spark.reject_reasons) == (200, local.reject_reasons)
    rejects = pd.read_parquet(tmp_path / "spark.rejects.parquet")
    assert rejects["row_number"].tolist() == sorted(damaged)
    assert rejects["raw_line"].tolist() == [damaged[i][0] for i in sorted(damaged)]
    pd.testing.assert_frame_equal(rejects, pd.read_parquet(tmp_path / "local.rejects.parquet"), check_dtype=False)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "spark.parquet"),
                                  pd.read_parquet(tmp_path / "local.parquet"), check_dtype=False)
    assert not list(tmp_path.glob(".*"))
