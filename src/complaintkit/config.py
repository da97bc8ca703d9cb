"""Training options as a validated dataclass."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from .embedding import DEFAULT_MODEL
from .exceptions import InputError
from .heads.calibration import CALIBRATION_METHODS
from .redaction import check_kinds

LONG_TEXT_POLICIES = ("chunks", "head", "head_tail")  # how a text longer than one window is embedded

ROOT_CAUSE_HEADS = ("auto", "standard", "few-label")

CASCADE_SETTINGS = ("auto", "on", "off")
# The fast tier's out-of-fold loss budget. 0.0075 lost less over random splits on data with 30-row classes but
# escalated more rows, which took banking77 below 20x the naive path (docs/scoring-at-scale.md, "Over repeated
# random splits").
FAST_TIER_MAX_F1_LOSS = 0.01


@dataclass
class TrainConfig:
    """What to train and from which columns.

    Parameters
    ----------
    text_cols : tuple of str
        Column(s) holding the complaint; several are joined with ". ".
    label_col : str or None
        Root-cause label column; ``None`` trains no root-cause head.
    parent_col : str or None
        Coarser label each root cause rolls up to (e.g. CFPB issue → product); stored as a
        mapping so scores and metrics can be rolled up.
    churn_col : str or None
        Outcome column (0/1, yes/no, true/false); ``None`` trains no churn head.
    numeric_cols, categorical_cols : tuple of str
        Structured columns for the churn head.
    split_col : str or None
        Column marking rows as ``train_split`` / ``test_split``; held-out metrics are
        computed on the latter and stored in the bundle.
    embedding_model : str
        Model alias or sentence-transformers folder.
    speakers : tuple of str or None
        For transcripts, embed only these speakers' turns (e.g. ``("customer",)``).
    redact : tuple of str
        Kinds of personal data masked before embedding, at training and scoring alike
        (see :data:`complaintkit.redaction.KINDS`); empty masks nothing.
    review_precision : float or None
        Target precision of auto-classified complaints; sets the ``needs_review`` threshold
        from out-of-fold predictions on the training rows. ``None`` turns flagging off.
    id_col : str or None
        Column identifying each row in ``label_issues.csv`` (doubtful training labels) and the
        training examples of explanations (``similar_k_id``); ``None`` identifies rows by their
        number in the table (0-based).
    calibration : str
        Probability calibration of the root-cause head: "auto" (temperature scaling, which
        keeps the class-balanced decisions), "temperature", "sigmoid" or "isotonic".
    root_cause_head : str
        "auto" (few-label training when the median class has fewer than 32 labelled rows,
        else the standard head), "standard" or "few-label".
    cascade : str
        "on" trains a static-embedding head that answers for the rows where it is confident and
        hands the rest to the full head, with the threshold at which its out-of-fold answers are
        the full head's on at least 99% of the training rows (macro-F1 within half a point);
        "off" keeps the full head for every row; "auto" (default) is "on" from 1,000 labelled
        rows (:data:`complaintkit.training.CASCADE_MIN_ROWS`), where there are enough rows to
        choose the threshold and scoring time starts to matter.
    fast_tier : bool
        Train the fast tier instead of the cascade above: the same two heads
        (:class:`~complaintkit.heads.cascade.CascadeRootCauseClassifier`), with the threshold set by
        the macro-F1 it may lose (``fast_tier_max_f1_loss``), so far fewer rows reach the full head.
    fast_tier_max_f1_loss : float
        Out-of-fold macro-F1 the fast tier may lose against the full head; sets its threshold.
    private_labels : bool
        Replace the root-cause class names by opaque ids (``label_01``, …) in everything the
        bundle writes outside its heads: ``metadata.json``, the model card, ``label_issues.csv``
        (see :mod:`complaintkit.private_labels`).
    drop_doubtful_labels : bool
        Leave out of the root-cause head the training rows whose given label is less probable than
        half of chance (0.5 / the number of labels) under the head's own out-of-fold probabilities,
        then refit it with the settings it chose. Meant for labels with random slips (a cause
        typed into the wrong field); ``label_issues.csv`` marks the rows left out. See
        docs/doubtful-labels.md for what it wins back and what it costs on clean labels.
    precision : str
        The encoder's precision while training: "auto" (the CPU's fast one, as ``score`` uses:
        bf16 with AMX bf16 tiles, else int8), "fp32", "bf16" or "int8" (see
        :func:`~complaintkit.embedding.resolve_precision`).
    long_texts : str
        How the root-cause head embeds a text longer than one 180-word chunk: "chunks" (every
        chunk, mean-pooled), "head" (the first chunk) or "head_tail" (its first and last 90 words
        as one window); see :class:`~complaintkit.embedding.SentenceTransformerEmbedder`.
    n_jobs : int or None
        Processes that fit the root-cause head's SVMs (settings search, calibration, out-of-fold
        predictions) side by side; -1 (the default) one per core, ``None`` or 1 one at a time.
        The trained head is the same whatever the number (see
        :class:`~complaintkit.heads.RootCauseClassifier`).
    """

    text_cols: tuple[str, ...] = ("text",)
    label_col: str | None = None
    parent_col: str | None = None
    churn_col: str | None = None
    numeric_cols: tuple[str, ...] = ()
    categorical_cols: tuple[str, ...] = ()
    split_col: str | None = None
    train_split: str = "train"
    test_split: str = "test"
    embedding_model: str = DEFAULT_MODEL
    review_precision: float | None = 0.9
    speakers: tuple[str, ...] | None = None
    redact: tuple[str, ...] = ()
    calibration: str = "auto"
    id_col: str | None = None
    root_cause_head: str = "auto"
    cascade: str = "auto"
    fast_tier: bool = False
    fast_tier_max_f1_loss: float = FAST_TIER_MAX_F1_LOSS
    private_labels: bool = False
    drop_doubtful_labels: bool = False
    precision: str = "auto"
    long_texts: str = "chunks"
    n_jobs: int | None = -1
    seed: int = 0

    def __post_init__(self) -> None:
        self.redact = check_kinds(self.redact)
        for name in ("text_cols", "numeric_cols", "categorical_cols", "speakers"):
            value = getattr(self, name)
            if value is not None:
                setattr(self, name, (value,) if isinstance(value, str) else tuple(value))
        if self.speakers == ():
            self.speakers = None
        if not self.text_cols:
            raise InputError("at least one text column is needed; name it with --text-col.")
        if self.label_col is None and self.churn_col is None:
            raise InputError(
                "nothing to train: expected a root-cause label column (--label-col) and/or a churn "
                "outcome column (--churn-col), found neither."
            )
        if self.parent_col is not None and self.label_col is None:
            raise InputError("--parent-col rolls root-cause labels up; it needs --label-col too.")
        if (self.numeric_cols or self.categorical_cols) and self.churn_col is None:
            raise InputError("structured columns feed the churn head; add --churn-col or drop them.")
        if self.calibration not in ("auto", *CALIBRATION_METHODS):
            raise InputError(f"calibration must be one of {['auto', *CALIBRATION_METHODS]}; got "
                             f"{self.calibration!r}. Use --calibration auto unless you need another method.")
        if self.long_texts not in LONG_TEXT_POLICIES:
            raise InputError(f"long_texts must be one of {list(LONG_TEXT_POLICIES)}; got {self.long_texts!r}.")
        if self.root_cause_head not in ROOT_CAUSE_HEADS:
            raise InputError(f"root_cause_head must be one of {list(ROOT_CAUSE_HEADS)}; got {self.root_cause_head!r}.")
        if self.fast_tier and self.label_col is None:
            raise InputError("the fast tier is a root-cause head: --fast-tier needs --label-col.")
        if self.cascade not in CASCADE_SETTINGS:
            raise InputError(f"cascade must be one of {list(CASCADE_SETTINGS)}; got {self.cascade!r}.")
        if self.fast_tier and self.cascade == "off":
            raise InputError("--fast-tier is a cascade, and --cascade off asks for none; drop one of them.")
        if self.drop_doubtful_labels and self.label_col is None:
            raise InputError("--drop-doubtful-labels leaves rows out of the root-cause head; it needs --label-col.")
        if self.private_labels and self.label_col is None:
            raise InputError("--private-labels hides root-cause class names; it needs --label-col.")
        if self.private_labels and self.parent_col is not None:
            raise InputError("--private-labels and --parent-col cannot be combined: scoring reads the label → "
                             "parent map from metadata.json, where names are hidden. Drop one of them.")
        if self.n_jobs == 0:
            raise InputError("n_jobs 0 runs nothing; use -1 (one process per core) or 1 (one at a time).")
        if not 0 <= self.fast_tier_max_f1_loss < 1:
            raise InputError(f"the fast tier's macro-F1 loss must be in [0, 1); got {self.fast_tier_max_f1_loss}.")
        if self.review_precision is not None and not 0 < self.review_precision < 1:
            raise InputError(
                f"review precision must be between 0 and 1 (exclusive); got {self.review_precision}."
            )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready copy of the options."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """Inverse of :meth:`to_dict`; unknown keys are refused."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise InputError(f"unknown training options {unknown}; known options are {sorted(known)}.")
        return cls(**values)
