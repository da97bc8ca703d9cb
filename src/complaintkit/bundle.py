"""Model bundles: a folder with the fitted heads, ``metadata.json`` and a model card.

The sentence-transformers model is not in the bundle: each head keeps the model's name
and the SHA-256 of its files, and loading checks that the model found now is the same.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import pandas as pd

from . import _logging
from ._versions import library_versions
from .embedding import SentenceTransformerEmbedder, model_fingerprint, resolve_model_path
from .exceptions import BundleError, OutputExistsError
from .heads import ChurnClassifier, RootCauseClassifier
from .model_card import render_model_card

FORMAT_VERSION = 1
METADATA = "metadata.json"
HEAD_FILES = {"root_cause": "root_cause.joblib", "churn": "churn.joblib"}


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _embedders(heads: dict[str, Any]) -> list[SentenceTransformerEmbedder]:
    found = []
    for head in heads.values():
        for step in head.pipeline_.named_steps.values():
            found.extend(_find_embedders(step))
    return found


def _find_embedders(estimator: Any) -> list[SentenceTransformerEmbedder]:
    if isinstance(estimator, SentenceTransformerEmbedder):
        return [estimator]
    children = []
    for attr in ("transformer_list", "transformers_", "steps"):
        for item in getattr(estimator, attr, []) or []:
            children.extend(_find_embedders(item[1]))
    return children


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

    def save(self, path: str | os.PathLike, overwrite: bool = False) -> Path:
        """Write the bundle to folder ``path`` atomically and return it."""
        if not self.heads:
            raise BundleError("a bundle needs at least one fitted head (root_cause or churn).")
        target = Path(path)
        if target.exists() and not overwrite:
            raise OutputExistsError(f"bundle folder {str(target)!r} already exists; pass --overwrite to replace it.")
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            artifacts = {}
            for name, head in self.heads.items():
                joblib.dump(head, staging / HEAD_FILES[name], compress=3)
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
    def load(cls, path: str | os.PathLike) -> Bundle:
        """Read and verify the bundle in folder ``path``.

        Raises
        ------
        BundleError
            If a file is missing or its hash changed, the format is newer than this
            complaintkit reads, or the embedding model found now differs from training.
        """
        root = Path(path)
        meta_path = root / METADATA
        if not root.is_dir():
            raise BundleError(f"model bundle {str(root)!r} does not exist; train one with `complaintkit train`.")
        if not meta_path.exists():
            raise BundleError(f"{str(root)!r} is not a complaintkit bundle: {METADATA} is missing.")
        try:
            metadata = json.loads(meta_path.read_text())
        except json.JSONDecodeError as exc:
            raise BundleError(f"{str(meta_path)!r} is not valid JSON ({exc.msg}); the bundle is damaged.") from None
        version = metadata.get("format_version")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise BundleError(
                f"bundle {str(root)!r} has format version {version!r}; this complaintkit reads up to "
                f"{FORMAT_VERSION}. Upgrade complaintkit (bundle made with "
                f"{metadata.get('versions', {}).get('complaintkit', 'unknown')})."
            )
        _verify_artifacts(root, metadata.get("artifacts", {}))
        _warn_version_differences(metadata.get("versions", {}))
        heads = {}
        for name, filename in HEAD_FILES.items():
            if filename in metadata["artifacts"]:
                heads[name] = joblib.load(root / filename)
        _verify_embedding_model(_embedders(heads))
        return cls(metadata=metadata, path=root, **heads)


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
