"""Scoring tables through a bundle: one output row per valid input row, the rest rejected.

``columns`` turns one chunk into output columns, ``job`` says what to do with a chunk and
why rows are rejected, ``parts`` keeps finished chunks so a run can resume, ``run`` streams
a file through an engine (:mod:`complaintkit.engines`). Nothing is imported until a name is used.
"""

from .._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(__name__, {
    **dict.fromkeys(["EMBEDDING", "REASON", "ROW", "TOP_K", "TRUNCATED"], "..schema"),
    **dict.fromkeys(["CASCADE_CHOICES", "ENGINES", "TASKS", "TOO_LONG_POLICIES"], ".choices"),
    **dict.fromkeys(["embed_frame", "predict_frame", "root_cause_head", "score_frame"], ".columns"),
    **dict.fromkeys(["UNDECODABLE", "ChunkJob", "ScoreSummary", "reject_reasons"], ".job"),
    **dict.fromkeys(["assemble", "default_rejects_path"], ".parts"),
    **dict.fromkeys(["predict_records", "read_records", "write_records"], ".records"),
    **dict.fromkeys(["embed_file", "run_file", "score_file"], ".run"),
})
__all__ = __dir__()
