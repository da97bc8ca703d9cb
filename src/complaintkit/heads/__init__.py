"""The fitted heads: scikit-learn classifiers that take raw complaint texts."""

from .churn import ChurnClassifier, normalise_outcome
from .root_cause import RootCauseClassifier
from .zero_shot import ZeroShotClassifier

__all__ = ["ChurnClassifier", "RootCauseClassifier", "normalise_outcome", "ZeroShotClassifier"]
