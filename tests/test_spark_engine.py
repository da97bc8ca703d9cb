"""The Spark engine gives the same rows and rejects as the local engine (PySpark local mode).

The real cluster (separate JVMs, another OS user, a killed worker) is in test_spark_cluster.py.
"""

from __future__ import annotations

import json
import zipfile

import pandas as pd
import pytest

from _helpers import write_damaged_csv
from complaintkit.exceptions import BundleError, InputError, OutputExistsError
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


def read_dataset(path) -> pd.DataFrame:
    """A Parquet dataset (folder of parts) in row_number order."""
    return pd.read_parquet(path).sort_values("row_number").reset_index(drop=True)


def assert_same_rows(left: pd.DataFrame, right: pd.DataFrame) -> None:
    """Equal values, whatever the dtypes and however a missing value is spelled (None, NaN, NA)."""
    def plain(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.astype(object).where(frame.notna(), None)

    pd.testing.assert_frame_equal(plain(left), plain(right), check_dtype=False)


def without_empty_marks(frame: pd.DataFrame) -> pd.DataFrame:
    """The Spark rejects always carry raw_line and line_number; the local file only when a row was malformed."""
    return frame.drop(columns=[c for c in ("raw_line", "line_number") if c in frame and frame[c].isna().all()])


@pytest.mark.slow
def test_spark_output_equals_local_output(tmp_path, spark, trained_bundle, synthetic_frame):
    n = 600
    base = synthetic_frame["text"].tolist()
    frame = pd.DataFrame({"id": [f"s{i}" for i in range(n)], "text": [base[i % len(base)] for i in range(n)],
                          "tenure": [str(i % 40) for i in range(n)], "plan": ["basic", "plus"] * (n // 2)})
    frame.loc[::57, "text"] = ""
    frame.loc[5::111, "id"] = None
    frame.loc[7, "text"] = "Line one of a complaint,\nwith a quoted \"newline\" inside"
    frame.to_csv(tmp_path / "in.csv", index=False)

    local = score_file(trained_bundle, tmp_path / "in.csv", tmp_path / "local.parquet", id_cols=["id"],
                       chunk_size=100)
    on_spark = score_file(trained_bundle, tmp_path / "in.csv", tmp_path / "spark.parquet", id_cols=["id"],
                          chunk_size=100, engine="spark", single_file=True, batch_rows=250)

    assert (on_spark.rows_read, on_spark.reject_reasons, on_spark.chunks) == (n, local.reject_reasons, 3)
    assert (tmp_path / "spark.parquet").is_file()
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "spark.parquet"),
                                  pd.read_parquet(tmp_path / "local.parquet"), check_dtype=False)
    pd.testing.assert_frame_equal(without_empty_marks(pd.read_parquet(tmp_path / "spark.rejects.parquet")),
                                  pd.read_parquet(tmp_path / "local.rejects.parquet"), check_dtype=False)
    assert not list(tmp_path.glob(".*"))


@pytest.mark.slow
def test_spark_takes_the_cascade_setting(tmp_path, spark, cascade_bundle, synthetic_frame):
    synthetic_frame[["id", "text"]].to_csv(tmp_path / "in.csv", index=False)
    for cascade in ("on", "off"):
        score_file(cascade_bundle, tmp_path / "in.csv", tmp_path / f"{cascade}.parquet", cascade=cascade)
        score_file(cascade_bundle, tmp_path / "in.csv", tmp_path / f"spark-{cascade}.parquet", cascade=cascade,
                   engine="spark", single_file=True)
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / f"spark-{cascade}.parquet"),
                                      pd.read_parquet(tmp_path / f"{cascade}.parquet"), check_dtype=False)
    on, off = (pd.read_parquet(tmp_path / f"{c}.parquet")["root_cause_proba"] for c in ("on", "off"))
    assert not on.equals(off)  # the executors used the setting, not the bundle's default


@pytest.mark.slow
def test_spark_routes_malformed_csv_rows_to_rejects_like_the_local_engine(tmp_path, spark, trained_bundle,
                                                                          synthetic_frame):
    texts = [synthetic_frame["text"].iloc[i % len(synthetic_frame)] for i in range(200)]
    damaged = write_damaged_csv(tmp_path / "in.csv", texts)
    local = score_file(trained_bundle, tmp_path / "in.csv", tmp_path / "local.parquet", id_cols=["id"],
                       chunk_size=64)
    on_spark = score_file(trained_bundle, tmp_path / "in.csv", tmp_path / "scored", id_cols=["id"],
                          chunk_size=64, engine="spark", batch_rows=120)
    assert (on_spark.rows_read, on_spark.reject_reasons) == (200, local.reject_reasons)
    assert on_spark.output.endswith("/scored") and on_spark.rejects.endswith("/scored.rejects")
    rejects = read_dataset(tmp_path / "scored.rejects")
    assert rejects["row_number"].tolist() == sorted(damaged)
    assert rejects["raw_line"].tolist() == [damaged[i][0] for i in sorted(damaged)]
    pd.testing.assert_frame_equal(rejects, pd.read_parquet(tmp_path / "local.rejects.parquet"), check_dtype=False)
    pd.testing.assert_frame_equal(read_dataset(tmp_path / "scored"), pd.read_parquet(tmp_path / "local.parquet"),
                                  check_dtype=False)
    assert (tmp_path / "scored" / "_SUCCESS").exists()
    assert all(p.name.startswith(("b000000-", "b000001-")) for p in (tmp_path / "scored").glob("*.parquet"))


@pytest.mark.slow
def test_spark_reads_jsonl_and_parquet_folders_and_partitions_the_output(tmp_path, spark, trained_bundle,
                                                                         synthetic_frame):
    texts = synthetic_frame["text"].tolist()
    lines = [json.dumps({"id": f"j{i}", "text": texts[i % len(texts)], "tenure": i % 9,
                         "plan": ["basic", "plus"][i % 2]}) for i in range(60)]
    lines[10] = '{"id": "j10", "text": broken'
    lines[20] = "[1, 2]"
    lines.insert(30, "")
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n")
    local = score_file(trained_bundle, tmp_path / "in.jsonl", tmp_path / "local.parquet", id_cols=["id"])
    on_spark = score_file(trained_bundle, f"file://{tmp_path}/in.jsonl", f"file://{tmp_path}/by_plan",
                          id_cols=["id"], engine="spark", partition_by="plan", chunk_size=16)
    assert on_spark.reject_reasons == local.reject_reasons == {"malformed_row:bad_json": 1,
                                                               "malformed_row:not_an_object": 1}
    assert sorted(p.name for p in (tmp_path / "by_plan").glob("plan=*")) == ["plan=basic", "plan=plus"]
    scored = read_dataset(tmp_path / "by_plan")
    expected = pd.read_parquet(tmp_path / "local.parquet")
    pd.testing.assert_frame_equal(scored[expected.columns].astype({"plan": str}), expected, check_dtype=False)
    assert_same_rows(read_dataset(tmp_path / "by_plan.rejects"), pd.read_parquet(tmp_path / "local.rejects.parquet"))

    folder = tmp_path / "parquet_in"
    folder.mkdir()
    rows = pd.DataFrame({"id": [f"p{i}" for i in range(40)], "text": [texts[i % len(texts)] for i in range(40)],
                         "tenure": list(range(40)), "plan": ["basic", "plus"] * 20})
    rows.iloc[:25].to_parquet(folder / "a.parquet")
    rows.iloc[25:].to_parquet(folder / "b.parquet")
    local = score_file(trained_bundle, folder, tmp_path / "local_pq.parquet")
    score_file(trained_bundle, folder, tmp_path / "spark_pq", engine="spark")
    pd.testing.assert_frame_equal(read_dataset(tmp_path / "spark_pq"), pd.read_parquet(tmp_path / "local_pq.parquet"),
                                  check_dtype=False)


@pytest.mark.slow
def test_spark_resume_skips_finished_batches_and_redoes_an_unfinished_one(tmp_path, spark, trained_bundle,
                                                                         synthetic_frame):
    texts = synthetic_frame["text"].tolist()
    pd.DataFrame({"id": range(90), "text": [texts[i % len(texts)] for i in range(90)], "tenure": 1,
                  "plan": "basic"}).to_csv(tmp_path / "in.csv", index=False)
    options = {"engine": "spark", "batch_rows": 30, "chunk_size": 10}
    first = score_file(trained_bundle, tmp_path / "in.csv", tmp_path / "out", **options)
    done = tmp_path / "out" / "_complaintkit" / "done"
    # as if the job was killed after batch 1's files were moved but before it was marked done
    (done / "batch-000001.json").unlink()
    (done / "batch-000002.json").unlink()
    with pytest.raises(OutputExistsError, match="already exists"):
        score_file(trained_bundle, tmp_path / "in.csv", tmp_path / "out", **options)
    resumed = score_file(trained_bundle, tmp_path / "in.csv", tmp_path / "out", resume=True, **options)
    assert (resumed.chunks, resumed.chunks_resumed, resumed.rows_scored) == (3, 1, first.rows_scored)
    assert read_dataset(tmp_path / "out")["row_number"].tolist() == list(range(90))
    with pytest.raises(InputError, match="cannot resume"):
        score_file(trained_bundle, tmp_path / "in.csv", tmp_path / "out", resume=True, **{**options, "batch_rows": 45})


def test_shipped_bundle_is_checked_against_its_recorded_hashes(tmp_path, trained_bundle):
    from complaintkit.bundle import Bundle
    from complaintkit.engines.spark_bundle import bundle_archive, unpack_bundle

    archive = bundle_archive(trained_bundle.path, tmp_path / "ship")
    assert bundle_archive(trained_bundle.path, tmp_path / "ship") == archive  # built once per content
    loaded = Bundle.load(unpack_bundle(archive, tmp_path / "worker"))
    assert loaded.metadata["artifacts"] == trained_bundle.metadata["artifacts"]

    tampered = tmp_path / "tampered" / archive.name
    tampered.parent.mkdir()
    with zipfile.ZipFile(archive) as source, zipfile.ZipFile(tampered, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            target.writestr(item, data + b"x" if item.filename.endswith(".skops") else data)
    with pytest.raises(BundleError, match="was modified"):
        Bundle.load(unpack_bundle(tampered, tmp_path / "worker2"))

    relabelled = tmp_path / "relabelled" / "complaintkit-bundle-00000000000000000000.zip"
    relabelled.parent.mkdir()
    relabelled.write_bytes(archive.read_bytes())
    with pytest.raises(BundleError, match="changed in transit"):
        unpack_bundle(relabelled, tmp_path / "worker3")


def test_uris_need_the_spark_engine_and_outputs_never_overlap_inputs(tmp_path, trained_bundle):
    from complaintkit.io import check_distinct_uris

    with pytest.raises(InputError, match="need --engine spark"):
        score_file(trained_bundle, "s3a://bucket/in.csv", tmp_path / "out.parquet")
    with pytest.raises(InputError, match="need --engine spark"):
        score_file(trained_bundle, tmp_path / "in.csv", tmp_path / "out.parquet", single_file=True)
    check_distinct_uris({"--input": "s3a://b/in/new.csv"}, {"--output": "s3a://b/in-scored", "--rejects": "s3a://b/r"})
    for inputs, outputs in [({"--input": "s3a://b/in"}, {"--output": "s3a://b/in/scored"}),
                            ({"--input": "s3a://b/in/x.csv"}, {"--output": "s3a://b/in"}),
                            ({"--input": "s3a://b/x.csv"}, {"--output": "s3a://b/o", "--rejects": "s3a://b/o/r"})]:
        with pytest.raises(InputError, match="overlap"):
            check_distinct_uris(inputs, outputs)


def test_the_cli_keeps_uris_as_written_and_local_paths_as_paths():
    from pathlib import Path

    from complaintkit.cli._options import PathOrUri

    option = PathOrUri(path_type=Path)
    assert option.convert("s3a://bucket/in/new.csv", None, None) == "s3a://bucket/in/new.csv"
    assert option.convert("file:///data/in.csv", None, None) == "file:///data/in.csv"
    assert option.convert("data/in.csv", None, None) == Path("data/in.csv")
