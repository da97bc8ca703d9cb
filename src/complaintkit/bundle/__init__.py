"""Model bundles: a folder with the fitted heads, ``metadata.json`` and a model card.

The sentence-transformers model is not in the bundle: each head keeps the model's name
and the SHA-256 of its files, and loading checks that the model found now is the same.
An encoder fine-tuned on the training labels is the exception: it is copied into the
bundle's ``encoder/`` folder (safetensors, every file hashed; see :mod:`.encoder`). So is the
fast tier's static embedding table, in ``static/`` (see :mod:`.static_table`).

Heads are stored with ``skops.io`` (format 2) and loaded against an explicit list of
trusted types, so loading a bundle runs no pickled code. Format 1 bundles (joblib
pickles) are still read, but only with ``trust=True``, wherever they lie.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer

from .. import _logging
from .._versions import library_versions
from ..embedding import SentenceTransformerEmbedder, model_fingerprint, resolve_model_path
from ..embedding.static import StaticEmbedder
from ..exceptions import BundleError, OutputExistsError
from ..heads import ChurnClassifier, RootCauseClassifier
from ..heads.vocabulary import CompactVocabularyMixin
from ..io.files import current_umask
from ..model_card import render_model_card
from .encoder import FOLDER as ENCODER_FOLDER
from .encoder import encoder_files, packed_encoders, unpack_encoders
from .folder import (
    METADATA,
    file_sha256,
    remove_stale_staging,
    staging_prefix,
    swap_into_place,
    verify_artifacts,
)
from .metadata_schema import check_artifacts, read_metadata
from .skops_heads import (
    LEGACY_TRUSTED_TYPES,
    MODELS_DIR_ENV,
    TRUSTED_TYPES,
    dump_head,
    load_head,
    models_dirs,
)
from .static_table import FOLDER as STATIC_FOLDER
from .static_table import packed_static_tables, unpack_static_tables

FORMAT_VERSION = 2
HEAD_FILES = {"root_cause": "root_cause.skops", "churn": "churn.skops"}
PICKLED_HEAD_FILES = {"root_cause": "root_cause.joblib", "churn": "churn.joblib"}  # format 1
__all__ = ["FORMAT_VERSION", "HEAD_FILES", "LEGACY_TRUSTED_TYPES", "METADATA", "MODELS_DIR_ENV", "PICKLED_HEAD_FILES",
           "TRUSTED_TYPES", "Bundle", "file_sha256", "models_dirs"]


def _find_in_heads(heads: dict[str, Any], kind: type) -> list[Any]:
    """Every fitted step of type ``kind`` inside the heads' pipelines."""
    found = []
    for head in heads.values():
        for pipeline in getattr(head, "pipelines_", None) or [head.pipeline_]:  # a cascade has two
            for step in pipeline.named_steps.values():
                found.extend(_find(step, kind))
    return found


def _find(estimator: Any, kind: type) -> list[Any]:
    if isinstance(estimator, kind):
        return [estimator]
    children = []
    for attr in ("transformer_list", "transformers_", "steps"):
        for item in getattr(estimator, attr, []) or []:
            children.extend(_find(item[1], kind))
    for attr in ("estimator_", "pipeline_"):  # a head inside a head (a few-label head's standard head)
        inner = getattr(estimator, attr, None)
        if inner is not None:
            children.extend(_find(inner, kind))
    return children


def _embedders(heads: dict[str, Any]) -> list[SentenceTransformerEmbedder]:
    return _find_in_heads(heads, SentenceTransformerEmbedder)


def _as_frame(texts: str | Sequence[str] | pd.DataFrame, column: str) -> pd.DataFrame:
    if isinstance(texts, pd.DataFrame):
        return texts
    if isinstance(texts, str):
        return pd.DataFrame({column: [texts]})
    return pd.DataFrame({column: list(texts)})


def _plain_vectorizers(heads: dict[str, Any]) -> None:
    """Make fitted TF-IDF vectorizers quick and reproducible to save.

    Vocabularies saved as dicts (scikit-learn's own vectorizers, in heads fitted before complaintkit
    saved them as one string) get Python int columns (pruning leaves numpy ints, and skops writes every
    numpy scalar as an array file of its own, rescanning the archive for each: minutes for 200k terms).
    The cached ``id()`` of the stop-word list, which differs between processes, is dropped;
    scikit-learn recomputes it on the next transform.
    """
    for vectorizer in _find_in_heads(heads, TfidfVectorizer):
        if not isinstance(vectorizer, CompactVocabularyMixin):
            vectorizer.vocabulary_ = {term: int(column) for term, column in vectorizer.vocabulary_.items()}
        vectorizer.__dict__.pop("_stop_words_id", None)


@dataclass
class Bundle:
    """The fitted heads of one model and what is known about them.

    Attributes
    ----------
    root_cause : RootCauseClassifier or None
    churn : ChurnClassifier or None
    metadata : dict
        Everything ``metadata.json`` holds: versions, hashes, columns, labels, metrics.
    files : dict of str to bytes
        Other files of the bundle by name (e.g. ``label_issues.csv``), hashed like the heads.
    """

    root_cause: RootCauseClassifier | None = None
    churn: ChurnClassifier | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    files: dict[str, bytes] = field(default_factory=dict)

    @property
    def heads(self) -> dict[str, Any]:
        """The heads present, by name."""
        return {name: head for name, head in (("root_cause", self.root_cause), ("churn", self.churn)) if head}

    @property
    def text_cols(self) -> list[str]:
        """Columns joined into the text at training time."""
        return list(self.metadata.get("columns", {}).get("text", ["text"]))

    @property
    def hierarchy(self) -> dict[str, str]:
        """Root cause → parent label, when the bundle was trained with a parent column."""
        return dict(self.metadata.get("hierarchy", {}))

    @property
    def review_threshold(self) -> float:
        """Root-cause confidence below which a prediction is flagged ``needs_review``."""
        return float(self.metadata.get("review", {}).get("threshold", 0.0))

    @property
    def embedders(self) -> list[SentenceTransformerEmbedder]:
        """Every sentence embedder inside the heads (each head has its own)."""
        return _embedders(self.heads)

    def predict(self, texts: str | Sequence[str] | pd.DataFrame, *, explain: bool = False, language: bool = False,
                precision: str = "auto", cascade: str = "on") -> pd.DataFrame:
        """The prediction columns ``score`` writes, one row per text (in order).

        Parameters
        ----------
        texts : str, sequence of str or DataFrame
            One complaint, several, or a table holding the bundle's text columns (and the
            structured columns of its churn head; missing ones are imputed for plain texts).
        explain, language : bool, default=False
            The extra columns of ``score --explain`` and ``--language``.
        precision : {"auto", "fp32", "bf16", "int8"}, default="auto"
            The encoder's precision; "auto" as ``score`` resolves it
            (:func:`~complaintkit.embedding.resolve_precision`), so both give the same columns.
        cascade : {"on", "off"}, default="on"
            For a bundle trained with a scoring cascade, "on" lets its fast head answer the rows
            it is sure of; "off" has the full head answer every row, as ``score --cascade off``
            (:func:`~complaintkit.scoring.columns.root_cause_head`). The bundle is not changed.
            Without a cascade both give the same columns.

        Returns
        -------
        DataFrame
            ``root_cause``, ``root_cause_proba``, the runners-up, ``needs_review`` and
            ``churn_proba`` (as the heads present allow); a blank text gets missing values.

        Examples
        --------
        >>> complaintkit.load("models/cfpb").predict("I was charged twice")  # doctest: +SKIP
        """
        from ..embedding.precision import resolve_precision
        from ..io import join_text_columns
        from ..scoring.columns import predict_frame
        from ..text import is_blank

        frame = _as_frame(texts, self.text_cols[0])
        if not isinstance(texts, pd.DataFrame) and self.churn is not None:
            missing = [c for c in (*self.churn.numeric_cols, *self.churn.categorical_cols) if c not in frame]
            frame = frame.assign(**dict.fromkeys(missing, None))
        frame = frame.reset_index(drop=True)
        cols = self.text_cols if isinstance(texts, pd.DataFrame) else self.text_cols[:1]
        joined = join_text_columns(frame, cols)
        keep = ~is_blank(joined)
        predicted = predict_frame(self, frame[keep], joined[keep], explain=explain, language=language,
                                  precision=resolve_precision(precision), cascade=cascade)
        return predicted.reindex(frame.index)

    def save(self, path: str | os.PathLike, overwrite: bool = False) -> Path:
        """Write the bundle to folder ``path`` atomically and return it."""
        if not self.heads:
            raise BundleError("a bundle needs at least one fitted head (root_cause or churn).")
        target = Path(path)
        if target.exists() and not overwrite:
            raise OutputExistsError(f"bundle folder {str(target)!r} already exists; pass --overwrite to replace it.")
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_staging(target)
        staging = Path(tempfile.mkdtemp(prefix=f"{staging_prefix(target)}{os.getpid()}-", dir=target.parent))
        staging.chmod(0o777 & ~current_umask())  # as mkdir would make it, not mkdtemp's 0700
        try:
            artifacts = {}
            _plain_vectorizers(self.heads)
            embedders = _embedders(self.heads)
            with (packed_encoders(embedders, staging) as fine_tuned,
                  packed_static_tables(_find_in_heads(self.heads, StaticEmbedder), staging) as tables):
                for name, head in self.heads.items():
                    dump_head(head, staging / HEAD_FILES[name])
                    artifacts[HEAD_FILES[name]] = file_sha256(staging / HEAD_FILES[name])
                for name, content in self.files.items():
                    (staging / name).write_bytes(content)
                    artifacts[name] = file_sha256(staging / name)
                artifacts.update({name: file_sha256(staging / name) for name in [*encoder_files(staging), *tables]})
                summary = _embedding_summary(embedders)
            if tables:
                summary["static_tables"] = tables
            self.metadata.update({
                "name": self.metadata.get("name") or target.name,  # unnamed (Python API): the folder's name
                "format_version": FORMAT_VERSION,
                "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "versions": library_versions(),
                "embedding_model": {**summary, "fine_tuned": fine_tuned} if fine_tuned else summary,
                "artifacts": artifacts,
            })
            (staging / METADATA).write_text(json.dumps(self.metadata, indent=2, default=_json_default))
            (staging / "README.md").write_text(render_model_card(self.metadata))
            swap_into_place(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        self.path = target
        _logging.logger.info("saved bundle to %s", target)
        return target

    @classmethod
    def load(cls, path: str | os.PathLike, trust: bool = False) -> Bundle:
        """Read and verify the bundle in folder ``path``.

        Parameters
        ----------
        path : str or path-like
            The bundle folder.
        trust : bool, default=False
            Load types outside :data:`TRUSTED_TYPES` from a format 2 bundle, and load a
            format 1 (pickled) bundle, wherever it lies. Loading a pickle runs
            whatever code it holds: pass ``True`` only for bundles from a source you trust.

        Raises
        ------
        BundleError
            If a file is missing or its hash changed, the format is newer than this
            complaintkit reads, the bundle needs ``trust=True``, or the embedding model
            found now differs from training.
        """
        root = Path(path)
        if not root.is_dir():
            raise BundleError(f"model bundle {str(root)!r} does not exist; train one with `complaintkit train`.")
        metadata = read_metadata(root)
        version = metadata.get("format_version")
        if not isinstance(version, int) or not 1 <= version <= FORMAT_VERSION:
            raise BundleError(
                f"bundle {str(root)!r} has format version {version!r}; this complaintkit reads 1 to "
                f"{FORMAT_VERSION}. Upgrade complaintkit (bundle made with "
                f"{metadata.get('versions', {}).get('complaintkit', 'unknown')})."
            )
        if version == 1 and not trust:
            raise BundleError(
                f"bundle {str(root)!r} is a format 1 bundle (pickled heads, which run any code they hold when "
                "loaded); if you trust its source pass --trust (Python: trust=True), or re-train it to get a "
                "format 2 bundle, which needs no trust."
            )
        artifacts = metadata.get("artifacts", {})
        check_artifacts(root, artifacts)
        verify_artifacts(root, artifacts)
        _warn_version_differences(metadata.get("versions", {}))
        heads = {}
        for name in HEAD_FILES:
            filename = (HEAD_FILES if version >= 2 else PICKLED_HEAD_FILES)[name]
            if filename in artifacts:
                heads[name] = joblib.load(root / filename) if version == 1 else load_head(root / filename, trust)
        unpack_encoders(_embedders(heads), root)
        unpack_static_tables(_find_in_heads(heads, StaticEmbedder), root, artifacts)
        _verify_embedding_model(_embedders(heads))
        head_files = {*HEAD_FILES.values(), *PICKLED_HEAD_FILES.values()}
        files = {name: (root / name).read_bytes() for name in artifacts
                 if name not in head_files and not name.startswith((f"{ENCODER_FOLDER}/", f"{STATIC_FOLDER}/"))}
        return cls(metadata=metadata, path=root, files=files, **heads)


def _embedding_summary(embedders: list[SentenceTransformerEmbedder]) -> dict[str, Any]:
    if not embedders:
        return {}
    first = embedders[0]
    return {
        "name": first.model,
        "sha256": first.model_sha256_,
        "dimension": first.n_features_out_,
        "max_seq_length": first.max_seq_length_,
        "max_words_per_chunk": first.max_words_per_chunk,
        "long_texts": first.long_texts,
        "pooling": LONG_TEXT_POOLING.get(first.long_texts, first.long_texts),
    }


LONG_TEXT_POOLING = {  # how a text longer than one chunk becomes one vector, as the model card says it
    "chunks": "mean of L2-normalised chunk embeddings, re-normalised",
    "head": "the first chunk only",
    "head_tail": "the first and last half-chunk of words, embedded as one window",
}


def _warn_version_differences(recorded: dict[str, str]) -> None:
    current = library_versions()
    differs = [f"{k} {v} (now {current.get(k)})" for k, v in recorded.items() if current.get(k) != v]
    if differs:
        _logging.logger.warning("bundle was saved with other versions: %s", "; ".join(differs))


def _verify_embedding_model(embedders: list[SentenceTransformerEmbedder]) -> None:
    for embedder in embedders:
        found = model_fingerprint(resolve_model_path(embedder.model))
        if found != embedder.model_sha256_:
            raise BundleError(
                f"the embedding model {embedder.model!r} found now (SHA-256 {found[:12]}…) is not the one "
                f"the bundle was trained with ({embedder.model_sha256_[:12]}…); install the same model "
                "version or re-train."
            )


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, pd.Timestamp | Path):
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__} in {METADATA}")
