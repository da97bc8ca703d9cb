"""Cause × segment tables (agent, channel, product...) with over-represented cells flagged."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..io import require_columns
from .stats import adjusted_residuals, bonferroni_z

MAX_SEGMENTS = 15
MAX_CAUSES = 10
MAX_HIGHLIGHTS = 10
OTHER, MISSING = "(other)", "(missing)"


def _top(values: pd.Series, keep: int) -> pd.Series:
    values = values.astype("string").fillna(MISSING).astype(str)
    top = values.value_counts().index[:keep]
    return values.where(values.isin(top), OTHER)


def _by_volume(totals: pd.Series) -> list[str]:
    """Labels by falling volume, the catch-all groups last."""
    order = totals.sort_values(ascending=False, kind="stable").index
    return [v for v in order if v not in (OTHER, MISSING)] + [v for v in order if v in (OTHER, MISSING)]


def segment_section(scored: pd.DataFrame, by: str, cause: str) -> dict[str, Any] | None:
    """Share of each cause within each segment of ``by``; cells far above expectation flagged.

    A cell is flagged when its adjusted standardised residual exceeds the Bonferroni z for
    all cells of the table (family-wise 5%). None when ``by`` has a single value.
    """
    require_columns(scored, {"segment": (by, "--by")})
    segments = _top(scored[by], MAX_SEGMENTS)
    if segments.nunique() < 2:
        return None
    causes = _top(scored[cause], MAX_CAUSES)
    table = pd.crosstab(segments, causes)
    table = table.loc[_by_volume(table.sum(axis=1)), _by_volume(table.sum(axis=0))]
    residuals = adjusted_residuals(table)
    threshold = bonferroni_z(table.size)
    shares = table.div(table.sum(axis=1), axis=0)
    overall = table.sum(axis=0) / table.to_numpy().sum()
    flagged = residuals.drop(index=[OTHER, MISSING], errors="ignore").stack()  # catch-alls are not actionable
    flagged = flagged[flagged > threshold].sort_values(ascending=False)
    highlights = [{"segment": str(seg), "cause": str(c), "count": int(table.at[seg, c]),
                   "share": float(shares.at[seg, c]), "overall_share": float(overall[c]),
                   "z": float(z)} for (seg, c), z in flagged.head(MAX_HIGHLIGHTS).items()]
    return {"column": by, "segments": [str(s) for s in table.index], "causes": [str(c) for c in table.columns],
            "counts": table.astype(int).to_numpy().tolist(), "segment_totals": table.sum(axis=1).astype(int).tolist(),
            "shares": shares.to_numpy().round(4).tolist(), "residuals": residuals.to_numpy().round(2).tolist(),
            "threshold": round(threshold, 2), "highlights": highlights, "flagged_cells": int(len(flagged))}
