"""How a bundle stores its heads: skops files with stable member names, loaded against an
explicit list of trusted types (so loading runs no pickled code), and where old pickled
bundles may be trusted from."""

from __future__ import annotations

import io
import json
import os
import zipfile
import zlib
from pathlib import Path
from typing import Any

import skops.io

from ..exceptions import BundleError

MODELS_DIR_ENV = "COMPLAINTKIT_MODELS_DIR"
# Types outside skops' own safe list that complaintkit heads are made of, by their public names.
# These names are part of the bundle format: a type listed here keeps its name (or an alias).
TRUSTED_TYPES = [
    "complaintkit.embedding.SentenceTransformerEmbedder",
    "complaintkit.heads.root_cause.RootCauseClassifier",
    "complaintkit.heads.few_label.FewLabelClassifier",
    "complaintkit.heads.temperature.TemperatureScaledClassifier",
    "complaintkit.heads.cascade.CascadeRootCauseClassifier",
    "complaintkit.embedding.static.StaticEmbedder",
    "complaintkit.heads.zero_shot.ZeroShotClassifier",
    "complaintkit.heads.zero_shot.PrototypeClassifier",
    "complaintkit.heads.self_training.AdaptiveZeroShotClassifier",
    "complaintkit.heads.self_training.SelfTrainedPrototypeClassifier",
    "complaintkit.explain.ExampleIndex",
    "complaintkit.heads.churn.ChurnClassifier",
    "complaintkit.heads.features.to_numeric",
    "complaintkit.heads.features.to_string",
    "complaintkit.heads.char_ngrams.CharNgramTfidfVectorizer",
    "complaintkit.heads.vocabulary.WordTfidfVectorizer",
    "complaintkit.heads.parent_aware.ParentAwareLinearSVC",
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


def in_models_dir(root: Path) -> bool:
    """Whether ``root`` is inside one of :func:`models_dirs`."""
    resolved = root.resolve()
    return any(resolved.is_relative_to(folder) for folder in models_dirs())


def _renumber(node: Any, ids: dict[int, int], files: dict[str, str]) -> None:
    """Replace skops' ``id()``-based ``__id__`` values and member names by numbers in order of appearance."""
    if isinstance(node, list | tuple):
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


def dump_head(head: Any, file: Path) -> None:
    """Write ``head`` with skops so that equal heads give byte-identical files (stable names, fixed times)."""
    # skops.io.dumps as skops writes it, but without its indented schema: indenting the schema of a head with
    # large TF-IDF vocabularies took 40 s of a minute's save in pure-Python JSON (tested against skops < 0.17).
    from skops.io._utils import SaveContext, get_state

    with zipfile.ZipFile(io.BytesIO(), "w") as dumped:
        context = SaveContext(zip_file=dumped)
        schema = get_state(head, context)
        context.clear_memo()
        schema["protocol"], schema["_skops_version"] = context.protocol, skops.__version__
        files: dict[str, str] = {}
        _renumber(schema, {}, files)
        members = [("schema.json", json.dumps(schema).encode())]
        members += [(new, dumped.read(old)) for old, new in files.items()]
    with zipfile.ZipFile(file, "w") as archive:
        for name, data in members:
            archive.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data,
                             compress_type=zipfile.ZIP_DEFLATED, compresslevel=6)


def load_head(file: Path, trust: bool) -> Any:
    """Read the head in skops ``file``; types outside :data:`TRUSTED_TYPES` need ``trust``."""
    try:
        unknown = sorted(set(skops.io.get_untrusted_types(file=file)) - set(TRUSTED_TYPES + LEGACY_TRUSTED_TYPES))
        if unknown and not trust:
            raise BundleError(
                f"bundle file {str(file)!r} holds types complaintkit does not trust: {unknown[:5]}; "
                "if you trust its source pass --trust (Python: trust=True)."
            )
        return skops.io.load(file, trusted=TRUSTED_TYPES + LEGACY_TRUSTED_TYPES + unknown)
    except (zipfile.BadZipFile, zlib.error, EOFError, KeyError, ValueError, TypeError, IndexError, ImportError,
            AttributeError, RecursionError) as exc:  # what a damaged file raises while it is parsed
        reason = " ".join(str(exc).split())[:200]
        raise BundleError(
            f"cannot read bundle file {str(file)!r} ({type(exc).__name__}: {reason}); "
            "the bundle is damaged or was made by another complaintkit. Re-train it."
        ) from exc
