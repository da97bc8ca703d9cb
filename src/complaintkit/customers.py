"""Customer-level view of scored complaints: one row per customer.

A customer who complains several times is a stronger churn signal than one complaint:
repeat contacts are counted, the time between the first and last complaint measured,
and the per-complaint churn probabilities combined.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .exceptions import InputError
from .io import check_output_path, join_text_columns, read_table, require_columns, table_format, write_table
from .schema import CAUSE, CHURN
from .text import is_blank

if TYPE_CHECKING:
    from .bundle import Bundle



def _most_frequent(causes: pd.Series) -> object:
    counts = causes.dropna().value_counts(sort=False)
    if counts.empty:
        return None
    # Ties go to the cause seen first, so the result does not depend on sorting.
    return counts.index[int(np.argmax(counts.to_numpy()))]


def _parse_dates(values: pd.Series, column: str) -> pd.Series:
    dates = pd.to_datetime(values, errors="coerce", utc=True, format="mixed")
    bad = values.notna() & dates.isna()
    if bad.any():
        raise InputError(
            f"the date column {column!r} has {int(bad.sum())} values that are not dates, e.g. "
            f"{values[bad].iloc[0]!r}; use ISO dates (YYYY-MM-DD) or empty cells."
        )
    return dates


def aggregate_customers(scored: pd.DataFrame, customer_col: str, date_col: str | None = None, *,
                        bundle: Bundle | None = None, text_cols: Sequence[str] | None = None,
                        value_col: str | None = None) -> pd.DataFrame:
    """Aggregate per-complaint scores into exactly one row per customer.

    Parameters
    ----------
    scored : DataFrame
        Output of scoring: one row per complaint with ``churn_proba`` and/or ``root_cause``.
    customer_col : str
        Column identifying the customer. Rows without a customer id are refused.
    date_col : str, optional
        Complaint date; adds ``first_complaint``, ``last_complaint`` and ``span_days``.
    bundle : Bundle, optional
        With a churn head, adds ``churn_proba_text``: the churn head re-run on all of the
        customer's complaints joined into one text (long texts are embedded in chunks and
        mean-pooled), with the latest known value of each structured column.
    text_cols : sequence of str, optional
        Text columns for ``bundle`` (default: the bundle's).
    value_col : str, optional
        Money per customer (e.g. monthly charges); adds ``value_at_risk`` = value x
        ``churn_proba_max``, using the value of the latest complaint.

    Returns
    -------
    DataFrame
        One row per customer, sorted by ``churn_proba_max`` (highest first), with
        ``complaints`` (number of complaints; more than 1 means repeat contacts),
        ``main_cause`` (most frequent predicted cause), ``worst_cause`` (predicted cause of
        the complaint with the highest churn probability), ``churn_proba_max`` (the
        strongest single signal: a lower bound when complaints add up),
        ``churn_proba_mean`` and ``churn_proba_combined`` = 1 - prod(1 - p_i) (the
        probability that at least one complaint ends in churn if they were independent:
        an upper bound, since complaints of one customer are not independent).

    Raises
    ------
    InputError
        If a named column is missing, a customer id is empty or a date does not parse.
    """
    roles = {"customer": (customer_col, "--customer-col")}
    if date_col:
        roles["date"] = (date_col, "--date-col")
    if value_col:
        roles["value"] = (value_col, "--value-col")
    require_columns(scored, roles)
    if CHURN not in scored.columns and CAUSE not in scored.columns:
        raise InputError(f"the scored table has neither {CHURN!r} nor {CAUSE!r}; aggregate the output of "
                         "`complaintkit score`.")
    ids = scored[customer_col]
    missing = is_blank(ids)
    if missing.any():
        raise InputError(f"{int(missing.sum())} rows have no customer id in {customer_col!r} (first at row "
                         f"{int(np.flatnonzero(missing.to_numpy())[0])}); fill them in or score them without "
                         "--customer-col.")
    frame = scored.copy()
    order = np.arange(len(frame))
    if date_col:
        frame["_date"] = _parse_dates(frame[date_col], date_col)
        order = np.lexsort((order, frame["_date"].isna().to_numpy(), frame["_date"].to_numpy()))
    frame = frame.iloc[order]
    groups = frame.groupby(customer_col, sort=False)
    out = pd.DataFrame({"complaints": groups.size()})
    if date_col:
        out["first_complaint"] = groups["_date"].min()
        out["last_complaint"] = groups["_date"].max()
        out["span_days"] = (out["last_complaint"] - out["first_complaint"]).dt.total_seconds() / 86400
    if CAUSE in frame.columns:
        out["main_cause"] = groups[CAUSE].agg(_most_frequent)
    if CHURN in frame.columns:
        churn = frame[CHURN].astype(float)
        out["churn_proba_max"] = churn.groupby(frame[customer_col], sort=False).max()
        out["churn_proba_mean"] = churn.groupby(frame[customer_col], sort=False).mean()
        survive = np.log1p(-churn.clip(upper=1 - 1e-12)).groupby(frame[customer_col], sort=False).sum()
        out["churn_proba_combined"] = 1 - np.exp(survive)
        if CAUSE in frame.columns:
            worst = churn.fillna(-1).groupby(frame[customer_col], sort=False).idxmax()
            out["worst_cause"] = frame.loc[worst.to_numpy(), CAUSE].to_numpy()
        if value_col:
            value = pd.to_numeric(groups[value_col].last(), errors="coerce")
            out["value_at_risk"] = value * out["churn_proba_max"]
        if bundle is not None and bundle.churn is not None:
            out["churn_proba_text"] = _rescore_joined(bundle, frame, customer_col, text_cols, out.index)
        out = out.sort_values("churn_proba_max", ascending=False, kind="stable")
    return out.rename_axis(customer_col).reset_index()


def _rescore_joined(bundle: Bundle, frame: pd.DataFrame, customer_col: str,
                    text_cols: Sequence[str] | None, customers: pd.Index) -> np.ndarray:
    texts = join_text_columns(frame, list(text_cols or bundle.text_cols))
    joined = texts.groupby(frame[customer_col], sort=False).agg(lambda t: "\n".join(x for x in t if x))
    latest = frame.groupby(customer_col, sort=False).last()
    inputs = latest.reindex(customers).assign(text=joined.reindex(customers).to_numpy())
    return bundle.churn.predict_proba(inputs.reset_index(drop=True))[:, 1]


def default_customers_path(output: Path) -> Path:
    """``scores.parquet`` → ``scores.customers.parquet``."""
    return output.with_name(f"{output.stem}.customers{output.suffix}")


def write_customer_scores(bundle: Bundle | None, scored_path: str | Path, customer_col: str, *,
                          date_col: str | None = None, output: str | Path | None = None,
                          text_cols: Sequence[str] | None = None, overwrite: bool = False,
                          formulas: str = "neutralise") -> tuple[Path, int]:
    """Aggregate the scored table at ``scored_path`` per customer and write it.

    ``formulas``: CSV/TSV formula cells, as :func:`~complaintkit.io.write_table` handles them.

    Returns the path written (default: ``<scored>.customers.<ext>``) and the number of
    customers. See :func:`aggregate_customers` for the columns.
    """
    target = Path(output) if output else default_customers_path(Path(scored_path))
    table_format(target)
    check_output_path(target, overwrite)
    customers = aggregate_customers(read_table(scored_path), customer_col, date_col, bundle=bundle,
                                    text_cols=text_cols)
    write_table(customers, target, formulas)
    return target, len(customers)
