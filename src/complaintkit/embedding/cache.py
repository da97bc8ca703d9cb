"""Where embeddings are kept: a SQLite store on disk and a small in-memory store of recent vectors.

Both are objects their owner creates and passes on; nothing here is shared by the process.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

CACHE_DIR_ENV = "COMPLAINTKIT_CACHE_DIR"


def default_cache_dir() -> Path:
    """``$COMPLAINTKIT_CACHE_DIR`` or ``~/.cache/complaintkit``."""
    return Path(os.environ.get(CACHE_DIR_ENV, Path.home() / ".cache" / "complaintkit"))


class EmbeddingCache:
    """A SQLite key-value store of float32 vectors, safe for several processes."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=120)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vector BLOB)")
            self._local.conn = conn
        return conn

    def get(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        """The stored vectors of those ``keys`` that are present."""
        found: dict[bytes, np.ndarray] = {}
        conn = self._connection()
        for start in range(0, len(keys), 900):
            batch = keys[start : start + 900]
            marks = ",".join("?" * len(batch))
            for key, blob in conn.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", batch):
                found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put(self, items: Iterable[tuple[bytes, np.ndarray]]) -> None:
        """Store ``(key, vector)`` pairs, replacing existing keys."""
        conn = self._connection()
        with conn:
            conn.executemany(
                "INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                ((key, np.asarray(vec, dtype=np.float32).tobytes()) for key, vec in items),
            )


class RecentVectors:
    """An in-memory LRU of vectors, so that two heads scoring the same chunk embed it once.

    Parameters
    ----------
    capacity : int, default=50_000
        Vectors kept; the least recently used go first.
    """

    def __init__(self, capacity: int = 50_000) -> None:
        self.capacity = capacity
        self._items: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        """The vectors of those ``keys`` that are held."""
        with self._lock:
            found = {k: self._items[k] for k in keys if k in self._items}
            for key in found:
                self._items.move_to_end(key)
        return found

    def put(self, items: Iterable[tuple[bytes, np.ndarray]]) -> None:
        """Hold ``(key, vector)`` pairs, dropping the oldest beyond ``capacity``."""
        with self._lock:
            for key, vec in items:
                self._items[key] = vec
                self._items.move_to_end(key)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)
