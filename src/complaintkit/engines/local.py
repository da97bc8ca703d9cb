"""The local engine: chunks scored in this process, or in a pool of worker processes.

Each worker process loads the model once, when it starts, and writes its chunks' Parquet
parts itself; results come back in input order whatever order the workers finish in.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from .. import _logging
from ..cpu import idle_cores

# (rows in the chunk, its reject reasons if already done, else the arguments of ChunkJob.process)
Task = tuple[int, list[str] | None, tuple[Any, ...] | None]


def set_torch_threads(threads: int | None) -> None:
    """Use ``threads`` intra-op threads in torch (``None`` keeps torch's default)."""
    if threads is None:
        return
    import torch

    torch.set_num_threads(threads)


class _WorkerPredictor:
    """The model a worker process loaded for its job: set once by the pool's initializer, in that process only."""

    loaded: Any = None


def _start_worker(threads: int | None, log_level: int, job: Any) -> None:
    _logging.logger.setLevel(log_level)
    set_torch_threads(threads)
    _WorkerPredictor.loaded = job.load()


def _process_in_worker(job: Any, *args: Any) -> list[str]:
    return job.process(_WorkerPredictor.loaded, *args)


def default_threads(workers: int) -> int | None:
    """Torch threads per process: the idle cores shared out among ``workers`` (see :func:`idle_cores`).

    One process on an idle machine gets torch's default (``None``: one thread per core). On a
    shared machine torch's threads wait for each other: with a load of 2.5 on 2 cores, torch's
    default ran at 0.82x the naive path and one thread at 1.06x.
    """
    idle = idle_cores()
    if workers > 1:
        return max(1, idle // workers)
    return None if idle >= (os.cpu_count() or 1) else idle


def map_chunks(job: Any, tasks: Iterable[Task], predictor: Any = None, workers: int = 1,
               threads: int | None = None) -> Iterator[tuple[int, list[str]]]:
    """Run ``job.process`` on every pending task; yield ``(rows, reject reasons)`` in task order.

    Parameters
    ----------
    job : ChunkJob
        What to do with each chunk (pickled to the workers: it holds paths, not models).
    tasks : iterable of (int, list or None, tuple or None)
        Rows, reasons of an already finished chunk (resumed), or ``process`` arguments.
    predictor : Bundle or SentenceTransformerEmbedder or None, default=None
        What this process predicts with (``None``: ``job.load()``); worker processes load their own.
    workers : int, default=1
        1 scores in this process; more start a pool of that many processes.
    threads : int or None, default=None
        Torch threads per process; ``None`` means :func:`default_threads`.
    """
    if workers < 1:
        raise ValueError(f"The 'workers' parameter must be >= 1. Got {workers!r} instead.")
    threads = threads if threads is not None else default_threads(workers)
    if workers == 1:
        set_torch_threads(threads)
        predictor = predictor if predictor is not None else job.load()
        for n_rows, done, args in tasks:
            yield n_rows, done if args is None else job.process(predictor, *args)
        return
    context = multiprocessing.get_context("spawn")  # fork would copy torch's thread pools
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker,
                             initargs=(threads, _logging.logger.getEffectiveLevel(), job)) as pool:
        pending: deque[tuple[int, list[str] | Future]] = deque()
        for n_rows, done, args in tasks:
            pending.append((n_rows, done if args is None else pool.submit(_process_in_worker, job, *args)))
            while len(pending) > 2 * workers:
                yield _result(pending.popleft())
        while pending:
            yield _result(pending.popleft())


def _result(item: tuple[int, list[str] | Future]) -> tuple[int, list[str]]:
    n_rows, value = item
    return n_rows, value.result() if isinstance(value, Future) else value
