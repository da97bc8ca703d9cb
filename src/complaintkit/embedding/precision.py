"""The encoder's numeric precision: what the CPU supports and what a run uses (passed explicitly)."""

from __future__ import annotations

import functools

from .. import _logging
from ..exceptions import InputError

PRECISIONS = ("fp32", "bf16", "int8")
PRECISION_CHOICES = ("auto", *PRECISIONS)  # what users may ask for; "auto" resolves to one of PRECISIONS
_NATIVE_BF16_FLAGS = ("amx_bf16", "avx512_bf16")


@functools.lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags from ``/proc/cpuinfo`` (empty outside Linux)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            return frozenset(next((line.split(":", 1)[1].split() for line in handle if line.startswith("flags")), []))
    except OSError:
        return frozenset()


def native_bf16_flag() -> str | None:
    """The CPU flag that gives native bf16 matrix products (``amx_bf16``, ``avx512_bf16``), or ``None``.

    Read from ``/proc/cpuinfo``, so always ``None`` outside Linux.
    """
    return next((flag for flag in _NATIVE_BF16_FLAGS if flag in cpu_flags()), None)


def default_batch_size(precision: str) -> int:
    """Texts per forward pass of the encoder in ``precision`` when the embedder sets none.

    The int8 graph ran short texts 1.1 to 1.4 times faster in batches of 16 than of 64 on a CPU with
    AVX-512 VNNI (docs/scoring-at-scale.md); it keeps 64 on CPUs without VNNI, where 64 was measured
    and 16 was not. torch's encoder (fp32, bf16) keeps 64.
    """
    return 16 if precision == "int8" and "avx512_vnni" in cpu_flags() else 64


def resolve_precision(precision: str) -> str:
    """``precision`` as run: "auto" becomes "bf16" on CPUs with AMX bf16 tiles (``amx_bf16``), else "int8".

    bf16 autocast is slower than fp32 on CPUs without native bf16, and on CPUs whose native bf16 is
    AVX-512 only (``avx512_bf16`` without AMX) the int8 ONNX Runtime graph of the encoder
    (:mod:`complaintkit.embedding.onnx_encoder`, AVX2 is enough) was measured 1.4 to 1.8 times as
    fast as bf16; AMX CPUs keep bf16, measured there at twice the naive path. "fp32" is the plain
    sentence-transformers encoder.

    Raises
    ------
    InputError
        If ``precision`` is not one of ``PRECISION_CHOICES``.
    """
    if precision not in PRECISION_CHOICES:
        raise InputError(f"--precision must be one of {list(PRECISION_CHOICES)}, found {precision!r}.")
    if precision != "auto":
        return precision
    flag = native_bf16_flag()
    resolved = "bf16" if flag == "amx_bf16" else "int8"
    reason = {"amx_bf16": "the CPU has amx_bf16", None: "no native bf16 matmul on this CPU"}.get(
        flag, f"the CPU has {flag} but no AMX")
    _logging.logger.debug("precision auto: %s (%s)", resolved, reason)
    return resolved


def encoder_runtime(precision: str) -> str:
    """What runs the encoder in ``precision``: "onnxruntime <version> int8" or "torch <version> <precision>".

    Recorded next to the precision in run summaries and evaluation results.
    """
    from importlib.metadata import PackageNotFoundError, version

    package = "onnxruntime" if check_precision(precision) == "int8" else "torch"
    try:
        return f"{package} {version(package)} {precision}"
    except PackageNotFoundError:
        return f"{package} {precision}"


def check_precision(precision: str) -> str:
    """Return ``precision`` if it is one the encoder runs in ("fp32", "bf16", "int8"), else raise ValueError."""
    if precision not in PRECISIONS:
        raise ValueError(f"The 'precision' parameter must be one of {list(PRECISIONS)}. Got {precision!r} instead.")
    return precision
