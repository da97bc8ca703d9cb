"""How many rows a table has, quickly and without parsing it: the total shown by progress bars."""

from __future__ import annotations

from pathlib import Path

from .readers import table_format

_BLOCK = 1 << 20


def estimate_rows(path: str | Path) -> int | None:
    """The number of rows in ``path``, or ``None`` when it cannot be told quickly.

    Parquet: exact, from the files' metadata. CSV/TSV: line breaks minus the header, so a quoted
    text spanning several lines counts more than once (an upper bound). JSONL: non-empty lines.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "t.csv").write_text("id,text\\n1,a\\n2,b\\n")
    >>> estimate_rows(folder / "t.csv")
    2
    """
    path = Path(path)
    try:
        fmt = table_format(path)
        if fmt == "parquet":
            import pyarrow.parquet as pq

            files = [path] if path.is_file() else [p for p in sorted(path.rglob("*.parquet"))
                                                   if not p.name.startswith((".", "_"))]
            if not all(f.is_file() for f in files):  # never open a FIFO or device: it can block forever
                return None
            return sum(pq.ParquetFile(f).metadata.num_rows for f in files)
        if not path.is_file():
            return None
        return _count_lines(path, skip_blank=fmt == "jsonl") - (0 if fmt == "jsonl" else 1)
    except Exception:  # a progress total is a nicety: the reader reports real problems
        return None


def _count_lines(path: Path, skip_blank: bool) -> int:
    with open(path, "rb") as handle:
        if skip_blank:
            return sum(1 for line in handle if line.strip())
        lines, last = 0, b"\n"
        while block := handle.read(_BLOCK):
            lines += block.count(b"\n")
            last = block[-1:]
    return lines + (last != b"\n")
