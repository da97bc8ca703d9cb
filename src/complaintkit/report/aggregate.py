"""Aggregates of a scored table. Reads only the scored rows (and optionally a training profile), never the model."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import InputError
from ..io import require_columns
from ..schema import CAUSE, CHURN, CONFIDENCE, REVIEW
from .drift import drift_section
from .emerging import emerging_issues, emerging_sample, low_confidence
from .examples import cause_examples, example_rows, excerpt
from .segments import segment_section
from .stats import ALPHA, holm, two_proportion_z
from .texts import SeriesTexts, Texts
from .trends import guess_date_column, parse_dates, trends_section

HIGH_RISK = 0.5
TOP_RISK_ROWS = 10
TEXT_GUESSES = ("text", "narrative", "complaint", "body", "message", "transcript")
ID_GUESSES = ("customer_id", "complaint_id", "tweet_id", "id", "row_number")


def guess_text_column(scored: pd.DataFrame) -> str | None:
    """The column most likely to hold the complaint text: a known name, else the longest strings."""
    for name in TEXT_GUESSES:
        if name in scored.columns:
            return name
    strings = [c for c in scored.columns if scored[c].dtype == object and not c.startswith(CAUSE)]
    if not strings:
        return None
    head = scored.head(1000)
    lengths = {c: head[c].dropna().astype(str).str.len().mean() for c in strings}
    best = max(lengths, key=lambda c: lengths[c])
    return best if lengths[best] >= 40 else None


def coerce_scored_types(scored: pd.DataFrame) -> pd.DataFrame:
    """Give the prediction columns numeric/boolean types (CSV input arrives as strings)."""
    scored = scored.copy(deep=False)  # columns are replaced, never written into: the caller's frame is unchanged
    for column in scored.columns:
        if column.endswith("_proba"):
            scored[column] = pd.to_numeric(scored[column], errors="coerce")
    if REVIEW in scored and scored[REVIEW].dtype != bool:
        scored[REVIEW] = scored[REVIEW].astype(str).str.lower().isin({"true", "1", "1.0"})
    return scored


def _check_columns(scored: pd.DataFrame, role: str, columns: dict[str, tuple[str, str]]) -> None:
    require_columns(scored, {"predicted root cause": (CAUSE, "complaintkit score")})
    require_columns(scored, {k: v for k, v in columns.items() if v[0] is not None})
    if scored.empty:
        raise InputError(f"the {role} scored table has no rows; score some complaints first.")


def share_changes(now: pd.Series, before: pd.Series) -> list[dict[str, Any]]:
    """Per cause: shares in both periods, the change and a Holm-corrected two-proportion z-test."""
    causes = now.index.union(before.index)
    a, b = now.reindex(causes, fill_value=0), before.reindex(causes, fill_value=0)
    p = two_proportion_z(a.to_numpy(), int(now.sum()), b.to_numpy(), int(before.sum()))
    adjusted = holm(p)
    rows = []
    for i, cause in enumerate(causes):
        share_now, share_before = a.iloc[i] / now.sum(), b.iloc[i] / before.sum()
        rows.append({"cause": str(cause), "count": int(a.iloc[i]), "previous_count": int(b.iloc[i]),
                     "share": float(share_now), "previous_share": float(share_before),
                     "change": float(share_now - share_before), "p_adjusted": float(adjusted[i]),
                     "significant": bool(adjusted[i] < ALPHA)})
    return rows


def _reference_split(dates: pd.Series | None, causes: pd.Series) -> tuple[pd.Series, pd.Series, str] | None:
    """Without --previous: the later half of the date range against the earlier half."""
    if dates is None or dates.notna().sum() < 20:
        return None
    valid = dates.notna()
    middle = dates[valid].min() + (dates[valid].max() - dates[valid].min()) / 2
    later, earlier = valid & (dates > middle), valid & (dates <= middle)
    if later.sum() < 10 or earlier.sum() < 10:
        return None
    label = f"rows after {middle.date()} vs rows up to {middle.date()} (no --previous given)"
    return causes[later].value_counts(), causes[earlier].value_counts(), label


def _churn_section(scored: pd.DataFrame, texts: Texts | None, id_col: str | None,
                   by: Sequence[str]) -> dict[str, Any]:
    churn = scored[CHURN]
    grouped = scored.groupby(CAUSE, observed=True)[CHURN]
    by_cause = pd.DataFrame({"mean_churn": grouped.mean(), "high_risk_share": grouped.apply(
        lambda s: float((s >= HIGH_RISK).mean())), "count": grouped.size()}).sort_values("mean_churn", ascending=False)
    top = scored.loc[_riskiest(scored)]
    shown = texts.take(top.index) if texts is not None else None
    risky = []
    for label, row in top.iterrows():
        risky.append({"id": str(row[id_col]) if id_col else str(label), "cause": str(row[CAUSE]),
                      "churn": float(row[CHURN]), "segments": {b: str(row[b]) for b in by},
                      "text": excerpt(shown[label], 200) if shown is not None else None})
    return {"mean": float(churn.mean()), "high_risk_share": float((churn >= HIGH_RISK).mean()),
            "threshold": HIGH_RISK, "id_column": id_col,
            "by_cause": [{"cause": str(c), **{k: float(v) for k, v in r.items()}} for c, r in by_cause.iterrows()],
            "top": risky}


def _riskiest(scored: pd.DataFrame) -> pd.Index:
    return scored[CHURN].nlargest(TOP_RISK_ROWS).index


def _shown_rows(scored: pd.DataFrame, texts: Texts, low_confidence_rows: pd.Series | None,
                examples: int) -> tuple[tuple[pd.DataFrame, pd.Series], tuple[pd.DataFrame, int] | None]:
    """The rows the examples and the emerging issues use, their texts read in one pass with the riskiest rows'."""
    present = texts.present.to_numpy()
    chosen = example_rows(scored, present, CAUSE, CONFIDENCE if CONFIDENCE in scored else None, examples)
    rows = [chosen[0].index, chosen[1].index.get_level_values(-1)]
    clustered = None
    if low_confidence_rows is not None:
        clustered = emerging_sample(scored, present, low_confidence_rows, CAUSE)
        rows.append(clustered[0].index)
    if CHURN in scored:
        rows.append(_riskiest(scored[scored[CHURN].notna()]))
    texts.prefetch(np.concatenate(rows))
    return chosen, clustered


def _money_section(scored: pd.DataFrame, value_col: str) -> dict[str, Any] | None:
    values = pd.to_numeric(scored[value_col], errors="coerce")
    if values.notna().sum() == 0:
        return None
    frame = pd.DataFrame({"cause": scored[CAUSE].astype(str), "value": values})
    if CHURN in scored:
        frame["at_risk"] = values * scored[CHURN]
    table = frame.groupby("cause").sum(min_count=1).sort_values(
        "at_risk" if CHURN in scored else "value", ascending=False)
    return {"column": value_col, "weighted_by_churn": CHURN in scored, "unparsed": int(values.isna().sum()),
            "total": float(values.sum()),
            "by_cause": [{"cause": c, **{k: float(v) for k, v in r.fillna(0).items()}} for c, r in table.iterrows()]}


def _summary(data: dict[str, Any]) -> list[str]:
    causes = data["causes"]
    lines = ["The biggest root causes are " + ", ".join(
        f"{c['cause']} ({c['share']:.0%}, {c['count']:,} complaints)" for c in causes[:3]) + "."]
    change = data.get("change")
    if change:
        growing = [c for c in change["causes"] if c["significant"] and c["change"] > 0]
        if growing:
            top = max(growing, key=lambda c: c["change"])
            lines.append(f"Fastest growing: {top['cause']}, from {top['previous_share']:.1%} to {top['share']:.1%} "
                         f"of complaints ({change['reference']}; significant after Holm correction).")
        else:
            lines.append(f"No cause grew significantly ({change['reference']}).")
    churn = data.get("churn")
    if churn:
        worst = churn["by_cause"][0]
        lines.append(f"Customers complaining about {worst['cause']} are the most likely to leave "
                     f"(mean churn probability {worst['mean_churn']:.0%} vs {churn['mean']:.0%} overall).")
    money = data.get("money")
    if money:
        top = money["by_cause"][0]
        key = "at_risk" if money["weighted_by_churn"] else "value"
        lines.append(f"Most money at risk: {top['cause']} ({top[key]:,.0f} in {money['column']}).")
    emerging = data.get("emerging")
    if emerging and emerging["clusters"]:
        new = [c for c in emerging["clusters"] if c["status"] == "new"]
        biggest = emerging["clusters"][0]
        lines.append(f"{len(emerging['clusters'])} emerging issue groups among low-confidence complaints "
                     f"({len(new)} new); the largest is {biggest['id']} “{biggest['label']}” (~{biggest['size']:,}).")
    drift = data.get("drift")
    if drift and drift["warning"]:
        moved = ", ".join(f"{c['measure']} vs the {c['reference']}" for c in drift["checks"] if c["shifted"])
        lines.append(f"Warning: the data has drifted ({moved}); predictions may be less reliable.")
    return lines


def build_report(scored: pd.DataFrame, *, previous: pd.DataFrame | None = None, text_col: str | None = None,
                 date_col: str | None = None, by: Sequence[str] = (), value_col: str | None = None,
                 id_col: str | None = None, training_profile: dict[str, Any] | None = None,
                 state: dict[str, Any] | None = None, examples: int = 3,
                 excerpt_chars: int = 400, texts: Texts | None = None) -> dict[str, Any]:
    """Compute every section of the report that the columns of ``scored`` allow.

    Parameters
    ----------
    scored : DataFrame
        Output of ``complaintkit score`` for the period reported on.
    previous : DataFrame, optional
        The scored table of the period before, for changes in share and drift.
    text_col, date_col, id_col : str, optional
        Columns with the complaint text, its date and an id; guessed from usual names when None.
    by : sequence of str
        Segment columns (agent, channel, product...) for cause × segment tables.
    value_col : str, optional
        Money value of each complaint (e.g. the customer's annual revenue).
    training_profile : dict, optional
        ``metadata["training_profile"]`` of the bundle that scored the table, for drift.
    state : dict, optional
        Emerging-issue state of earlier runs (see :func:`emerging.load_state`); when given,
        emerging-issue ids are matched to it and the updated state is returned under ``"_state"``.
    texts : SeriesTexts or ParquetTexts, optional
        The texts of ``text_col`` when ``scored`` does not hold them (a large Parquet table's
        texts are read on demand: see :mod:`complaintkit.report.texts`).

    Returns
    -------
    dict
        JSON-ready sections; those that cannot be computed are explained in ``notes``.
    """
    _check_columns(scored, "current", {"text": (None if texts is not None else text_col, "--text-col"),
                                       "date": (date_col, "--date-col"),
                                       "value": (value_col, "--value-col"), "id": (id_col, "--id-col"),
                                       **{f"segment ({b})": (b, "--by") for b in by}})
    scored = coerce_scored_types(scored)
    if previous is not None:
        _check_columns(previous, "previous", {})
        previous = coerce_scored_types(previous)
    text_col = text_col or guess_text_column(scored)
    if texts is None and text_col:
        texts = SeriesTexts(scored[text_col])
    date_col = date_col or guess_date_column(scored)
    id_col = id_col or next((c for c in ID_GUESSES if c in scored.columns), None)
    causes_col = scored[CAUSE].astype(str)
    counts = causes_col.value_counts()
    notes: list[str] = []
    has_conf, has_review = CONFIDENCE in scored, REVIEW in scored
    grouped = scored.groupby(causes_col, observed=True)
    causes = [{"cause": str(c), "count": int(n), "share": float(n / len(scored)),
               "mean_confidence": float(grouped[CONFIDENCE].mean()[c]) if has_conf else None,
               "needs_review_share": float(grouped[REVIEW].mean()[c]) if has_review else None}
              for c, n in counts.items()]
    data: dict[str, Any] = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"), "rows": int(len(scored)),
        "columns": {"text": text_col, "date": date_col, "id": id_col, "value": value_col, "by": list(by)},
        "needs_review_share": float(scored[REVIEW].mean()) if has_review else None,
        "mean_confidence": float(scored[CONFIDENCE].mean()) if has_conf else None,
        "causes": causes, "notes": notes}

    dates = parse_dates(scored[date_col]) if date_col else None
    if previous is not None:
        data["change"] = {"reference": f"vs the previous period ({len(previous):,} complaints)",
                          "causes": share_changes(counts, previous[CAUSE].astype(str).value_counts())}
    elif (split := _reference_split(dates, causes_col)) is not None:
        data["change"] = {"reference": split[2], "causes": share_changes(split[0], split[1])}
    else:
        notes.append("Change per cause omitted: pass --previous (or a date column spanning some time).")
    if "change" in data:
        by_cause = {c["cause"]: c for c in data["change"]["causes"]}
        for c in causes:
            c["change"] = by_cause[c["cause"]]["change"]
            c["significant"] = by_cause[c["cause"]]["significant"]

    if dates is not None:
        data["trends"] = trends_section(dates, causes_col)
        if data["trends"]:
            data["trends"]["date_column"] = date_col
        else:
            notes.append(f"Trends omitted: fewer than two distinct dates parse in {date_col!r}.")
    else:
        notes.append("Trends omitted: no date column (name one with --date-col).")

    mask, rule = low_confidence(scored, CONFIDENCE, REVIEW) if has_conf else (None, "")
    shown, clustered = _shown_rows(scored, texts, mask, examples) if text_col else (None, None)
    if CHURN in scored and scored[CHURN].notna().any():
        data["churn"] = _churn_section(scored[scored[CHURN].notna()], texts, id_col, by)
        for c in causes:
            c["mean_churn"] = next(r["mean_churn"] for r in data["churn"]["by_cause"] if r["cause"] == c["cause"])
    else:
        notes.append("Churn omitted: the scored table has no churn_proba (train a bundle with --churn-col).")

    if value_col:
        data["money"] = _money_section(scored, value_col)
        if data["money"] is None:
            notes.append(f"Money at risk omitted: no numeric values in {value_col!r}.")
    else:
        notes.append("Money at risk omitted: name a value column with --value-col.")

    data["segments"] = []
    for column in by:
        section = segment_section(scored, column, CAUSE)
        if section is None:
            notes.append(f"Segment {column!r} omitted: it has a single value.")
        else:
            data["segments"].append(section)
    if not by:
        notes.append("Segments omitted: name segment columns with --by (e.g. --by agent_id --by channel).")

    if text_col:
        found = cause_examples(scored, texts, shown, CAUSE, CONFIDENCE if has_conf else None, examples, excerpt_chars)
        for c in causes:
            c["examples"] = found.get(c["cause"], {"representative": [], "confident": []})
    else:
        notes.append("Examples and emerging issues omitted: no text column found (name one with --text-col).")

    if clustered is not None:
        run = str(dates.max().date()) if dates is not None and dates.notna().any() else data["generated_at"][:10]
        section, new_state = emerging_issues(scored, texts, clustered, state or {"version": 1, "next_id": 1,
                                                                                 "clusters": []}, run, CAUSE)
        if section is None:
            notes.append(f"Emerging issues omitted: fewer than 20 low-confidence complaints ({rule}).")
        else:
            data["emerging"] = {**section, "rule": rule, "run": run}
            data["_state"] = new_state
    elif text_col:
        notes.append("Emerging issues omitted: the scored table has no root_cause_proba.")

    data["drift"] = drift_section(scored, texts, training_profile, previous, CAUSE, CONFIDENCE)
    if data["drift"] is None:
        notes.append("Drift omitted: pass --model (a bundle with a training profile) or --previous.")
    data["summary"] = _summary(data)
    return {k: v for k, v in data.items() if v is not None or k in ("needs_review_share", "mean_confidence")}

