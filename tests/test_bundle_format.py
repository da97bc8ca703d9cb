"""Bundles saved by earlier complaintkit versions still load and predict what they predicted then."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import complaintkit
from complaintkit.bundle import LEGACY_TRUSTED_TYPES, TRUSTED_TYPES
from complaintkit.scoring import score_frame

FORMAT_2 = Path(__file__).parent / "fixtures" / "bundle-format-2"
PREDICTIONS = ["root_cause", "root_cause_proba", "root_cause_2", "root_cause_2_proba", "root_cause_3",
               "root_cause_3_proba", "needs_review", "churn_proba"]


def test_format_2_bundle_from_before_the_package_split_predicts_as_recorded() -> None:
    bundle = complaintkit.load(FORMAT_2 / "bundle")
    assert bundle.metadata["format_version"] == 2 and bundle.root_cause is not None and bundle.churn is not None
    rows = pd.read_csv(FORMAT_2 / "input.csv", dtype={"id": str, "plan": str})
    expected = pd.read_csv(FORMAT_2 / "expected.csv", dtype={"id": str, "plan": str})
    scored = score_frame(bundle, rows)
    for column in PREDICTIONS:
        if scored[column].dtype.kind == "f":
            np.testing.assert_allclose(scored[column], expected[column], rtol=1e-5, atol=1e-6, err_msg=column)
        else:
            assert scored[column].astype(str).tolist() == expected[column].astype(str).tolist(), column


def test_every_name_a_bundle_stores_is_importable() -> None:
    """The trusted names are the bundle format: each must resolve to the object it names."""
    import importlib

    for name in TRUSTED_TYPES + LEGACY_TRUSTED_TYPES:
        module, _, attribute = name.rpartition(".")
        assert hasattr(importlib.import_module(module), attribute), name
    assert all(name.split(".")[-1][0] != "_" for name in TRUSTED_TYPES if name.startswith("complaintkit"))


@pytest.mark.parametrize("legacy, public", [("complaintkit.heads.churn._to_numeric", "complaintkit.heads.features"),
                                            ("complaintkit.heads.churn._to_string", "complaintkit.heads.features")])
def test_legacy_names_are_the_public_functions(legacy: str, public: str) -> None:
    import importlib

    from complaintkit.heads import features

    module, _, attribute = legacy.rpartition(".")
    old = getattr(importlib.import_module(module), attribute)
    assert old is getattr(features, old.__name__) and old.__module__ == public
