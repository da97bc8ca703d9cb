"""Model bundles: a folder with the fitted heads, ``metadata.json`` and a model card.

The sentence-transformers model is not in the bundle: each head keeps the model's name
and the SHA-256 of its files, and loading checks that the model found now is the same.

Heads are stored with ``skops.io`` (format 2) and loaded against an explicit list of
trusted types, so loading a bundle runs no pickled code. Format 1 bundles (joblib
pickles) are still read, but only from the trusted models folder or with ``trust=True``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import pandas as pd
import skops.io
from sklearn.feature_extraction.text import TfidfVectorizer

from . import _logging
from ._versions import library_versions
from .embedding import SentenceTransformerEmbedder, model_fingerprint, resolve_model_path
from .exceptions import BundleError, OutputExistsError
from .heads import ChurnClassifier, RootCauseClassifier
from .model_card import render_model_card

FORMAT_VERSION = 2
METADATA = "metadata.json"
HEAD_FILES = {"root_cause": "root_cause.skops", "churn": "churn.skops"}
PICKLED_HEAD_FILES = {"root_cause": "root_cause.joblib", "churn": "churn.joblib"}  # format 1
MODELS_DIR_ENV = "COMPLAINTKIT_MODELS_DIR"
# Types outside skops' own safe list that complaintkit heads are made of, by their public names.
# These names are part of the bundle format: a type listed here keeps its name (or an alias).
TRUSTED_TYPES = [
    "complaintkit.embedding.SentenceTransformerEmbedder",
    "complaintkit.heads.root_cause.RootCauseClassifier",
    "complaintkit.heads.zero_shot.ZeroShotClassifier",
    "complaintkit.heads.zero_shot.PrototypeClassifier",
    "complaintkit.explain.ExampleIndex",
    "complaintkit.heads.churn.ChurnClassifier",
    "complaintkit.heads.features.to_numeric",
    "complaintkit.heads.features.to_string",
    "complaintkit.heads.char_ngrams.CharNgramTfidfVectorizer",
    "complaintkit.text.TextNormaliser",
    "numpy.dtype",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.calibration._TemperatureScaling",
    "sklearn.isotonic.IsotonicRegression",
    "sklearn.model_selection._split.StratifiedKFold",
]
# Names bundles saved by earlier versions use for the same types (still importable aliases).
LEGACY_TRUSTED_TYPES = [
    "complaintkit.heads.churn._to_numeric",
    "complaintkit.heads.churn._to_string",
]


def models_dirs() -> list[Path]:
    """The trusted models folders: ``$COMPLAINTKIT_MODELS_DIR`` (``os.pathsep``-separated) or ``./models``."""
    value = os.environ.get(MODELS_DIR_ENV) or "models"
    return [Path(part).expanduser().resolve() for part in value.split(os.pathsep) if part]


def _in_models_dir(root: Path) -> bool:
    resolved = root.resolve()
    return any(resolved.is_relative_to(folder) for folder in models_dirs())


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _find_in_heads(heads: dict[str, Any], kind: type) -> list[Any]:
    """Every fitted step of type ``kind`` inside the heads' pipelines."""
    found = []
    for head in heads.values():
        for step in head.pipeline_.named_steps.values():
            found.extend(_find(step, kind))
    return found


def _find(estimator: Any, kind: type) -> list[Any]:
    if isinstance(estimator, kind):
        return [estimator]
    children = []
    for attr in ("transformer_list", "transformers_", "steps"):
        for item in getattr(estimator, attr, []) or []:
            children.extend(_find(item[1], kind))
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

    Vocabularies get Python int columns (pruning leaves numpy ints, and skops writes every numpy
    scalar as an array file of its own, rescanning the archive for each: minutes for 200k terms).
    The cached ``id()`` of the stop-word list, which differs between processes, is dropped;
    scikit-learn recomputes it on the next transform.
    """
    for vectorizer in _find_in_heads(heads, TfidfVectorizer):
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
    """

    root_cause: RootCauseClassifier | None = None
    churn: ChurnClassifier | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

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
                precision: str = "fp32") -> pd.DataFrame:
        """The prediction columns ``score`` writes, one row per text (in order).

        Parameters
        ----------
        texts : str, sequence of str or DataFrame
            One complaint, several, or a table holding the bundle's text columns (and the
            structured columns of its churn head; missing ones are imputed for plain texts).
        explain, language : bool, default=False
            The extra columns of ``score --explain`` and ``--language``.
        precision : {"fp32", "bf16"}, default="fp32"
            The encoder's precision.

        Returns
        -------
        DataFrame
            ``root_cause``, ``root_cause_proba``, the runners-up, ``needs_review`` and
            ``churn_proba`` (as the heads present allow); a blank text gets missing values.

        Examples
        --------
        >>> complaintkit.load("models/cfpb").predict("I was charged twice")  # doctest: +SKIP
        """
        from .io import join_text_columns
        from .scoring.columns import predict_frame
        from .text import is_blank

        frame = _as_frame(texts, self.text_cols[0])
        if not isinstance(texts, pd.DataFrame) and self.churn is not None:
            missing = [c for c in (*self.churn.numeric_cols, *self.churn.categorical_cols) if c not in frame]
            frame = frame.assign(**dict.fromkeys(missing, None))
        frame = frame.reset_index(drop=True)
        cols = self.text_cols if isinstance(texts, pd.DataFrame) else self.text_cols[:1]
        joined = join_text_columns(frame, cols)
        keep = ~is_blank(joined)
        predicted = predict_frame(self, frame[keep], joined[keep], explain=explain, language=language,
                                  precision=precision)
        return predicted.reindex(frame.index)

    def save(self, path: str | os.PathLike, overwrite: bool = False) -> Path:
        """Write the bundle to folder ``path`` atomically and return it."""
        if not self.heads:
            raise BundleError("a bundle needs at least one fitted head (root_cause or churn).")
        target = Path(path)
        if target.exists() and not overwrite:
            raise OutputExistsError(f"bundle folder {str(target)!r} already exists; pass --overwrite to replace it.")
        target.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_staging(target)
        staging = Path(tempfile.mkdtemp(prefix=f"{_staging_prefix(target)}{os.getpid()}-", dir=target.parent))
        try:
            artifacts = {}
            _plain_vectorizers(self.heads)
            for name, head in self.heads.items():
                _dump_head(head, staging / HEAD_FILES[name])
                artifacts[HEAD_FILES[name]] = file_sha256(staging / HEAD_FILES[name])
            embedders = _embedders(self.heads)
            self.metadata.update({
                "format_version": FORMAT_VERSION,
                "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "versions": library_versions(),
                "embedding_model": _embedding_summary(embedders),
                "artifacts": artifacts,
            })
            (staging / METADATA).write_text(json.dumps(self.metadata, indent=2, default=_json_default))
            (staging / "README.md").write_text(render_model_card(self.metadata))
            _swap_into_place(staging, target)
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
            format 1 (pickled) bundle from outside :func:`models_dirs`. Loading a pickle runs
            whatever code it holds: pass ``True`` only for bundles from a source you trust.

        Raises
        ------
        BundleError
            If a file is missing or its hash changed, the format is newer than this
            complaintkit reads, the bundle needs ``trust=True``, or the embedding model
            found now differs from training.
        """
        root = Path(path)
        meta_path = root / METADATA
        if not root.is_dir():
            raise BundleError(f"model bundle {str(root)!r} does not exist; train one with `complaintkit train`.")
        if not meta_path.exists():
            raise BundleError(f"{str(root)!r} is not a complaintkit bundle: {METADATA} is missing.")
        try:
            metadata = json.loads(meta_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "msg", None) or type(exc).__name__
            raise BundleError(f"{str(meta_path)!r} is not valid JSON ({reason}); the bundle is damaged.") from None
        if not isinstance(metadata, dict):
            raise BundleError(f"{str(meta_path)!r} holds no JSON object; the bundle is damaged.")
        version = metadata.get("format_version")
        if not isinstance(version, int) or not 1 <= version <= FORMAT_VERSION:
            raise BundleError(
                f"bundle {str(root)!r} has format version {version!r}; this complaintkit reads 1 to "
                f"{FORMAT_VERSION}. Upgrade complaintkit (bundle made with "
                f"{metadata.get('versions', {}).get('complaintkit', 'unknown')})."
            )
        if version == 1 and not (trust or _in_models_dir(root)):
            raise BundleError(
                f"bundle {str(root)!r} is a format 1 bundle (pickled heads, which run code when loaded) "
                f"outside the trusted models folder {[str(d) for d in models_dirs()]}; if you trust its "
                f"source pass --trust (Python: trust=True), move it there or set {MODELS_DIR_ENV}."
            )
        artifacts = metadata.get("artifacts", {})
        _verify_artifacts(root, artifacts)
        _warn_version_differences(metadata.get("versions", {}))
        heads = {}
        for name in HEAD_FILES:
            filename = (HEAD_FILES if version >= 2 else PICKLED_HEAD_FILES)[name]
            if filename in artifacts:
                heads[name] = joblib.load(root / filename) if version == 1 else _load_head(root / filename, trust)
        _verify_embedding_model(_embedders(heads))
        return cls(metadata=metadata, path=root, **heads)


def _renumber(node: Any, ids: dict[int, int], files: dict[str, str]) -> None:
    """Replace skops' ``id()``-based ``__id__`` values and member names by numbers in order of appearance."""
    if isinstance(node, list):
        for item in node:
            _renumber(item, ids, files)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "__id__" and isinstance(value, int):
                node[key] = ids.setdefault(value, len(ids))
            elif key == "file" and isinstance(value, str):
                node[key] = files.setdefault(value, f"{len(files)}{Path(value).suffix}")
            else:
                _renumber(value, ids, files)


def _dump_head(head: Any, file: Path) -> None:
    """Write ``head`` with skops so that equal heads give byte-identical files (stable names, fixed times)."""
    with zipfile.ZipFile(io.BytesIO(skops.io.dumps(head))) as dumped:
        schema = json.loads(dumped.read("schema.json"))
        files: dict[str, str] = {}
        _renumber(schema, {}, files)
        members = [("schema.json", json.dumps(schema).encode())]
        members += [(new, dumped.read(old)) for old, new in files.items()]
    with zipfile.ZipFile(file, "w") as archive:
        for name, data in members:
            archive.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data,
                             compress_type=zipfile.ZIP_DEFLATED, compresslevel=8)


def _load_head(file: Path, trust: bool) -> Any:
    try:
        unknown = sorted(set(skops.io.get_untrusted_types(file=file)) - set(TRUSTED_TYPES + LEGACY_TRUSTED_TYPES))
        if unknown and not trust:
            raise BundleError(
                f"bundle file {str(file)!r} holds types complaintkit does not trust: {unknown[:5]}; "
                "if you trust its source pass --trust (Python: trust=True)."
            )
        return skops.io.load(file, trusted=TRUSTED_TYPES + LEGACY_TRUSTED_TYPES + unknown)
    except (zipfile.BadZipFile, KeyError, ValueError, ImportError, AttributeError) as exc:
        raise BundleError(
            f"cannot read bundle file {str(file)!r} ({type(exc).__name__}: {str(exc)[:200]}); "
            "the bundle is damaged or was made by another complaintkit. Re-train it."
        ) from exc


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
        "pooling": "mean of L2-normalised chunk embeddings, re-normalised",
    }


def _staging_prefix(target: Path) -> str:
    return f".{target.name}.staging-"


def _remove_stale_staging(target: Path) -> None:
    """Delete staging folders left by killed saves of ``target`` (their process is gone)."""
    prefix = _staging_prefix(target)
    for folder in target.parent.glob(f"{prefix}*"):
        pid = folder.name[len(prefix):].split("-", 1)[0]
        if pid.isdigit() and not _process_alive(int(pid)):
            _logging.logger.info("removing %s, left by an interrupted save", folder)
            shutil.rmtree(folder, ignore_errors=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _swap_into_place(staging: Path, target: Path) -> None:
    if target.exists():
        old = target.with_name(f".{target.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
        os.replace(staging, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, target)


def _verify_artifacts(root: Path, artifacts: dict[str, str]) -> None:
    if not artifacts:
        raise BundleError(f"bundle {str(root)!r} lists no artifacts in {METADATA}; it is damaged.")
    for name, expected in artifacts.items():
        file = root / name
        if not file.exists():
            raise BundleError(f"bundle {str(root)!r} is missing {name}; re-copy or re-train the bundle.")
        actual = file_sha256(file)
        if actual != expected:
            raise BundleError(
                f"bundle file {str(file)!r} was modified: SHA-256 {actual[:12]}… does not match "
                f"{expected[:12]}… in {METADATA}. Refusing to load it; re-train or restore the bundle."
            )


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
