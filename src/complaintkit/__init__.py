"""complaintkit: complaint texts → embeddings → root cause and churn likelihood → reports."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("complaintkit")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0"

from .bundle import Bundle  # noqa: E402
from .config import TrainConfig  # noqa: E402
from .customers import aggregate_customers  # noqa: E402
from .embedding import SentenceTransformerEmbedder  # noqa: E402
from .evaluation import evaluate  # noqa: E402
from .heads import ChurnClassifier, RootCauseClassifier  # noqa: E402
from .io import read_table  # noqa: E402
from .report import build_report, write_report  # noqa: E402
from .scoring import score_file, score_frame  # noqa: E402
from .training import train  # noqa: E402

__all__ = [
    "Bundle",
    "ChurnClassifier",
    "RootCauseClassifier",
    "SentenceTransformerEmbedder",
    "TrainConfig",
    "__version__",
    "aggregate_customers",
    "build_report",
    "evaluate",
    "read_table",
    "score_file",
    "score_frame",
    "train",
    "write_report",
]
