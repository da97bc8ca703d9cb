"""What to do with one input chunk (:class:`ChunkJob`), why rows are rejected, and a run's summary.

A job holds a path and options, never a model, so it pickles cheaply to worker processes
and Spark executors; the engine that runs it loads the model once per process
(:meth:`ChunkJob.load`) and passes it to :meth:`ChunkJob.run`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..embedding import PRECISIONS
from ..exceptions import InputError
from ..io import LINE_NUMBER, MALFORMED, RAW_LINE, join_text_columns, require_columns
from ..schema import REASON, ROW, TRUNCATED
from ..text import is_blank
from .choices import TASKS, TOO_LONG_POLICIES
from .columns import check_cascade, embed_frame, predict_frame
from .parts import write_part

UNDECODABLE = "\ufffd"  # what undecodable input bytes become when read with errors="replace"


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
    precision: str = "fp32"
    threads: int | None = None  # torch threads per process; None: torch's default (one per core)

    @property
    def rows_per_second(self) -> float:
        return self.rows_read / self.seconds if self.seconds else 0.0

    @property
    def encoder(self) -> str:
        """What ran the encoder, e.g. "onnxruntime 1.31.1 int8" (:func:`~complaintkit.embedding.encoder_runtime`)."""
        from ..embedding import encoder_runtime

        return encoder_runtime(self.precision)

    def count_rejects(self, reasons: dict[str, int]) -> None:
        """Record the reject ``reasons`` (reason → rows) of a run that read ``rows_read`` rows."""
        self.reject_reasons = dict(reasons)
        self.rows_rejected = sum(reasons.values())
        self.rows_scored = self.rows_read - self.rows_rejected

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "rows_per_second": round(self.rows_per_second, 1), "encoder": self.encoder}


@dataclass(frozen=True)
class ChunkJob:
    """How to turn one input chunk into output rows and rejected rows.

    Parameters
    ----------
    source : str
        Bundle folder (``task="score"``) or embedding model alias/folder (``task="embed"``).
    task : {"score", "embed"}
        Predictions of :func:`predict_frame`, or the embeddings of :func:`embed_frame`.
    text_cols : tuple of str
        Columns joined into the text.
    id_cols : tuple of str, default=()
        Columns that must be present in every row (else ``missing_id:<col>``).
    keep_cols : tuple of str or None, default=None
        Input columns copied to the output; ``None`` copies all.
    max_chars : int, default=50_000
        Longest text accepted as is.
    too_long : {"reject", "truncate"}, default="reject"
        Reject longer texts as ``text_too_long``, or score their first ``max_chars``
        characters and set ``text_truncated``.
    precision : {"fp32", "bf16", "int8"}, default="fp32"
        Encoder precision as run; "auto" is resolved before the job is made, once per run
        (see :func:`~complaintkit.embedding.resolve_precision`).
    explain, language : bool, default=False
        Extra columns of :func:`predict_frame` (task "score" only).
    cascade : {"on", "off"}, default="on"
        "off": the full root-cause head answers every row of a bundle trained with a scoring
        cascade (:func:`~complaintkit.scoring.columns.root_cause_head`; task "score" only).
    """

    source: str
    task: str = "score"
    text_cols: tuple[str, ...] = ("text",)
    id_cols: tuple[str, ...] = ()
    keep_cols: tuple[str, ...] | None = None
    max_chars: int = 50_000
    too_long: str = "reject"
    precision: str = "fp32"
    explain: bool = False
    language: bool = False
    cascade: str = "on"

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"The 'task' parameter must be 'score' or 'embed'. Got {self.task!r} instead.")
        if self.precision not in PRECISIONS:
            raise InputError(f"--precision must be one of {list(PRECISIONS)}, found {self.precision!r}.")
        if self.too_long not in TOO_LONG_POLICIES:
            raise InputError(f"--too-long must be one of {list(TOO_LONG_POLICIES)}, found {self.too_long!r}.")
        check_cascade(self.cascade)

    def settings(self) -> dict[str, Any]:
        """The job's options without its source, as plain JSON-able values (for a run's manifest)."""
        return {**asdict(self), "source": None}

    def load(self) -> Any:
        """Load what this job predicts with: the bundle (task "score") or the embedder (task "embed")."""
        if self.task == "score":
            from ..bundle import Bundle

            return Bundle.load(self.source)
        from ..embedding import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(model=self.source).fit()

    def check_columns(self, frame: pd.DataFrame, predictor: Any) -> None:
        """Raise :class:`MissingColumnError` unless ``frame`` has every column this job and ``predictor`` need."""
        for column in self.id_cols:
            require_columns(frame, {"id": (column, "--id-col")})
        for column in self.keep_cols or ():
            require_columns(frame, {"kept": (column, "--keep-col")})
        join_text_columns(frame.head(0), self.text_cols)
        churn = predictor.churn if self.task == "score" else None
        for column in (*churn.numeric_cols, *churn.categorical_cols) if churn is not None else ():
            if column not in frame.columns:
                raise InputError(f"the bundle's churn head needs the column {column!r}, which is not in the table "
                                 f"(found {[str(c) for c in frame.columns]}); add it, or use a bundle without churn.")

    def run(self, chunk: pd.DataFrame, start: int, predictor: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Return ``(output, rejected)`` for ``chunk``, whose first row is input row ``start``.

        ``predictor`` is what :meth:`load` returns. Both results carry ``row_number`` (taken
        from ``chunk`` when it has that column); ``rejected`` holds the input columns and
        ``reject_reason``, plus ``raw_line`` and ``line_number`` when ``chunk`` marks malformed
        CSV records (:func:`~complaintkit.io.iter_table`).
        """
        if ROW in chunk.columns:  # numbered upstream (the Spark engine)
            chunk = chunk.set_index(ROW)
        else:
            chunk = chunk.reset_index(drop=True)
            chunk.index = pd.RangeIndex(start, start + len(chunk))
        malformed = chunk[[MALFORMED, RAW_LINE, LINE_NUMBER]] if MALFORMED in chunk.columns else None
        if malformed is not None:
            chunk = chunk.drop(columns=list(malformed.columns))
        texts = join_text_columns(chunk, self.text_cols)
        reasons = reject_reasons(chunk, texts, self.id_cols, self.max_chars if self.too_long == "reject" else None)
        if malformed is not None:
            kind = malformed[MALFORMED]
            reasons = ("malformed_row:" + kind.astype("string")).where(kind.notna(), reasons).astype(object)
        good = reasons.isna()
        kept = chunk if self.keep_cols is None else chunk[list(dict.fromkeys([*self.id_cols, *self.keep_cols]))]
        texts = texts[good]
        columns = [kept[good].rename_axis(ROW).reset_index()]
        if self.too_long == "truncate":
            truncated = texts.str.len() > self.max_chars
            texts = texts.str.slice(0, self.max_chars)
            columns.append(pd.DataFrame({TRUNCATED: truncated.to_numpy(dtype=bool)}))
        if self.task == "score":
            predicted = predict_frame(predictor, chunk[good], texts, explain=self.explain, language=self.language,
                                      precision=self.precision, cascade=self.cascade)
        else:
            predicted = embed_frame(predictor, chunk[good], texts, precision=self.precision)
        columns.append(predicted.reset_index(drop=True))
        added = {str(c) for part in columns[1:] for c in part.columns}
        clash = sorted({str(c) for c in columns[0].columns if c != ROW} & added)
        if clash:
            raise InputError(f"the input already has the output column(s) {clash} (is it a scored table?); score "
                             "the original table, or leave those columns out with --keep-col.")
        output = pd.concat(columns, axis=1)
        rejected = chunk[~good].assign(**{REASON: reasons[~good]})
        if malformed is not None:
            rejected = rejected.join(malformed.loc[~good, [RAW_LINE, LINE_NUMBER]])
        return output, rejected.rename_axis(ROW).reset_index()

    def process(self, predictor: Any, chunk: pd.DataFrame, start: int, part: Path,
                rejected_part: Path) -> list[str]:
        """Run :meth:`run` and write both results as Parquet parts; return the reject reasons."""
        output, rejected = self.run(chunk, start, predictor)
        write_part(rejected, rejected_part)
        write_part(output, part)
        return rejected[REASON].tolist()


def reject_reasons(chunk: pd.DataFrame, texts: pd.Series, id_cols: Sequence[str],
                   max_chars: int | None) -> pd.Series:
    """One machine-readable reason per rejected row (the first that applies), ``None`` otherwise."""
    reasons = pd.Series(None, index=chunk.index, dtype=object)
    for column in id_cols:
        reasons[is_blank(chunk[column]).to_numpy(dtype=bool) & reasons.isna()] = f"missing_id:{column}"
    undecodable = pd.Series(False, index=chunk.index)
    for column in chunk.columns:
        if chunk[column].dtype == object or pd.api.types.is_string_dtype(chunk[column].dtype):
            undecodable |= chunk[column].astype("string").str.contains(UNDECODABLE, regex=False).fillna(False)
    reasons[undecodable.to_numpy(dtype=bool) & reasons.isna()] = "undecodable_bytes"
    reasons[is_blank(texts).to_numpy(dtype=bool) & reasons.isna()] = "empty_text"
    if max_chars is not None:
        too_long = texts.fillna("").str.strip().str.len() > max_chars
        reasons[too_long.to_numpy(dtype=bool) & reasons.isna()] = "text_too_long"
    return reasons
