"""Significance tests used by the report: share changes and over-represented cells."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

ALPHA = 0.05


def two_proportion_z(count_a: np.ndarray, total_a: int, count_b: np.ndarray, total_b: int) -> np.ndarray:
    """Two-sided p-values that the shares ``count_a/total_a`` and ``count_b/total_b`` are equal."""
    count_a, count_b = np.asarray(count_a, float), np.asarray(count_b, float)
    pooled = (count_a + count_b) / (total_a + total_b)
    se = np.sqrt(pooled * (1 - pooled) * (1 / total_a + 1 / total_b))
    diff = count_a / total_a - count_b / total_b
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, diff / se, 0.0)
    return 2 * norm.sf(np.abs(z))


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm–Bonferroni adjusted p-values (family-wise error control, any dependence).

    Examples
    --------
    >>> holm(np.array([0.01, 0.04, 0.03])).round(2).tolist()
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(p_values, float)
    order = np.argsort(p)
    adjusted = np.maximum.accumulate(p[order] * (len(p) - np.arange(len(p))))
    out = np.empty_like(p)
    out[order] = np.minimum(adjusted, 1.0)
    return out


def adjusted_residuals(table: pd.DataFrame) -> pd.DataFrame:
    """Adjusted standardised residuals of a contingency table (≈ N(0, 1) under independence)."""
    observed = table.to_numpy(float)
    total = observed.sum()
    rows, cols = observed.sum(axis=1, keepdims=True), observed.sum(axis=0, keepdims=True)
    expected = rows @ cols / total
    variance = expected * (1 - rows / total) * (1 - cols / total)
    with np.errstate(divide="ignore", invalid="ignore"):
        residual = np.where(variance > 0, (observed - expected) / np.sqrt(variance), 0.0)
    return pd.DataFrame(residual, index=table.index, columns=table.columns)


def bonferroni_z(cells: int, alpha: float = ALPHA) -> float:
    """One-sided z threshold for ``cells`` simultaneous tests at family-wise level ``alpha``."""
    return float(norm.isf(alpha / max(cells, 1)))
