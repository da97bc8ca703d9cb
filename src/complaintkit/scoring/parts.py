"""A run's finished chunks as Parquet parts in a work folder: the manifest that lets a killed run
resume, and the assembly of the parts into the output file. Used by every engine."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ..exceptions import InputError
from ..io import atomic_write, table_format
from ..io.writers import write_delimited
from ..schema import REASON

MANIFEST = "manifest.json"


def write_part(frame: Any, path: Path) -> None:
    """Write DataFrame ``frame`` as the Parquet part ``path``, atomically."""
    with atomic_write(path) as tmp:
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp)


def read_part_reasons(rejected_part: Path) -> list[str]:
    """The reject reasons stored in a finished rejects part."""
    return pq.read_table(rejected_part, columns=[REASON]).column(REASON).to_pylist()


def work_folder(output: Path) -> Path:
    """The hidden folder next to ``output`` that holds its run's parts."""
    return output.with_name(f".{output.name}.parts")


def manifest(input_path: Path, settings: dict[str, Any], fingerprint: Any, chunk_size: int) -> dict[str, Any]:
    """What identifies a run: the input file (path, size, time), the model, the job's settings, the chunk size."""
    stat = input_path.stat()
    record = {"input": str(input_path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
              "model": fingerprint, "job": settings, "chunk_size": chunk_size}
    return json.loads(json.dumps(record))  # as it reads back from manifest.json (tuples become lists)


def prepare_workdir(workdir: Path, record: dict[str, Any], resume: bool) -> None:
    """Start ``workdir`` afresh with manifest ``record``, or keep it when resuming the same run.

    Raises
    ------
    InputError
        If ``resume`` and the unfinished run there had another manifest.
    """
    manifest_file = workdir / MANIFEST
    if resume and manifest_file.exists():
        previous = json.loads(manifest_file.read_text())
        if previous != record:
            raise InputError(
                f"cannot resume: the unfinished run in {str(workdir)!r} used another input, bundle or "
                "options; rerun without --resume to start again."
            )
        return
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    manifest_file.write_text(json.dumps(record))


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with ``schema``'s columns in its order, null where ``table`` lacks one (e.g. ``raw_line``)."""
    present = set(table.column_names)  # a set: column_names builds a new list on every call (20,000 columns)
    columns = [table.column(f.name).cast(f.type) if f.name in present else pa.nulls(len(table), f.type)
               for f in schema]
    return pa.Table.from_arrays(columns, schema=schema)


def assemble(parts: list[Path], target: Path, formulas: str = "neutralise") -> None:
    """Concatenate Parquet ``parts`` into ``target`` (format by extension), atomically.

    CSV and TSV text cells that a spreadsheet would run as formulas get a leading ``'``
    unless ``formulas="keep"`` (:func:`~complaintkit.io.spreadsheet.neutralise_frame`).
    """
    fmt = table_format(target)
    if fmt == "parquet" and len(parts) == 1:  # the one part is the output: copied, not decoded and written again
        with atomic_write(target) as tmp:
            shutil.copyfile(parts[0], tmp)
        return
    schema = pa.unify_schemas([pq.read_schema(p) for p in parts], promote_options="permissive")
    with atomic_write(target) as tmp:
        if fmt == "parquet":
            with pq.ParquetWriter(tmp, schema) as writer:
                for part in parts:
                    writer.write_table(_conform(pq.read_table(part), schema))
        else:
            with open(tmp, "w", encoding="utf-8", newline="") as handle:
                for i, part in enumerate(parts):
                    frame = _conform(pq.read_table(part), schema).to_pandas()
                    if fmt == "jsonl":
                        frame.to_json(handle, orient="records", lines=True, force_ascii=False)
                    else:
                        write_delimited(frame, handle, fmt, header=i == 0, formulas=formulas)


def default_rejects_path(output: Path) -> Path:
    """``scores.parquet`` → ``scores.rejects.parquet``."""
    return output.with_name(f"{output.stem}.rejects{output.suffix}")
