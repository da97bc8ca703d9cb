"""Fuzz the table readers: any exception other than InputError is a crash.

Inputs are valid CSV / TSV / JSONL / Parquet tables mutated by hypothesis (bytes cut,
flipped, inserted: NULs, quotes, delimiters, BOMs, invalid UTF-8, CRs) plus raw bytes.
CSV/TSV inputs are also read as `score` reads them (``malformed="mark"``): malformed
records must come back marked with their raw line, never as an exception.
Each crash is shrunk by hypothesis, printed once per distinct error and saved under
``--crashes`` for a regression test.

    PYTHONPATH=src python scripts/fuzz_readers.py --seconds 300
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
import traceback
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from complaintkit.exceptions import InputError
from complaintkit.io import LINE_NUMBER, MALFORMED, RAW_LINE, iter_table, read_table

SEED = pd.DataFrame({"id": ["a-1", "b-2", "c-3"], "text": ["charged twice, again", 'the "agent" was rude', "ok\nline"],
                     "cause": ["billing", "staff", "service"], "tenure": [3, 10, 27]})
SUFFIXES = [".csv", ".tsv", ".jsonl", ".parquet"]
SPECIAL = [b"\x00", b"\r", b"\n", b'"', b",", b";", b"\t", b"\xef\xbb\xbf", b"\xff\xfe", b"\xc3", b"{", b"}", b"\\"]


def seed_bytes(suffix: str) -> bytes:
    """The seed table written in the format of ``suffix``."""
    if suffix == ".parquet":
        buffer = io.BytesIO()
        SEED.to_parquet(buffer)
        return buffer.getvalue()
    if suffix == ".jsonl":
        return SEED.to_json(orient="records", lines=True).encode()
    return SEED.to_csv(index=False, sep="\t" if suffix == ".tsv" else ",").encode()


@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` with a few random cuts, overwrites and insertions."""
    data = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["insert", "overwrite", "cut", "truncate"]))
        piece = draw(st.one_of(st.sampled_from(SPECIAL), st.binary(min_size=1, max_size=8)))
        if action == "insert":
            data[at:at] = piece
        elif action == "overwrite":
            data[at:at + len(piece)] = piece
        elif action == "cut":
            del data[at:at + draw(st.integers(1, 16))]
        else:
            del data[at:]
    return bytes(data)


def tables() -> st.SearchStrategy[tuple[str, bytes]]:
    """(suffix, file bytes) pairs: mutated seeds of every format, and raw bytes."""
    return st.sampled_from(SUFFIXES).flatmap(
        lambda suffix: st.tuples(st.just(suffix), st.one_of(mutated(seed_bytes(suffix)), st.binary(max_size=200))))


def read_or_input_error(suffix: str, data: bytes, folder: Path) -> None:
    """Read ``data`` as a ``suffix`` table, whole and in chunks of 2; only InputError may escape."""
    path = folder / f"fuzz{suffix}"
    path.write_bytes(data)
    try:
        frame = read_table(path)
        assert len(frame) > 0
        chunks = list(iter_table(path, chunk_size=2))
        assert sum(map(len, chunks)) == len(frame), "chunked and whole reads disagree on the row count"
    except InputError as exc:
        assert "\n" not in str(exc), f"multi-line error: {exc!r}"
    if suffix in (".csv", ".tsv"):
        read_marked_or_input_error(path)


def read_marked_or_input_error(path: Path) -> None:
    """Read CSV/TSV ``path`` as `score` does (malformed records marked): only InputError may escape."""
    try:
        chunks = list(iter_table(path, chunk_size=2, encoding_errors="replace", malformed="mark"))
    except InputError as exc:
        assert "\n" not in str(exc), f"multi-line error: {exc!r}"
        return
    for chunk in chunks:
        if MALFORMED in chunk.columns:
            marked = chunk[MALFORMED].notna()
            assert chunk.loc[marked, RAW_LINE].notna().all(), "a malformed record without its raw line"
            assert chunk.loc[marked, LINE_NUMBER].ge(2).all(), "a malformed record without its line number"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180)
    parser.add_argument("--crashes", type=Path, default=Path("fuzz-crashes"))
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="fuzz-readers-"))
    found: dict[str, tuple[str, bytes]] = {}
    examples = 0
    last: list[tuple[str, bytes]] = []

    @settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(tables())
    def round_(table: tuple[str, bytes]) -> None:
        nonlocal examples
        examples += 1
        last[:] = [table]
        read_or_input_error(*table, folder)

    start = time.monotonic()
    while time.monotonic() - start < args.seconds:
        try:
            round_()
        except Exception as exc:  # a crash: hypothesis has shrunk it, `last` holds the minimal input
            key = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            if key not in found:
                found[key] = last[0]
                print(f"CRASH {key}\n  input {last[0]!r:.300}\n  {traceback.format_exc().splitlines()[-3]}")
    elapsed = time.monotonic() - start
    print(f"fuzzed the readers for {elapsed:.0f}s: {examples} inputs, {len(found)} distinct crashes")
    if found:
        args.crashes.mkdir(parents=True, exist_ok=True)
        for i, (suffix, data) in enumerate(found.values()):
            (args.crashes / f"crash-{i}{suffix}").write_bytes(data)


if __name__ == "__main__":
    main()
