"""Complaints per cause over time, with the period (day, week or month) chosen from the date span."""

from __future__ import annotations

from typing import Any

import pandas as pd

DATE_GUESSES = ("date", "date_received", "created_at", "timestamp", "received_at", "created", "datetime")
TOP_CAUSES = 6
OTHER = "(other causes)"


def guess_date_column(frame: pd.DataFrame) -> str | None:
    """The first column with a usual date name, if any."""
    return next((c for c in DATE_GUESSES if c in frame.columns), None)


def parse_dates(values: pd.Series) -> pd.Series:
    """Timestamps (time-zone naive, UTC) from strings or datetimes; unparseable values become NaT."""
    if pd.api.types.is_datetime64_any_dtype(values):
        dates = values
    else:  # parse each distinct value once: tables repeat dates a lot
        codes, uniques = pd.factorize(values)
        parsed = pd.to_datetime(pd.Series(uniques, dtype=object), errors="coerce", utc=True, format="mixed")
        taken = parsed.to_numpy()[codes.clip(0)]
        dates = pd.Series(taken, index=values.index).where(codes >= 0)
        dates = pd.to_datetime(dates, utc=True)
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_convert("UTC").dt.tz_localize(None)
    return dates


def choose_frequency(dates: pd.Series) -> tuple[str, str]:
    """A pandas period code and its name: days up to two months, weeks up to two years, else months."""
    span = (dates.max() - dates.min()).days
    if span <= 62:
        return "D", "day"
    if span <= 730:
        return "W", "week"
    return "M", "month"


def trends_section(dates: pd.Series, causes: pd.Series) -> dict[str, Any] | None:
    """Counts per period of the biggest causes (the rest summed), or None when under two dates parse."""
    valid = dates.notna()
    if valid.sum() < 2 or dates[valid].nunique() < 2:
        return None
    code, name = choose_frequency(dates[valid])
    periods = dates[valid].dt.to_period(code)
    causes = causes[valid].astype(str)
    top = causes.value_counts().index[:TOP_CAUSES]
    causes = causes.where(causes.isin(top), OTHER)
    table = pd.crosstab(periods, causes)
    full = pd.period_range(table.index.min(), table.index.max(), freq=code)
    table = table.reindex(full, fill_value=0)
    order = [c for c in top if c in table.columns] + ([OTHER] if OTHER in table.columns else [])
    return {"frequency": name, "unparsed": int((~valid).sum()),
            "periods": [str(p.start_time.date()) for p in table.index],
            "series": {c: table[c].astype(int).tolist() for c in order},
            "first": str(dates[valid].min().date()), "last": str(dates[valid].max().date()),
            "last_partial": _last_partial(dates[valid].max(), table.index[-1], name)}


def _last_partial(last: pd.Timestamp, period: pd.Period, name: str) -> bool:
    """Whether the data stop before the end of the last period (a day with times counts as partial)."""
    day = last.normalize()
    return bool(day < period.end_time.normalize() or (name == "day" and last != day))
