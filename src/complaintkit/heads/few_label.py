"""Root causes from a few labelled complaints: a fine-tuned encoder, self-training, a linear head."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ..config import ROOT_CAUSE_HEADS, TrainConfig
from ..embedding import DEFAULT_MODEL, SentenceTransformerEmbedder
from ..exceptions import InputError
from ..explain import build_example_index
from ..text import TextNormaliser, as_text_list
from ._base import TextPipelineMixin
from ._selection import choose_within_one_se, summarise
from .root_cause import RootCauseClassifier
from .temperature import TemperatureScaledClassifier, fit_temperature, scale_probabilities

FEW_LABELS_PER_CLASS = 32  # below this median count per class, `train` picks this head (see docs/few-labels.md)
FEW_LABELS_MAX_ROWS = 1000  # ... and below this many labelled rows in all (on banking77's 77 classes, 16 per class
# already made 1,232 rows, where the standard head was ahead)


def is_unlabelled(labels: np.ndarray) -> np.ndarray:
    """True where a label is missing: ``None``, NaN or a blank string."""
    return np.asarray([value is None or (isinstance(value, float) and np.isnan(value)) or str(value).strip() == ""
                       for value in labels], dtype=bool)


def choose_root_cause_head(setting: str, labels: Sequence[str], threshold: int = FEW_LABELS_PER_CLASS,
                           max_rows: int = FEW_LABELS_MAX_ROWS) -> tuple[str, str]:
    """``("few-label" or "standard", why)`` for ``setting`` and the labelled examples ``labels``.

    "auto" picks few-label training when the median number of labelled examples per class is
    below ``threshold`` and there are fewer than ``max_rows`` labelled examples in all;
    "standard" and "few-label" force one.
    """
    if setting not in ROOT_CAUSE_HEADS:
        raise InputError(f"the root-cause head must be one of {list(ROOT_CAUSE_HEADS)}; got {setting!r}.")
    _, counts = np.unique(np.asarray(labels, dtype=object), return_counts=True)
    median = float(np.median(counts)) if len(counts) else 0.0
    rows = int(counts.sum())
    if setting != "auto":
        return setting, f"asked for; {median:g} labelled examples per class (median), {rows} in all"
    if median >= threshold:
        return "standard", f"median {median:g} labelled examples per class >= {threshold}"
    if rows >= max_rows:
        return "standard", f"{rows} labelled examples in all >= {max_rows} (median {median:g} per class)"
    return "few-label", f"median {median:g} labelled examples per class < {threshold} and {rows} in all < {max_rows}"


def _smallest_class(labels: np.ndarray) -> int:
    """Rows of the rarest label."""
    return int(np.unique(labels, return_counts=True)[1].min())


class FewLabelClassifier(TextPipelineMixin, ClassifierMixin, BaseEstimator):
    """Predict root causes when only a few complaints per cause are labelled.

    The encoder is first fine-tuned on the labelled texts with a supervised contrastive loss
    (see :func:`complaintkit.fine_tuning.fine_tune_encoder`). A class-balanced linear head is
    then fitted: with ``tfidf`` the standard head (:class:`RootCauseClassifier`: word and
    character TF-IDF ⊕ the fine-tuned encoder's embedding, linear SVM, settings by
    cross-validation), otherwise a logistic regression on the fine-tuned embeddings alone. Its
    probabilities are temperature-scaled on held-out predictions: the labelled texts are split
    into ``calibration_folds`` folds, and for each fold an encoder fine-tuned without it (half
    the steps) and the same head on that encoder (with the final head's settings) predict it.
    ``oof_proba_`` keeps those calibrated held-out probabilities, from which ``train`` sets the
    ``needs_review`` threshold as for the standard head. Texts given with an empty label
    (``None``, NaN or ``""``) are unlabelled: with ``self_training_rounds`` > 0 the head labels them, and
    the most confident ones per class are added as extra training examples, round after round.

    Parameters
    ----------
    embedding_model : str, default="all-MiniLM-L6-v2"
        Encoder to start from (alias or folder).
    fine_tune : bool, default=True
        Fine-tune the encoder; ``False`` keeps it frozen.
    steps : int, default=40
        Fine-tuning steps (batches of ``batch_size`` labelled texts).
    batch_size : int, default=32
    learning_rate : float, default=5e-5
    frozen_layers : int, default=3
        Encoder layers fine-tuning keeps as they are, from the input up (with the input embedding);
        they run once per text instead of at every step, so each kept layer makes training cheaper
        (see :func:`complaintkit.fine_tuning.fine_tune_encoder`). 3 of MiniLM's 6 halves the
        training time at the same macro-F1 (docs on few labels); 0 trains every layer but the
        word-embedding table.
    C : float or "auto", default="auto"
        Inverse regularisation of the logistic regression (without ``tfidf``). "auto" takes the
        smallest value of ``C_grid`` whose macro-F1 on the calibration folds' held-out predictions
        is within one standard error (over the folds) of the best (the smallest without
        calibration folds).
    C_grid : tuple of float, default=(1.0, 10.0)
        The candidates of ``C="auto"``.
    tfidf : bool, default=False
        Fit the standard head's features (word and character TF-IDF ⊕ the fine-tuned embedding)
        with its class-balanced linear SVM instead of the logistic regression on the embedding.
    calibration_folds : int, default=2
        Folds of the held-out predictions behind the temperature and ``oof_proba_`` (fewer if a
        class is smaller); each fine-tunes an encoder with half of ``steps``. 0 turns
        calibration off (probabilities of the plain regression, no ``oof_proba_``).
    self_training_rounds : int, default=0
        Rounds of confident pseudo-labels on the unlabelled texts; 0 (off) because it did not
        help on the airline learning curve (see docs/few-labels.md).
    pseudo_labels_per_class : int, default=16
        Most confident unlabelled texts added per class and round.
    max_unlabelled : int, default=2000
        Unlabelled texts used at most (a random sample), which bounds the embedding cost.
    encoder_dir : str or None, default=None
        Where fine-tuned encoders are written; ``None`` is the embedding cache folder.
    max_words_per_chunk, long_texts, cache_dir, speakers, redact
        As for :class:`complaintkit.heads.RootCauseClassifier`.
    random_state : int, default=0

    Attributes
    ----------
    classes_ : ndarray
    steps_ : int
        Fine-tuning steps run (0 without fine-tuning).
    example_index_ : ExampleIndex
        The labelled texts, for explanations by similar examples.
    n_pseudo_labelled_ : int
        Unlabelled texts added by self-training.
    oof_proba_ : ndarray of shape (n_labelled, n_classes) or None
        Calibrated probabilities of each labelled text from an encoder and a regression fitted
        without it; ``None`` when calibration is off or a class has a single labelled text.
    oof_folds_ : int
        Folds behind ``oof_proba_`` (0 when it is ``None``).
    temperature_ : float
        The temperature chosen on the held-out predictions (1.0 without calibration).
    head_settings_ : dict
        The head's settings: the regression's ``C``, or the standard head's chosen settings.
    held_out_macro_f1_ : list of dict
        Each candidate setting with the mean (``macro_f1``) and standard error (``se``) over the
        calibration folds of its held-out macro-F1, and ``chosen`` (empty without calibration folds).
    pipeline_ : Pipeline
        Text normaliser, embedder (on the fine-tuned encoder) and logistic regression; with
        ``tfidf``, text normaliser and the temperature-scaled standard head on the fine-tuned encoder.
    """

    long_texts = "chunks"  # how heads saved before the parameter existed embed long texts

    def __init__(self, embedding_model: str = DEFAULT_MODEL, fine_tune: bool = True, steps: int = 40,
                 batch_size: int = 32, learning_rate: float = 5e-5, frozen_layers: int = 3, C: float | str = "auto",
                 C_grid: tuple[float, ...] = (1.0, 10.0), tfidf: bool = False, calibration_folds: int = 2,
                 self_training_rounds: int = 0, pseudo_labels_per_class: int = 16, max_unlabelled: int = 2000,
                 encoder_dir: str | None = None, max_words_per_chunk: int | None = 180,
                 cache_dir: str | None = None, speakers: tuple[str, ...] | None = None,
                 redact: Sequence[str] = (), random_state: int = 0, long_texts: str = "chunks") -> None:
        self.embedding_model = embedding_model
        self.fine_tune = fine_tune
        self.steps = steps
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.frozen_layers = frozen_layers
        self.C = C
        self.C_grid = C_grid
        self.tfidf = tfidf
        self.calibration_folds = calibration_folds
        self.self_training_rounds = self_training_rounds
        self.pseudo_labels_per_class = pseudo_labels_per_class
        self.max_unlabelled = max_unlabelled
        self.encoder_dir = encoder_dir
        self.max_words_per_chunk = max_words_per_chunk
        self.long_texts = long_texts
        self.cache_dir = cache_dir
        self.speakers = speakers
        self.redact = redact
        self.random_state = random_state

    def _check_params(self) -> None:
        if not (isinstance(self.steps, int) and self.steps > 0):
            raise ValueError(f"The 'steps' parameter of FewLabelClassifier must be a positive int. "
                             f"Got {self.steps!r} instead.")
        for name in ("calibration_folds", "self_training_rounds", "pseudo_labels_per_class", "max_unlabelled"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"The {name!r} parameter of FewLabelClassifier must be an int >= 0. "
                                 f"Got {value!r} instead.")
        self._candidates()  # C and C_grid, before any fine-tuning

    def _candidates(self) -> list[dict]:
        """The logistic regression's settings to choose from on the held-out predictions."""
        if self.C != "auto":
            if isinstance(self.C, str) or not self.C > 0:
                raise ValueError(f"The 'C' parameter of FewLabelClassifier must be a float > 0 or 'auto'. "
                                 f"Got {self.C!r} instead.")
            return [{"C": float(self.C)}]
        if not self.C_grid or min(self.C_grid) <= 0:
            raise ValueError(f"The 'C_grid' parameter of FewLabelClassifier must hold floats > 0. "
                             f"Got {self.C_grid!r} instead.")
        return [{"C": float(c)} for c in sorted(self.C_grid)]

    def _choose(self, candidates: list[dict], held_out: list[np.ndarray], parts: list[np.ndarray],
                labels: np.ndarray) -> int:
        """Index of the simplest candidate within one standard error of the best held-out macro-F1 over the folds.

        Records every candidate's fold mean and standard error in ``held_out_macro_f1_``.
        """
        classes = np.unique(labels)
        rows = []
        for settings, proba in zip(candidates, held_out, strict=True):
            scores = [f1_score(labels[part], classes[proba[part].argmax(axis=1)], average="macro", zero_division=0)
                      for part in parts]
            rows.append({**settings, **summarise(scores), "complexity": (float(settings["C"]),)})
        chosen = choose_within_one_se(rows) if len(rows) > 1 else 0
        self.held_out_macro_f1_ = [{**settings, "macro_f1": row["mean"], "se": row["se"], "chosen": i == chosen}
                                   for i, (settings, row) in enumerate(zip(candidates, rows, strict=True))]
        return chosen

    def fit(self, X: Iterable[str], y: Iterable[object],
            example_ids: Iterable[object] | None = None) -> FewLabelClassifier:
        """Fit on texts ``X`` and labels ``y``; texts with an empty label are used as unlabelled.

        ``example_ids`` name the texts in explanations (default: their positions); the labelled
        ones become ``example_index_`` (see :mod:`complaintkit.explain`).
        """
        self._check_params()
        texts = as_text_list(X)
        labels = np.asarray(y if hasattr(y, "__array__") else list(y), dtype=object)
        if len(texts) != len(labels):
            raise InputError(f"got {len(texts)} texts but {len(labels)} labels; they must match one to one.")
        missing = is_unlabelled(labels)
        labelled = np.flatnonzero(~missing)
        if len(np.unique(labels[labelled].astype(str))) < 2:
            raise InputError("few-label training needs labelled examples of at least two classes; "
                             f"found {sorted(set(labels[labelled].astype(str)))}.")
        rng = np.random.default_rng(self.random_state)
        unlabelled = np.flatnonzero(missing)
        if len(unlabelled) > self.max_unlabelled:
            unlabelled = np.sort(rng.choice(unlabelled, self.max_unlabelled, replace=False))
        normaliser = TextNormaliser(speakers=self.speakers, redact=tuple(self.redact)).fit(texts)
        clean = normaliser.transform(texts)
        y_labelled = labels[labelled].astype(str)
        self.steps_ = self.steps if self.fine_tune else 0
        labelled_texts = [clean[i] for i in labelled]
        embedder = self._fitted_embedder(labelled_texts, y_labelled, self.steps_, self.encoder_dir)
        vectors = embedder.transform(labelled_texts)
        inputs = np.asarray(labelled_texts, dtype=object) if self.tfidf else vectors  # what the head reads
        head = None
        if self.tfidf:  # the standard head chooses its settings itself; its folds take them
            head = self._fit_head(self._head(embedder.model), inputs, y_labelled)
            candidates = [head.estimator_.chosen_settings()]
        else:
            candidates = self._candidates()
        held_out, parts = self._held_out_proba(labelled_texts, y_labelled, vectors, candidates)
        self.oof_folds_, self.held_out_macro_f1_ = len(parts), []
        chosen = self._choose(candidates, held_out, parts, y_labelled) if held_out else 0
        self.head_settings_ = candidates[chosen]
        self.oof_proba_ = held_out[chosen] if held_out else None
        if head is None:
            head = self._fit_head(self._head(embedder.model, self.head_settings_), inputs, y_labelled)
        self.temperature_ = 1.0
        if self.oof_proba_ is not None:
            self.temperature_ = fit_temperature(self.oof_proba_, y_labelled, np.unique(y_labelled))
            self.oof_proba_ = scale_probabilities(self.oof_proba_, self.temperature_)
            head.set_params(temperature=self.temperature_)  # the predicted classes do not change
        self.n_pseudo_labelled_ = 0
        if self.self_training_rounds and len(unlabelled):
            pool_texts = [clean[i] for i in unlabelled]
            pool = np.asarray(pool_texts, dtype=object) if self.tfidf else embedder.transform(pool_texts)
            head = self._self_train(head, inputs, y_labelled, pool, embedder.model)
        ids = list(example_ids) if example_ids is not None else list(range(len(texts)))
        self.example_index_ = build_example_index([ids[i] for i in labelled], [texts[i] for i in labelled],
                                                  y_labelled.tolist(), vectors, seed=self.random_state)
        steps = [("normalise", normaliser), ("classifier", head)]
        if not self.tfidf:  # the standard head embeds the texts itself
            steps.insert(1, ("embedding", embedder))
        self.pipeline_ = Pipeline(steps)
        self.classes_ = head.classes_
        self.n_features_in_ = 1
        return self

    def _head(self, encoder: str, settings: dict | None = None, cache_dir: str | None = None
              ) -> TemperatureScaledClassifier:
        """The head on the encoder ``encoder`` (temperature 1 until calibrated).

        Without ``tfidf`` a logistic regression with ``settings["C"]``; with ``tfidf`` the standard
        head, its settings searched by cross-validation unless given (``settings``, as
        :meth:`RootCauseClassifier.chosen_settings` returns them); ``cache_dir``
        overrides the embedding cache folder (scratch encoders are not cached with the others).
        """
        if not self.tfidf:
            return TemperatureScaledClassifier(LogisticRegression(C=settings["C"], class_weight="balanced",
                                                                  max_iter=2000))
        standard = RootCauseClassifier(embedding_model=str(encoder), max_words_per_chunk=self.max_words_per_chunk,
                                       long_texts=self.long_texts, cache_dir=cache_dir or self.cache_dir,
                                       random_state=self.random_state)
        return TemperatureScaledClassifier(standard.set_params(**(settings or {})))

    @staticmethod
    def _fit_head(head: TemperatureScaledClassifier, inputs: np.ndarray, labels: np.ndarray
                  ) -> TemperatureScaledClassifier:
        """``head`` fitted; a standard head inside drops its example index (this head keeps its own)."""
        head.fit(inputs, labels)
        if hasattr(head.estimator_, "example_index_"):
            head.estimator_.example_index_ = None
        return head

    def _fitted_embedder(self, texts: list[str], labels: np.ndarray, steps: int, encoder_dir: str | None,
                         cache: bool = True) -> SentenceTransformerEmbedder:
        """The embedder of the encoder fine-tuned on ``texts`` (``steps`` steps), or of the frozen one."""
        model = self.embedding_model
        if steps:
            from ..fine_tuning import fine_tune_encoder

            model = str(fine_tune_encoder(texts, labels.tolist(), self.embedding_model, steps=steps,
                                          batch_size=self.batch_size, learning_rate=self.learning_rate,
                                          frozen_layers=self.frozen_layers,
                                          random_state=self.random_state, output_dir=encoder_dir))
        return SentenceTransformerEmbedder(model=model, max_words_per_chunk=self.max_words_per_chunk,
                                           long_texts=self.long_texts, cache=cache, cache_dir=self.cache_dir).fit()

    def _held_out_proba(self, texts: list[str], labels: np.ndarray, vectors: np.ndarray,
                        candidates: list[dict]) -> tuple[list[np.ndarray] | None, list[np.ndarray]]:
        """Probabilities of every labelled text from an encoder and a head fitted without it, and each fold's rows.

        One probability table per head setting of ``candidates``, all on the same fold encoders.
        Fold encoders are fine-tuned with half the steps in a scratch folder that is
        removed afterwards; without fine-tuning the folds refit only the head on the same encoder.
        """
        folds = min(self.calibration_folds, _smallest_class(labels))
        if folds < 2:
            return None, []
        classes = np.unique(labels)
        probas = [np.zeros((len(labels), len(classes))) for _ in candidates]
        cv = StratifiedKFold(folds, shuffle=True, random_state=self.random_state)
        parts = []
        with tempfile.TemporaryDirectory(prefix="complaintkit-calibration-") as scratch:
            for train, held_out in cv.split(vectors, labels):
                parts.append(held_out)
                fold_vectors, encoder, cache_dir = vectors, self.embedding_model, None
                if self.fine_tune:
                    embedder = self._fitted_embedder([texts[i] for i in train], labels[train],
                                                     max(1, self.steps_ // 2), scratch, cache=False)
                    encoder, cache_dir = embedder.model, scratch
                    if not self.tfidf:
                        fold_vectors = np.zeros_like(vectors)
                        fold_vectors[np.r_[train, held_out]] = embedder.transform(
                            [texts[i] for i in np.r_[train, held_out]])
                inputs = np.asarray(texts, dtype=object) if self.tfidf else fold_vectors
                for settings, proba in zip(candidates, probas, strict=True):
                    head = self._fit_head(self._head(encoder, settings, cache_dir), inputs[train], labels[train])
                    columns = np.searchsorted(classes, head.classes_)
                    proba[np.ix_(held_out, columns)] = head.predict_proba(inputs[held_out])
        return probas, parts

    def _self_train(self, head: TemperatureScaledClassifier, inputs: np.ndarray, labels: np.ndarray,
                    pool: np.ndarray, encoder: str) -> TemperatureScaledClassifier:
        """Refit ``head`` with the most confident pseudo-labels of ``pool``, per class, round after round.

        ``inputs`` and ``pool`` are what the head reads: embeddings, or texts (object arrays) with ``tfidf``.
        """
        taken = np.zeros(len(pool), dtype=bool)
        for _ in range(self.self_training_rounds):
            proba = head.predict_proba(pool)
            guess, confidence = proba.argmax(axis=1), proba.max(axis=1)
            confidence[taken] = -1.0
            for k in range(len(head.classes_)):
                mine = np.flatnonzero((guess == k) & ~taken)
                taken[mine[np.argsort(-confidence[mine], kind="stable")[: self.pseudo_labels_per_class]]] = True
            extra_labels = head.classes_[head.predict_proba(pool[taken]).argmax(axis=1)] if taken.any() else []
            head = self._fit_head(self._head(encoder, self.head_settings_).set_params(temperature=self.temperature_),
                                  np.concatenate([inputs, pool[taken]]), np.concatenate([labels, extra_labels]))
        self.n_pseudo_labelled_ = int(taken.sum())
        return head

    def __setstate__(self, state: dict) -> None:
        # Heads saved before the TF-IDF option, the choice of C and kept layers: the regression on the
        # embedding of an encoder fine-tuned in every layer.
        state.setdefault("tfidf", False)
        state.setdefault("C_grid", (1.0, 10.0))
        state.setdefault("frozen_layers", 0)
        if state.get("steps") == "auto":  # heads saved when the steps grew with the labelled rows (20 to 40)
            state["steps"] = 40
        super().__setstate__(state)

    @property
    def embedder_(self) -> SentenceTransformerEmbedder:
        """The fitted embedder inside the pipeline (the standard head's, with ``tfidf``)."""
        check_is_fitted(self, "pipeline_")
        if "embedding" in self.pipeline_.named_steps:
            return self.pipeline_.named_steps["embedding"]
        return self.pipeline_.named_steps["classifier"].estimator_.embedder_


def fit_few_label(texts: pd.Series, labels: pd.Series, config: TrainConfig,
                  example_ids: Iterable[object] | None = None) -> tuple[FewLabelClassifier, dict]:
    """Fit :class:`FewLabelClassifier` on ``texts``; rows whose ``labels`` value is missing are unlabelled.

    Returns the head and what ``train`` records about it in the bundle's metadata.
    """
    head = FewLabelClassifier(embedding_model=config.embedding_model, speakers=config.speakers,
                              redact=config.redact, random_state=config.seed, long_texts=config.long_texts)
    values = labels.astype(object).where(labels.notna(), None)
    head.fit(texts.tolist(), values.to_numpy(), example_ids=example_ids)
    calibration = {"method": "none", "reason": "a class has a single labelled row"}
    if head.oof_proba_ is not None:
        calibration = {"method": "temperature", "temperature": round(head.temperature_, 4), "folds": head.oof_folds_,
                       "rule": "one temperature fitted on held-out predictions: each fold predicted by an encoder "
                               "fine-tuned without it (half the steps) and a regression on its embeddings"}
    features = ("word and character TF-IDF + fine-tuned embedding, class-balanced linear SVM" if head.tfidf
                else "fine-tuned embedding, class-balanced logistic regression")
    if len(head.held_out_macro_f1_) > 1:
        calibration["held_out_macro_f1"] = head.held_out_macro_f1_
    return head, {"fine_tuning_steps": head.steps_, "kept_layers": head.frozen_layers, "features": features,
                  "head_settings": head.head_settings_, "unlabelled_rows": int(values.isna().sum()),
                  "pseudo_labelled": head.n_pseudo_labelled_,
                  "calibration": calibration}
