"""A throwaway Spark standalone cluster on this host: a master and workers, each its own JVM.

For trying the Spark engine as it runs on a cluster (executors in other processes, nothing
shared with the driver but what the job ships), for the tests and for the benchmark. A real
deployment uses its cluster manager (YARN, Kubernetes, Databricks: docs/spark-cluster.md).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class LocalCluster:
    """A running master and its workers (see :func:`start_cluster`)."""

    master_url: str
    folder: Path
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def kill(self, name: str) -> None:
        """Kill process ``name`` ("master", "worker1", ...) with everything it started (its executors)."""
        process = self.processes[name]
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def stop(self) -> None:
        for name in self.processes:
            self.kill(name)

    def session(self, app: str = "complaintkit", **conf: str) -> SparkSession:
        """A driver session on this cluster (any active session is stopped first); waits for every executor."""
        from pyspark.sql import SparkSession

        active = SparkSession.getActiveSession()
        if active is not None:
            active.stop()
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # what the executors run (read at context start)
        builder = (SparkSession.builder.appName(app).master(self.master_url)
                   .config("spark.pyspark.python", sys.executable).config("spark.ui.enabled", "false")
                   .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1"))
        for key, value in conf.items():
            builder = builder.config(key, value)
        session = builder.getOrCreate()
        workers = sum(name.startswith("worker") for name in self.processes)
        deadline = time.monotonic() + 240
        while session.sparkContext._jsc.sc().getExecutorMemoryStatus().size() < workers + 1:  # + the driver
            if time.monotonic() > deadline:
                session.stop()
                log = (self.folder / "worker1.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"the cluster's executors did not register in 240 s; worker1.log ends:\n{log}")
            time.sleep(1)
        return session


def start_cluster(folder: Path, workers: int = 2, cores: int = 1, memory: str = "2g",
                  run_as: Sequence[str] = (), env: dict[str, str] | None = None) -> LocalCluster:
    """Start a master and ``workers`` workers of ``cores`` cores each on 127.0.0.1; logs and work folders in ``folder``.

    ``run_as`` prefixes the workers' command (e.g. ``setpriv --reuid=...``) to run them as another
    user; ``env`` is their environment (default: this process's).
    """
    import pyspark

    spark_class = str(Path(pyspark.__file__).parent / "bin" / "spark-class")
    env = {**(env or os.environ), "SPARK_HOME": str(Path(pyspark.__file__).parent), "SPARK_NO_DAEMONIZE": "1",
           "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable}
    port = free_port()
    cluster = LocalCluster(f"spark://127.0.0.1:{port}", folder)

    def launch(name: str, command: list[str], extra: dict[str, str]) -> None:
        log = os.open(folder / f"{name}.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        try:
            cluster.processes[name] = subprocess.Popen(command, env={**env, **extra}, stdout=log,
                                                       stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            os.close(log)

    launch("master", [spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port",
                      str(port), "--webui-port", str(free_port())], {})
    for n in range(1, workers + 1):
        work = folder / f"worker{n}"
        work.mkdir(exist_ok=True)
        os.chmod(work, 0o777)
        launch(f"worker{n}", [*run_as, spark_class, "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
                              "--cores", str(cores), "--memory", memory, "--work-dir", str(work),
                              "--webui-port", str(free_port()), cluster.master_url],
               {"SPARK_LOCAL_DIRS": str(work)})
    return cluster
