"""Root-cause labels kept out of everything a bundle writes but its heads (``train --private-labels``).

A class name can itself be confidential (a product under embargo, a legal matter, a customer's
name used as a queue). With private labels every class name in ``metadata.json``, the model
card (``README.md``), ``label_issues.csv`` and what MLflow logs is replaced by an opaque id,
``label_01``, ``label_02``, … in the order of the head's sorted ``classes_``: the same label
set always gets the same ids, and an id says nothing about its name. The heads keep the names,
because scoring must answer with them: whoever can load the bundle can read them (see
:func:`label_key`).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

ID_PREFIX = "label_"
UNSEEN_PREFIX = "unseen_"
RULE = ("class names replaced by opaque ids in this file, the model card and label_issues.csv; "
        "label_NN is the NN-th of the root-cause head's classes in sorted order (the heads keep the names, "
        "which scoring needs)")


def opaque_ids(classes: Sequence[Any], prefix: str = ID_PREFIX) -> dict[str, str]:
    """Map each class name (as text) to ``prefix`` and its 1-based position, zero-padded to one width.

    Examples
    --------
    >>> opaque_ids(["billing", "fees", "outage"])
    {'billing': 'label_1', 'fees': 'label_2', 'outage': 'label_3'}
    >>> opaque_ids([f"c{i}" for i in range(12)])["c0"]
    'label_01'
    """
    width = len(str(len(classes)))
    return {str(name): f"{prefix}{i:0{width}d}" for i, name in enumerate(classes, start=1)}


def label_key(classes: Sequence[Any]) -> pd.DataFrame:
    """The id → class name table of a head's ``classes_`` (for the people allowed to read the names).

    Examples
    --------
    >>> label_key(["billing", "outage"]).to_dict(orient="records")
    [{'id': 'label_1', 'label': 'billing'}, {'id': 'label_2', 'label': 'outage'}]
    """
    return pd.DataFrame([{"id": i, "label": name} for name, i in opaque_ids(classes).items()])


def _keys(mapping: Mapping[str, Any], ids: Mapping[str, str]) -> dict[str, Any]:
    return {ids.get(str(k), k): v for k, v in mapping.items()}


def _class_metrics(metrics: dict[str, Any], ids: dict[str, str]) -> None:
    """Mask one ``root_cause_metrics`` result in place; labels absent from training get ``unseen_NN``."""
    unseen = opaque_ids(metrics.get("unseen_labels", []), UNSEEN_PREFIX)
    every = {**unseen, **ids}
    if "unseen_labels" in metrics:
        metrics["unseen_labels"] = list(unseen.values())
    if "per_class" in metrics:
        metrics["per_class"] = _keys(metrics["per_class"], every)
    if "labels" in metrics.get("confusion", {}):
        metrics["confusion"]["labels"] = [every.get(str(label), label) for label in metrics["confusion"]["labels"]]


def mask_metadata(metadata: dict[str, Any], classes: Sequence[Any]) -> dict[str, Any]:
    """A copy of a bundle's ``metadata`` with every root-cause class name replaced by its opaque id.

    The training label mix (``training_profile.label_shares``) is dropped: the report compares it
    with the scored table's cause names, which the ids cannot be matched to without the heads.
    """
    ids = opaque_ids(classes)
    masked = copy.deepcopy(metadata)
    head = masked.get("heads", {}).get("root_cause", {})
    if "labels" in head:
        head["labels"] = [ids.get(str(label), label) for label in head["labels"]]
    if "label_counts" in head:
        head["label_counts"] = _keys(head["label_counts"], ids)
    for section in ("metrics", "cv_metrics"):
        results = masked.get(section, {})
        if "root_cause" in results:
            _class_metrics(results["root_cause"], ids)
        for row in results.get("churn", {}).get("by_cause", []):
            row["cause"] = ids.get(str(row.get("cause")), row.get("cause"))
    masked.get("training_profile", {}).pop("label_shares", None)
    if "by_given_label" in masked.get("label_issues", {}):
        masked["label_issues"]["by_given_label"] = _keys(masked["label_issues"]["by_given_label"], ids)
    masked["private_labels"] = {"ids": f"{ID_PREFIX}NN", "rule": RULE}
    return masked


def mask_label_issues(issues: pd.DataFrame, classes: Sequence[Any]) -> pd.DataFrame:
    """``label_issues.csv``'s rows with the given and suggested labels as opaque ids."""
    ids = opaque_ids(classes)
    return issues.assign(**{column: issues[column].astype(str).map(ids)
                            for column in ("given_label", "suggested_label") if column in issues})
