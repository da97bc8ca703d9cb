"""The fitted heads: scikit-learn classifiers that take raw complaint texts.

Nothing is imported until a name is used.
"""

from .._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(__name__, {
    **dict.fromkeys(["ChurnClassifier", "normalise_outcome"], ".churn"),
    "RootCauseClassifier": ".root_cause",
    **dict.fromkeys(["PrototypeClassifier", "ZeroShotClassifier"], ".zero_shot"),
    **dict.fromkeys(["AdaptiveZeroShotClassifier", "SelfTrainedPrototypeClassifier"], ".self_training"),
})
__all__ = __dir__()
