"""Scoring tables through a bundle: one output row per valid input row, the rest rejected.

Input is streamed in chunks. Each finished chunk is written as a Parquet part in a work
folder next to the output, so a killed run can ``resume``; the output file appears under
its final name only when every chunk is done.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from . import _logging
from .bundle import Bundle
from .exceptions import InputError
from .io import check_output_path, iter_table, join_text_columns, require_columns, table_format

ROW = "row_number"
REASON = "reject_reason"
TOP_K = 3


def predict_frame(bundle: Bundle, frame: pd.DataFrame, texts: pd.Series, *, explain: bool = False,
                  language: bool = False) -> pd.DataFrame:
    """Prediction columns for ``frame`` (whose complaint texts are ``texts``), same index.

    ``explain`` adds the nearest training examples and top terms of the predicted cause
    (:func:`complaintkit.explain.explain_frame`); ``language`` adds the detected ``language``.
    """
    out = pd.DataFrame(index=frame.index)
    if frame.empty:
        return out
    if bundle.root_cause is not None:
        proba = bundle.root_cause.predict_proba(texts.tolist())
        classes = np.asarray(bundle.root_cause.classes_, dtype=object)
        order = np.argsort(-proba, axis=1, kind="stable")[:, :TOP_K]
        for k in range(order.shape[1]):
            suffix = "" if k == 0 else f"_{k + 1}"
            out[f"root_cause{suffix}"] = classes[order[:, k]]
            out[f"root_cause{suffix}_proba"] = np.take_along_axis(proba, order[:, k : k + 1], axis=1)[:, 0]
        out["needs_review"] = out["root_cause_proba"] < bundle.review_threshold
        if bundle.hierarchy:
            out["root_cause_parent"] = out["root_cause"].map(bundle.hierarchy)
        if explain:
            from .explain import explain_frame

            out = out.join(explain_frame(bundle.root_cause, texts, out["root_cause"]))
    if bundle.churn is not None:
        out["churn_proba"] = bundle.churn.predict_proba(frame.assign(text=texts))[:, 1]
    if language:
        from .language import detect_languages

        out["language"] = detect_languages(texts)
    return out


def score_frame(bundle: Bundle, frame: pd.DataFrame, text_cols: Sequence[str] | None = None, *,
                explain: bool = False, language: bool = False) -> pd.DataFrame:
    """Return ``frame`` with the prediction columns of :func:`predict_frame` appended.

    Rows with an empty text get no prediction (NaN) and ``reject_reason`` "empty_text";
    for streaming, lossless scoring of files use :func:`score_file`.
    """
    texts = join_text_columns(frame, list(text_cols or bundle.text_cols))
    empty = texts.fillna("").str.strip() == ""
    scored = predict_frame(bundle, frame[~empty], texts[~empty], explain=explain, language=language)
    result = pd.concat([frame, scored.reindex(frame.index)], axis=1)
    if empty.any():
        result[REASON] = np.where(empty, "empty_text", None)
    return result


@dataclass
class ScoreSummary:
    """What a scoring run did."""

    output: str
    rejects: str | None
    rows_read: int = 0
    rows_scored: int = 0
    rows_rejected: int = 0
    reject_reasons: dict[str, int] = field(default_factory=dict)
    chunks: int = 0
    chunks_resumed: int = 0
    seconds: float = 0.0

    @property
    def rows_per_second(self) -> float:
        return self.rows_read / self.seconds if self.seconds else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "rows_per_second": round(self.rows_per_second, 1)}


def _validate_chunk(chunk: pd.DataFrame, texts: pd.Series, id_cols: Sequence[str],
                    max_chars: int) -> pd.Series:
    reasons = pd.Series(None, index=chunk.index, dtype=object)
    for column in id_cols:
        reasons[chunk[column].isna() & reasons.isna()] = f"missing_id:{column}"
    stripped = texts.fillna("").str.strip()
    reasons[(stripped == "") & reasons.isna()] = "empty_text"
    reasons[(stripped.str.len() > max_chars) & reasons.isna()] = "text_too_long"
    return reasons


def _score_chunk(bundle: Bundle, chunk: pd.DataFrame, start: int, text_cols: Sequence[str],
                 id_cols: Sequence[str], keep_cols: Sequence[str] | None,
                 max_chars: int, extras: dict[str, bool]) -> tuple[pd.DataFrame, pd.DataFrame]:
    chunk = chunk.reset_index(drop=True)
    chunk.index = pd.RangeIndex(start, start + len(chunk))
    texts = join_text_columns(chunk, text_cols)
    reasons = _validate_chunk(chunk, texts, id_cols, max_chars)
    good = reasons.isna()
    kept = chunk if keep_cols is None else chunk[list(keep_cols)]
    scored = predict_frame(bundle, chunk[good], texts[good], **extras)
    output = pd.concat([kept[good].rename_axis(ROW).reset_index(), scored.reset_index(drop=True)], axis=1)
    rejected = chunk[~good].assign(**{REASON: reasons[~good]}).rename_axis(ROW).reset_index()
    return output, rejected


def _write_part(frame: pd.DataFrame, path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp)
    os.replace(tmp, path)


def _manifest(input_path: Path, bundle: Bundle, options: dict[str, Any]) -> dict[str, Any]:
    stat = input_path.stat()
    return {"input": str(input_path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
            "bundle": bundle.metadata.get("artifacts"), "options": options}


def _prepare_workdir(workdir: Path, manifest: dict[str, Any], resume: bool) -> None:
    manifest_file = workdir / "manifest.json"
    if resume and manifest_file.exists():
        previous = json.loads(manifest_file.read_text())
        if previous != manifest:
            raise InputError(
                f"cannot resume: the unfinished run in {str(workdir)!r} used another input, bundle or "
                "options; rerun without --resume to start again."
            )
        return
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    manifest_file.write_text(json.dumps(manifest))


def _assemble(parts: list[Path], target: Path) -> None:
    """Concatenate Parquet ``parts`` into ``target`` (format by extension), atomically."""
    fmt = table_format(target)
    tmp = target.with_name(f".{target.name}.tmp")
    schemas = [pq.read_schema(p) for p in parts]
    schema = pa.unify_schemas(schemas, promote_options="permissive")
    try:
        if fmt == "parquet":
            with pq.ParquetWriter(tmp, schema) as writer:
                for part in parts:
                    writer.write_table(pq.read_table(part).cast(schema))
        else:
            with open(tmp, "w", encoding="utf-8", newline="") as handle:
                for i, part in enumerate(parts):
                    frame = pq.read_table(part).cast(schema).to_pandas()
                    if fmt == "jsonl":
                        frame.to_json(handle, orient="records", lines=True, force_ascii=False)
                    else:
                        frame.to_csv(handle, index=False, header=i == 0, sep="\t" if fmt == "tsv" else ",")
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def default_rejects_path(output: Path) -> Path:
    """``scores.parquet`` → ``scores.rejects.parquet``."""
    return output.with_name(f"{output.stem}.rejects{output.suffix}")


def score_file(bundle: Bundle, input_path: str | Path, output: str | Path, *,
               text_cols: Sequence[str] | None = None, id_cols: Sequence[str] = (),
               keep_cols: Sequence[str] | None = None, rejects: str | Path | None = None,
               chunk_size: int = 5_000, max_chars: int = 50_000, overwrite: bool = False,
               resume: bool = False, encoding: str = "utf-8-sig", explain: bool = False,
               language: bool = False) -> ScoreSummary:
    """Score ``input_path`` into ``output`` chunk by chunk; return what happened.

    Every input row ends in ``output`` (in input order, with ``row_number``) or in the
    rejects file with a ``reject_reason`` (empty text, missing id, text over ``max_chars``).
    """
    input_path, output = Path(input_path), Path(output)
    table_format(output)
    check_output_path(output, overwrite)
    rejects_path = Path(rejects) if rejects else default_rejects_path(output)
    check_output_path(rejects_path, overwrite=True)
    text_cols = list(text_cols or bundle.text_cols)
    options = {"text_cols": text_cols, "id_cols": list(id_cols), "keep_cols": keep_cols,
               "chunk_size": chunk_size, "max_chars": max_chars, "explain": explain, "language": language}
    workdir = output.with_name(f".{output.name}.parts")
    _prepare_workdir(workdir, _manifest(input_path, bundle, options), resume)
    summary = ScoreSummary(output=str(output), rejects=None)
    reasons: Counter[str] = Counter()
    start = time.perf_counter()
    scored_parts, reject_parts = [], []
    offset = 0
    with _logging.progress(None, "scoring") as bar:
        for index, chunk in enumerate(iter_table(input_path, chunk_size=chunk_size, encoding=encoding)):
            if index == 0:
                for column in id_cols:
                    require_columns(chunk, {"id": (column, "--id-col")})
                join_text_columns(chunk.head(0), text_cols)
            part, rejected_part = workdir / f"part-{index:06d}.parquet", workdir / f"rejects-{index:06d}.parquet"
            if part.exists():
                summary.chunks_resumed += 1
                rejected = pq.read_table(rejected_part, columns=[REASON]).to_pandas()
            else:
                out, rejected = _score_chunk(bundle, chunk, offset, text_cols, id_cols, keep_cols, max_chars,
                                              {"explain": explain, "language": language})
                _write_part(rejected, rejected_part)
                _write_part(out, part)
            reasons.update(rejected[REASON].tolist())
            scored_parts.append(part)
            reject_parts.append(rejected_part)
            offset += len(chunk)
            summary.chunks += 1
            bar.update(len(chunk))
    if not scored_parts:
        raise InputError(f"input {str(input_path)!r} has a header but no rows; nothing to score.")
    summary.rows_read = offset
    summary.rows_rejected = sum(reasons.values())
    summary.rows_scored = offset - summary.rows_rejected
    summary.reject_reasons = dict(reasons)
    if summary.rows_rejected:
        _assemble(reject_parts, rejects_path)
        summary.rejects = str(rejects_path)
    _assemble(scored_parts, output)
    shutil.rmtree(workdir, ignore_errors=True)
    summary.seconds = round(time.perf_counter() - start, 2)
    _logging.logger.info("scored %d rows, rejected %d, in %.1fs (%.0f rows/s)", summary.rows_scored,
                         summary.rows_rejected, summary.seconds, summary.rows_per_second)
    return summary
