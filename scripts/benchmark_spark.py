"""Driver memory and time of `score --engine spark` as the input grows, and executor throughput per core.

A standalone cluster is started on this host (a master and one worker with ``--cores`` cores,
separate JVMs, one torch thread per task), so the driver is only the driver. Input: real airline
complaint tweets (the shared data folder, ``COMPLAINTKIT_SHARED_DATA``). Every engine run is a
fresh driver process that reports its wall time, its peak RSS and CPU time, and those of its JVM.

Two measurements:

- **Driver scale** (``--rows``): the first ``--distinct`` tweets repeated to each size as a CSV
  file. A warm-up puts their vectors in the embedding cache, so every size reads its vectors from
  the cache (and the local engine embeds each distinct text of a chunk once): the figures measure
  the engine (reading, numbering, validation, heads, writing), not the transformer. The local
  engine scores the same files in the same run (up to ``--local-max`` rows).
- **Encoding throughput** (``--encode N``): ``N`` distinct tweets that no cache holds (each driver
  gets an empty embedding cache), scored at each ``--precision`` by the Spark executors and by the
  local engine (one process, one torch thread), each after a warm-up run of ``--fixed-rows`` other
  distinct tweets in the same driver (so the executors' Python workers have loaded the bundle). The
  rate per core is rows per CPU-second of the scoring side: the local process, or the worker and
  everything it started (executor JVM, Python workers), read from /proc every half second. On a
  shared machine CPU time says what one unshared core does; wall time says more about the load.

The bundle is trained once into ``out/bench-spark-bundle`` (300 complaint tweets, negative
reason as the root cause) unless ``--model DIR`` names one.

    nice -n 5 python scripts/benchmark_spark.py --rows 1000000 4000000
    nice -n 5 python scripts/benchmark_spark.py --rows --encode 2000 --precision auto fp32 --model DIR
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("COMPLAINTKIT_SHARED_DATA", REPO.parent / "shared" / "data"))
BUNDLE = REPO / "out" / "bench-spark-bundle"
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_flags() -> str:
    flags = set()
    with open("/proc/cpuinfo") as handle:
        for line in handle:
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    wanted = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")
    return " ".join(f"{f}={'yes' if f in flags else 'no'}" for f in wanted)


def load() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def tweets(complaints_only: bool = True) -> pd.DataFrame:
    """Airline tweets (with a negative reason if ``complaints_only``), in file order."""
    frame = pd.read_csv(SHARED / "airline" / "tweets.csv", dtype=str)
    if complaints_only:
        frame = frame[frame["negativereason"].notna()]
    return frame.reset_index(drop=True)


def bundle(model: Path | None) -> Path:
    """``model``, or a small bundle (negative reason, first 300 complaint tweets) trained once into out/."""
    if model is not None:
        return model
    if not (BUNDLE / "metadata.json").exists():
        from complaintkit import TrainConfig, train

        frame = tweets().head(300)
        frame = frame[frame.groupby("negativereason")["negativereason"].transform("size") >= 5]
        train(frame, TrainConfig(text_cols=("text",), label_col="negativereason"), name="bench-spark").save(
            BUNDLE, overwrite=True)
    return BUNDLE


def write_input(path: Path, rows: int, texts: list[str]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        pd.DataFrame({"tweet_id": [], "text": []}).to_csv(handle, index=False)
        for start in range(0, rows, 50_000):
            ids = range(start, min(start + 50_000, rows))
            pd.DataFrame({"tweet_id": [f"t{i}" for i in ids], "text": [texts[i % len(texts)] for i in ids]}
                         ).to_csv(handle, index=False, header=False)


def _descendants(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    children.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return children + [d for c in children for d in _descendants(c)]


def _cpu_seconds(fields: list[str], children: bool = False) -> float:
    """utime + stime (and, with ``children``, the reaped children's) from a /proc stat line after its ")"."""
    return sum(int(value) for value in fields[11:15 if children else 13]) / TICKS


def _jvm_figures() -> tuple[float, float]:
    """Peak RSS (VmHWM, MB) and CPU seconds of the driver's JVM, a descendant of this process."""
    peak, cpu = 0.0, 0.0
    for pid in _descendants(os.getpid()):
        try:
            if "java" not in Path(f"/proc/{pid}/cmdline").read_text():
                continue
            status = Path(f"/proc/{pid}/status").read_text()
            peak = max(peak, int(status.split("VmHWM:")[1].split()[0]) / 1024)
            cpu += _cpu_seconds(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split())
        except (OSError, IndexError):
            continue
    return peak, cpu


def tree_cpu(pid: int) -> float:
    """CPU seconds used so far by process ``pid`` and its descendants, living or reaped (a worker and its executors)."""
    total = 0.0
    for member in [pid, *_descendants(pid)]:
        try:
            total += _cpu_seconds(Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split(), children=True)
        except (OSError, IndexError):
            continue
    return total


def _cpu_now() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def one_run(engine: str, sources: list[Path], master: str | None, model: Path, precision: str,
            cache_dir: str | None) -> None:
    """Score each of ``sources`` in turn in this process with ``engine``: a start line, then a line of figures."""
    from complaintkit import Bundle
    from complaintkit.scoring import score_file

    options: dict = {"precision": precision}
    if engine == "spark":
        from pyspark.sql import SparkSession

        os.environ["PYSPARK_PYTHON"] = sys.executable
        builder = (SparkSession.builder.master(master).config("spark.ui.enabled", "false")
                   .config("spark.pyspark.python", sys.executable))
        if cache_dir:
            builder = builder.config("spark.executorEnv.COMPLAINTKIT_CACHE_DIR", cache_dir)
        builder.getOrCreate()  # the session score_file finds, with the executors' cache folder
        options.update(engine="spark", spark_master=master)
    else:
        options["threads"] = 1
    fitted = Bundle.load(model)
    for source in sources:
        cpu_before = _cpu_now()
        print(json.dumps({"start": str(source)}), flush=True)
        with tempfile.TemporaryDirectory(dir=source.parent) as folder:
            began = time.perf_counter()
            summary = score_file(fitted, source, Path(folder) / "scored.parquet", id_cols=["tweet_id"], **options)
            seconds = time.perf_counter() - began
            jvm_peak, jvm_cpu = _jvm_figures() if engine == "spark" else (0.0, 0.0)
        print(json.dumps({"rows": summary.rows_read, "scored": summary.rows_scored, "seconds": seconds,
                          "precision": summary.precision,
                          "python_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                          "python_cpu_s": _cpu_now(), "run_cpu_s": _cpu_now() - cpu_before,
                          "jvm_peak_mb": jvm_peak, "jvm_cpu_s": jvm_cpu, "load": load()}), flush=True)


def run(engine: str, sources: list[Path], master: str | None, model: Path, precision: str = "auto",
        cache_dir: Path | None = None, executors: int | None = None) -> list[dict]:
    """Score ``sources`` one after the other in one fresh driver process; the figures of each.

    ``executor_cpu_s`` of each is the CPU seconds used during it by process ``executors`` (the
    worker JVM) and everything it started (executors, Python workers), read every half second.
    """
    command = [sys.executable, __file__, "--one", engine, "--model", str(model), "--precision", precision,
               "--source", *map(str, sources)]
    if master:
        command += ["--master", master]
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1"}
    if cache_dir is not None:
        command += ["--cache-dir", str(cache_dir)]
        env["COMPLAINTKIT_CACHE_DIR"] = str(cache_dir)
    marks: list[float] = []  # executor CPU when each source started, then at the end
    peak = 0.0
    with tempfile.NamedTemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, text=True, env=env)
        try:
            while process.poll() is None:  # executors exit with the driver: their CPU is read while they live
                peak = max(peak, tree_cpu(executors)) if executors else 0.0
                started = Path(out.name).read_text().count('{"start"')
                marks += [peak] * (started - len(marks))
                time.sleep(0.5)
        finally:
            if process.poll() is None:
                process.kill()
        err.seek(0)
        if process.returncode:
            raise SystemExit(f"the {engine} run on {sources[-1].name} failed:\n{err.read()[-3000:]}")
        lines = [json.loads(line) for line in Path(out.name).read_text().splitlines() if line.startswith("{")]
    figures = [line for line in lines if "start" not in line]
    marks += [max(peak, tree_cpu(executors)) if executors else 0.0] * (len(figures) + 1 - len(marks))
    for n, one in enumerate(figures):
        one["executor_cpu_s"] = marks[n + 1] - marks[n]
    return figures


def empty_cache(folder: Path) -> Path:
    """A cache folder with no embeddings that shares the default cache's built models (the int8 graph...)."""
    from complaintkit.embedding.cache import default_cache_dir

    folder.mkdir(parents=True)
    for entry in default_cache_dir().iterdir():
        if entry.is_dir():
            (folder / entry.name).symlink_to(entry)
    os.chmod(folder, 0o777)
    return folder


HEADER = ("| engine | input rows | wall time | rows/s | driver Python peak RSS | driver Python CPU | "
          "driver JVM peak RSS | driver JVM CPU | load |\n|---|---|---|---|---|---|---|---|---|")


def row(label: str, figures: dict) -> str:
    jvm = (f"{figures['jvm_peak_mb']:.0f} MB | {figures['jvm_cpu_s']:.0f} s" if figures["jvm_peak_mb"]
           else "— | —")
    rate = figures["rows"] / figures["seconds"]
    return (f"| {label} | {figures['rows']:,} | {figures['seconds']:.0f} s | {rate:,.0f}"
            f" | {figures['python_peak_mb']:.0f} MB | {figures['python_cpu_s']:.0f} s | {jvm} | {figures['load']} |")


def driver_scale(args: argparse.Namespace, folder: Path, master: str, model: Path) -> None:
    texts = tweets()["text"].head(args.distinct).tolist()
    warm = folder / "warm.csv"
    write_input(warm, len(texts), texts)
    (figures,) = run("local", [warm], None, model)
    print(f"\nDriver scale: the first {len(texts)} complaint tweets repeated, vectors from the embedding cache "
          f"(warm-up {figures['seconds']:.0f} s, load {figures['load']}); precision {figures['precision']}; "
          f"local engine: one process, one torch thread\n\n{HEADER}", flush=True)
    for rows in args.rows:
        source = folder / f"in-{rows}.csv"
        write_input(source, rows, texts)
        if rows <= args.local_max:
            print(row("local (1 process)", run("local", [source], None, model)[0]), flush=True)
        print(row(f"spark ({args.cores} executor cores)", run("spark", [source], master, model)[0]), flush=True)
        source.unlink()


def encoding_throughput(args: argparse.Namespace, folder: Path, master: str, executors: int, model: Path) -> None:
    frame = tweets(complaints_only=False).drop_duplicates("text")
    texts = frame["text"].tolist()
    if len(texts) < args.encode + args.fixed_rows:
        raise SystemExit(f"--encode {args.encode} + --fixed-rows {args.fixed_rows} exceeds the {len(texts)} "
                         "distinct tweets; ask for fewer.")
    big, small = folder / f"distinct-{args.encode}.csv", folder / f"distinct-{args.fixed_rows}.csv"
    write_input(big, args.encode, texts[:args.encode])
    write_input(small, args.fixed_rows, texts[args.encode:args.encode + args.fixed_rows])
    print(f"\nEncoding throughput: {args.encode:,} distinct airline tweets, scored after a warm-up run of "
          f"{args.fixed_rows} other distinct tweets in the same driver (so the executors' Python workers have "
          "loaded the bundle), with an empty embedding cache. Scoring CPU: the local process's, or the executor "
          "side's (worker, executor JVM, Python workers) during the run: rows per CPU-second is what one "
          "unshared core does\n\n| engine | precision | rows | wall time | scoring CPU | rows per CPU-second "
          "| rows/hour per core | rows/s (wall) | load |\n|---|---|---|---|---|---|---|---|---|", flush=True)
    engines = [("local (1 process, 1 thread)", None), (f"spark ({args.cores} executor cores)", master)]
    for precision in args.precision:
        for n, (label, on) in enumerate(engines):
            _, timed = run("spark" if on else "local", [small, big], on, model, precision,
                           empty_cache(folder / f"cache-{precision}-{n}"), executors if on else None)
            cpu = timed["executor_cpu_s"] if on else timed["run_cpu_s"]
            print(f"| {label} | {timed['precision']} | {timed['rows']:,} | {timed['seconds']:.0f} s | {cpu:.0f} s "
                  f"| {timed['rows'] / cpu:.1f} | {timed['rows'] / cpu * 3600:,.0f} "
                  f"| {timed['rows'] / timed['seconds']:.1f} | {timed['load']} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="*", default=[10_000, 40_000, 160_000],
                        help="input sizes of the driver-scale runs (none: skip them)")
    parser.add_argument("--local-max", type=int, default=1_000_000, help="largest size the local engine scores")
    parser.add_argument("--distinct", type=int, default=200, help="distinct tweets repeated to each size")
    parser.add_argument("--encode", type=int, default=0, help="distinct tweets of the encoding-throughput runs")
    parser.add_argument("--fixed-rows", type=int, default=100, help="distinct tweets of the warm-up runs")
    parser.add_argument("--precision", nargs="+", default=["auto"], help="encoder precisions of the encoding runs")
    parser.add_argument("--cores", type=int, default=2, help="executor cores of the one worker")
    parser.add_argument("--model", type=Path, default=None, help="a saved bundle to score with (default: "
                        "train a small one once into out/bench-spark-bundle)")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--source", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--master", help=argparse.SUPPRESS)
    parser.add_argument("--cache-dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one_run(args.one, [Path(p) for p in args.source], args.master, args.model, args.precision[0], args.cache_dir)
        return
    from complaintkit.engines.standalone import start_cluster

    print(f"CPU: {os.cpu_count()} cores, {cpu_flags()}; load average {load()}", flush=True)
    model = bundle(args.model).resolve()
    with tempfile.TemporaryDirectory(prefix="bench-spark-") as folder:
        folder = Path(folder)
        cluster_folder = folder / "cluster"
        cluster_folder.mkdir()
        cluster = start_cluster(cluster_folder, workers=1, cores=args.cores, memory="4g",
                                env={**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"})
        try:
            if args.rows:
                driver_scale(args, folder, cluster.master_url, model)
            if args.encode:
                encoding_throughput(args, folder, cluster.master_url, cluster.processes["worker1"].pid, model)
        finally:
            cluster.stop()


if __name__ == "__main__":
    main()
