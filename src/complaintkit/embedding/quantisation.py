"""int8 dynamic quantisation of a sentence-transformers encoder for CPUs without native bf16.

The Linear layers' weights are stored as int8 (one scale per output row) and their inputs are
quantised on the fly, batch by batch (``torch.ao.quantization.quantize_dynamic`` with the fbgemm
kernels, which need only AVX2). Embeddings, layer norms and attention's softmax stay fp32.
"""

from __future__ import annotations

import copy
import functools
import warnings
from typing import Any


def quantised_copy(encoder: Any) -> Any:
    """A copy of ``encoder`` (a ``torch.nn.Module``) whose ``Linear`` layers run in dynamic int8.

    ``encoder`` itself is left unchanged.

    Examples
    --------
    >>> import torch
    >>> layer = torch.nn.Sequential(torch.nn.Linear(8, 4))
    >>> quantised = quantised_copy(layer)
    >>> type(quantised[0]).__name__, type(layer[0]).__name__
    ('Linear', 'Linear')
    >>> quantised[0].__module__.endswith("dynamic.modules.linear")
    True
    """
    import torch
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    engines = torch.backends.quantized.supported_engines
    engine = "fbgemm" if "fbgemm" in engines else "x86" if "x86" in engines else engines[0]
    if torch.backends.quantized.engine != engine:
        torch.backends.quantized.engine = engine
    model = copy.deepcopy(encoder).eval()
    with warnings.catch_warnings():  # torch marks its eager quantisation API as deprecated; torch is pinned
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        return quantize_dynamic(model, {torch.nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8)


@functools.lru_cache(maxsize=4)
def _quantised(encoder_id: int, encoder: Any) -> Any:
    return quantised_copy(encoder)


def quantised_encoder(encoder: Any) -> Any:
    """The int8 copy of ``encoder``, made once per process and encoder."""
    return _quantised(id(encoder), encoder)
