"""One call from files to a written report: read tables, profile and state, build, write."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .. import _logging
from ..bundle import METADATA
from ..bundle.metadata_schema import check_artifacts, read_metadata
from ..exceptions import BundleError
from ..io import check_distinct, claim_outputs, read_table
from .aggregate import build_report
from .emerging import load_state, save_state
from .label_issues import label_issues_section
from .render import write_report


def read_training_profile(model: str | Path) -> dict[str, Any] | None:
    """``training_profile`` from a bundle's ``metadata.json`` (the heads are not loaded)."""
    if not (Path(model) / METADATA).is_file():
        raise BundleError(f"no {METADATA} in {str(model)!r}; pass the bundle folder written by `complaintkit train`.")
    metadata = read_metadata(Path(model))
    check_artifacts(Path(model), metadata.get("artifacts", {}))  # e.g. label_issues.csv, read for the report
    profile = metadata.get("training_profile")
    if profile is None:
        _logging.logger.warning("bundle %s has no training profile (trained before it was recorded); "
                                "drift is compared with --previous only", model)
    return profile


def report_file(scored: str | Path, out: str | Path, *, fmt: str = "html", previous: str | Path | None = None,
                model: str | Path | None = None, state: str | Path | None = None, overwrite: bool = False,
                text_col: str | None = None, date_col: str | None = None, by: Sequence[str] = (),
                value_col: str | None = None, id_col: str | None = None,
                encoding: str = "utf-8-sig") -> dict[str, Any]:
    """Build the report of the scored table at ``scored`` and write it to ``out``; return its data.

    ``state`` is a JSON file that keeps emerging-issue ids stable across runs: read when it
    exists, rewritten after the report is written.
    """
    inputs = {"--input": scored, "--previous": previous, "--model": model}
    check_distinct(inputs, {"--state": state, "--output": out})  # the state file is read and rewritten
    with claim_outputs({"--output": out}, inputs=inputs, overwrite=overwrite):
        profile = read_training_profile(model) if model else None
        data = build_report(read_table(scored, encoding=encoding),
                            previous=read_table(previous, encoding=encoding) if previous else None,
                            text_col=text_col, date_col=date_col, by=by, value_col=value_col, id_col=id_col,
                            training_profile=profile, state=load_state(state) if state else None)
        if model and (issues := label_issues_section(model)):
            data["label_issues"] = issues
        write_report(data, out, fmt)
        if state and "_state" in data:
            save_state(data["_state"], state)
    return data
