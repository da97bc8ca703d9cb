"""Root-cause classifier: TF-IDF and sentence-embedding features, calibrated linear head."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from joblib import Parallel, delayed
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC
from sklearn.utils.validation import check_is_fitted

from ..embedding import DEFAULT_MODEL, SentenceTransformerEmbedder
from ..embedding.static import make_embedder
from ..exceptions import InputError
from ..explain import build_example_index
from ..redaction import redact
from ..text import TextNormaliser, as_text_list
from ._base import TextPipelineMixin
from ._selection import SELECTION_RULES, choose_within_one_se, repeated_folds, summarise
from .calibration import CALIBRATION_METHODS, calibration_folds, calibration_method
from .char_ngrams import CharNgramTfidfVectorizer
from .parent_aware import ParentAwareLinearSVC
from .vocabulary import WordTfidfVectorizer

# The SVMs fitted on folds (the settings search's and the calibration's) stop at liblinear tolerance 0.01
# (liblinear's own default is 0.1, scikit-learn's 1e-4): on airline, CFPB product and banking77 the search chose
# the same settings, every candidate's mean macro-F1 within 0.0013, in 28-38% less time on the first two; on
# 8,500 narratives the folds' decision values moved by at most 0.002 (docs/accuracy.md). The final SVM keeps
# scikit-learn's 1e-4 (the ``tol`` parameter; the cascade's fast head stops at FOLD_TOL too).
FOLD_TOL = 1e-2
FINAL_TOL = 1e-4
# A candidate this many standard errors (the larger of its own and the best's) below the best mean after the
# first repeat of the settings search is not scored on the other repeats: it is out of the running.
NOT_REPEATED_BELOW = 3.0
TEXT_BLOCKS = ("tfidf", "chars")  # the TF-IDF blocks' names in the feature union (words, character n-grams)


def _check_auto_or_positive(name: str, value: object, zero_allowed: bool = False) -> None:
    if value == "auto" or (isinstance(value, int | float) and (value > 0 or (zero_allowed and value == 0))):
        return
    bound = ">= 0" if zero_allowed else "> 0"
    raise ValueError(f"The {name!r} parameter of RootCauseClassifier must be {bound} or 'auto'. Got {value!r} instead.")


def _fold_macro_f1(svm: LinearSVC | ParentAwareLinearSVC, matrix: sparse.csr_matrix, labels: np.ndarray,
                   train: np.ndarray, test: np.ndarray, weights: np.ndarray | None = None,
                   embedding_columns: np.ndarray | None = None, embedding_weight: float = 1.0,
                   columns: np.ndarray | None = None) -> float:
    """Macro-F1 on the ``test`` rows of ``svm`` fitted on the ``train`` rows (weighted by ``weights``, if given),
    the ``embedding_columns`` scaled by ``embedding_weight`` and only ``columns`` kept (all if ``None``)."""
    def rows(index: np.ndarray) -> sparse.csr_matrix:
        part = matrix[index]
        if embedding_columns is not None:
            part = _scale_columns(part, embedding_columns, embedding_weight, copy=False)
        return part if columns is None else part[:, columns]

    fit_weights = None if weights is None else weights[train]
    predicted = svm.fit(rows(train), labels[train], sample_weight=fit_weights).predict(rows(test))
    return float(f1_score(labels[test], predicted, average="macro", zero_division=0))


def _fit_on_rows(svm: LinearSVC | ParentAwareLinearSVC, matrix: sparse.csr_matrix, labels: np.ndarray,
                 rows: np.ndarray, weights: np.ndarray | None = None) -> LinearSVC | ParentAwareLinearSVC:
    """``svm`` fitted on the ``rows`` of ``matrix`` (weighted by ``weights``, if given)."""
    return svm.fit(matrix[rows], labels[rows], sample_weight=None if weights is None else weights[rows])


def _fit_blocks(features: FeatureUnion, texts: list[str],
                fitted: Mapping[str, TransformerMixin | tuple[TransformerMixin, sparse.spmatrix]] | None
                ) -> tuple[sparse.csr_matrix | np.ndarray, dict[str, sparse.spmatrix]]:
    """``features.fit_transform(texts)``, except that the blocks named in ``fitted`` are replaced by those
    (already fitted) and only transform, or, given as ``(block, output)``, take that output on ``texts`` as is;
    and the text blocks' outputs by name."""
    given = {name: value if isinstance(value, tuple) else (value, None) for name, value in (fitted or {}).items()}
    features.transformer_list = [(name, given[name][0] if name in given else block)
                                 for name, block in features.transformer_list]
    weights = features.transformer_weights or {}
    outputs = {}
    for name, block in features.transformer_list:
        output = given[name][1] if name in given else None
        if output is None:
            output = block.transform(texts) if name in given else block.fit_transform(texts)
        outputs[name] = output
    parts = [outputs[name] if weights.get(name, 1) == 1 else outputs[name] * weights[name]
             for name, _ in features.transformer_list]
    if not any(map(sparse.issparse, parts)):
        return np.hstack(parts), {}
    return sparse.hstack(parts).tocsr(), {name: output for name, output in outputs.items() if name in TEXT_BLOCKS}


def _within_reach(summaries: Sequence[dict[str, float]]) -> list[int]:
    """Indices of the candidates whose mean is at most :data:`NOT_REPEATED_BELOW` standard errors below the best's."""
    best = max(summaries, key=lambda summary: summary["mean"])
    return [i for i, summary in enumerate(summaries)
            if summary["mean"] >= best["mean"] - NOT_REPEATED_BELOW * max(summary["se"], best["se"])]


def _check_sample_weight(sample_weight: object, n_rows: int) -> np.ndarray | None:
    """``sample_weight`` as a float array of ``n_rows`` non-negative finite weights, not all zero (or ``None``)."""
    if sample_weight is None:
        return None
    try:
        weights = np.asarray(sample_weight, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"sample_weight must be numbers, one per text; got {type(sample_weight).__name__} "
                         f"that does not convert to numbers. Pass one non-negative weight per text.") from None
    if weights.shape != (n_rows,):
        raise InputError(f"sample_weight must hold one weight per text ({n_rows}); got shape {weights.shape}. "
                         f"Pass a one-dimensional array as long as X.")
    if not np.isfinite(weights).all() or (weights < 0).any() or not weights.any():
        raise InputError("sample_weight must be finite and non-negative with at least one weight above 0; got "
                         f"min {np.nanmin(weights):g}, max {np.nanmax(weights):g}. Fix or drop those weights.")
    return weights


def _scale_columns(matrix: sparse.spmatrix | np.ndarray, columns: np.ndarray, weight: float,
                   copy: bool = True) -> sparse.csr_matrix:
    """``matrix`` as CSR with the masked columns multiplied by ``weight`` (in place when ``copy`` is false and
    ``matrix`` is CSR already)."""
    scaled = sparse.csr_matrix(matrix, copy=copy)
    scaled.data *= np.where(columns, weight, 1.0)[scaled.indices]
    return scaled


class _GivenDecisions(ClassifierMixin, BaseEstimator):
    """A classifier whose decision values are its input: lets ``CalibratedClassifierCV`` calibrate decisions
    computed elsewhere."""

    def fit(self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None) -> _GivenDecisions:
        self.classes_ = np.unique(y)
        return self

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        return X.ravel() if X.shape[1] == 1 else X

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.classes_[(X.ravel() > 0).astype(int) if X.shape[1] == 1 else X.argmax(axis=1)]


class RootCauseClassifier(TextPipelineMixin, ClassifierMixin, BaseEstimator):
    """Predict a complaint's root cause from its text, with calibrated probabilities.

    Features are the sentence embedding (weighted by ``embedding_weight``) joined with word
    and character TF-IDF; the head is a class-balanced linear SVM. The settings left on
    "auto" (embedding weight, ``C``, TF-IDF and character n-grams on or off) are chosen together by repeated
    stratified cross-validation of the training rows: with ``selection="one_se"`` the simplest
    candidate whose mean macro-F1 is within one standard error of the best is kept, where
    simpler means fewer feature blocks, then a smaller ``C`` (stronger regularisation), then a
    smaller embedding weight. The SVM is calibrated on out-of-fold decisions (the final SVM is
    fitted on every training row).

    Parameters
    ----------
    embedding_model : str, default="all-MiniLM-L6-v2"
        Model alias or folder for :class:`SentenceTransformerEmbedder`.
    embedding_weight : float or "auto", default="auto"
        Scale of the embedding block relative to the TF-IDF blocks; 0 drops the embedding;
        "auto" picks from ``embedding_weight_grid`` by cross-validation.
    embedding_weight_grid : tuple of float, default=(1.0, 2.0)
        Candidates for ``embedding_weight="auto"``.
    use_tfidf : bool or "auto", default=True
        Add word uni-/bigram and character 2-5-gram TF-IDF features; "auto" also tries the
        embedding alone (the simpler candidate under the one-standard-error rule). On the CFPB
        narratives the embedding alone scored more than three standard errors below, and the
        TF-IDF blocks give ``score --explain`` its top terms, so they are on by default.
    char_ngrams : bool or "auto", default=True
        With ``use_tfidf``, also a character 2-5-gram TF-IDF block. Over repeated random splits it
        added about 0.01 macro-F1 on airline complaints and tied on CFPB narratives; with every
        training row it added 0.003 on banking77. ``False`` fits 1.5-3 times faster (see
        docs/accuracy.md).
        "auto" also tries the word TF-IDF without it (the simpler candidate).
    C : float or "auto", default="auto"
        Inverse regularisation strength of the linear SVM; "auto" picks from ``C_grid`` by
        cross-validation.
    C_grid : tuple of float, default=(0.1, 0.3, 1.0)
        Candidates for ``C="auto"``.
    cv_folds : int, default=3
        Folds of each cross-validation repeat (fewer when the rarest class is smaller).
    cv_repeats : int or "auto", default="auto"
        Repeats of the shuffled stratified ``cv_folds``-fold split; "auto" is 3 up to 3,000
        training rows, 2 up to 12,000 and 1 above, so that training time stays bounded. A candidate
        more than three standard errors below the best after the first repeat is not repeated.
    selection : {"one_se", "best"}, default="one_se"
        "one_se": the simplest candidate within one standard error of the best mean macro-F1
        (standard error = sample sd of the best candidate's fold scores / sqrt(number of folds));
        "best": the highest mean.
    calibration : {"auto", "temperature", "sigmoid", "isotonic"}, default="auto"
        Probability calibration; "auto" is temperature scaling, which leaves the SVM's
        class-balanced decisions unchanged (isotonic and sigmoid calibrate each class on its
        own and can move decisions towards frequent classes).
    max_words_per_chunk : int or None, default=180
        Long texts are embedded in chunks of this many words and mean-pooled.
    long_texts : {"chunks", "head", "head_tail"}, default="chunks"
        Which chunks of a long text are embedded (see :class:`SentenceTransformerEmbedder`).
    cache_dir : str or None, default=None
        Embedding cache folder (see :class:`SentenceTransformerEmbedder`).
    random_state : int, default=0
        Seed of the SVM's coordinate descent and of the folds, so refits are reproducible.
    speakers : tuple of str or None, default=None
        For transcripts, keep only these speakers' turns (e.g. ``("customer",)``).
    redact : sequence of str, default=()
        Kinds of personal data masked before embedding (see :func:`complaintkit.redaction.redact`).
    label_parents : mapping of str to str or None, default=None
        Each label's parent (an issue's product). When given, a second SVM learns the parents and
        each label's score adds its parent's (:class:`ParentAwareLinearSVC`).
    precision : {"fp32", "bf16", "int8"}, default="fp32"
        The encoder's precision while fitting (see :class:`SentenceTransformerEmbedder`); scoring
        chooses its own. ``complaintkit train`` passes the CPU's fast precision ("auto").
    n_jobs : int or None, default=None
        Processes that fit the SVMs of the settings search, the calibration and the out-of-fold
        predictions side by side (``None``: one at a time; -1: one per core). Each fit seeds its
        process's liblinear generator, so the fitted head does not depend on ``n_jobs``.
    tol : float, default=1e-4
        Stopping tolerance of the final SVM (the SVMs fitted on folds, whose decisions the settings and
        the calibration are chosen on, stop at 1e-2).

    Attributes
    ----------
    classes_ : ndarray
        The root-cause labels, in the column order of ``predict_proba``.
    C_, embedding_weight_ : float
        The settings used by the final SVM.
    use_tfidf_, char_ngrams_ : bool
        Whether the final model has the TF-IDF blocks, and the character block among them.
    cv_macro_f1_ : list of dict
        Every candidate's settings, mean macro-F1 over the repeated folds (``macro_f1``), its
        standard error (``se``), the number of fold scores behind them (``folds``) and ``chosen``
        (empty when nothing was searched).
    cv_scheme_ : dict
        Folds, repeats and selection rule of the search (empty when nothing was searched).
    calibration_ : str
        The calibration method used ("auto" resolved).
    pipeline_ : Pipeline
        Text normaliser, feature union and calibrated SVM.
    held_out_proba_ : ndarray
        Calibrated probabilities of the training rows, each from the SVM of the calibration fold that
        did not see it (the text features are fitted on every row); ``train`` reads them for its
        out-of-fold figures (``held_out_folds_`` folds). Not saved with the head.
    text_block_outputs_ : dict of str to sparse matrix
        With ``fit(..., keep_text_block_outputs=True)`` only: the TF-IDF blocks' outputs on the training
        texts, by block name. Not saved with the head.
    example_index_ : ExampleIndex or None
        The training texts and embeddings behind ``score --explain`` (``None`` without embeddings).
    """

    long_texts = "chunks"  # how heads saved before the parameter existed embed long texts

    def __init__(
        self,
        embedding_model: str = DEFAULT_MODEL,
        embedding_weight: float | str = "auto",
        embedding_weight_grid: tuple[float, ...] = (1.0, 2.0),
        use_tfidf: bool | str = True,
        char_ngrams: bool = True,
        C: float | str = "auto",
        C_grid: tuple[float, ...] = (0.1, 0.3, 1.0),
        cv_folds: int = 3,
        cv_repeats: int | str = "auto",
        selection: str = "one_se",
        calibration: str = "auto",
        max_words_per_chunk: int | None = 180,
        long_texts: str = "chunks",
        cache_dir: str | None = None,
        random_state: int = 0,
        speakers: tuple[str, ...] | None = None,
        redact: Sequence[str] = (),
        label_parents: Mapping[str, str] | None = None,
        precision: str = "fp32",
        n_jobs: int | None = None,
        tol: float = FINAL_TOL,
    ) -> None:
        self.embedding_model = embedding_model
        self.embedding_weight = embedding_weight
        self.embedding_weight_grid = embedding_weight_grid
        self.use_tfidf = use_tfidf
        self.char_ngrams = char_ngrams
        self.C = C
        self.C_grid = C_grid
        self.cv_folds = cv_folds
        self.cv_repeats = cv_repeats
        self.selection = selection
        self.calibration = calibration
        self.max_words_per_chunk = max_words_per_chunk
        self.long_texts = long_texts
        self.cache_dir = cache_dir
        self.random_state = random_state
        self.speakers = speakers
        self.redact = redact
        self.label_parents = label_parents
        self.precision = precision
        self.n_jobs = n_jobs
        self.tol = tol

    def _features(self, use_tfidf: bool, char_ngrams: bool) -> FeatureUnion:
        """The feature blocks, the embedding at weight 1 (``fit`` sets its chosen weight)."""
        blocks, weights = [], {}
        if self.embedding_weight == "auto" or self.embedding_weight > 0:
            blocks.append(("embedding", make_embedder(self.embedding_model, self.max_words_per_chunk,
                                                      self.cache_dir, self.precision, self.long_texts)))
            weights["embedding"] = 1.0
        if use_tfidf:
            blocks.append(("tfidf", WordTfidfVectorizer(
                ngram_range=(1, 2), min_df=2, max_df=0.9, sublinear_tf=True, max_features=200_000)))
            weights["tfidf"] = 1.0
            if char_ngrams:
                blocks.append(("chars", CharNgramTfidfVectorizer(
                    analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True, max_features=300_000)))
                weights["chars"] = 1.0
        if not blocks:
            raise ValueError("RootCauseClassifier needs embedding_weight > 0 or use_tfidf=True.")
        return FeatureUnion(blocks, transformer_weights=weights)

    def fit(self, X: Iterable[str], y: Iterable[str], sample_weight: Iterable[float] | None = None,
            example_ids: Iterable[object] | None = None,
            fitted_text_blocks: Mapping[str, TransformerMixin | tuple[TransformerMixin, sparse.spmatrix]] | None = None,
            keep_text_block_outputs: bool = False) -> RootCauseClassifier:
        """Fit on texts ``X`` and root-cause labels ``y``.

        ``sample_weight`` (one non-negative number per text, default: all 1) scales each text's
        loss in the SVMs of the settings search and of the final model, and in the calibration;
        the classes stay balanced by their row counts. ``example_ids`` name the training texts in
        explanations (default: their positions); with embeddings on, the texts become
        ``example_index_`` (see :mod:`complaintkit.explain`). ``fitted_text_blocks`` are TF-IDF blocks
        (``"tfidf"``, ``"chars"``) already fitted on these texts, e.g. another head's: the head uses them
        as they are, and shares them, instead of fitting its own; a ``(block, output)`` pair also gives the
        block's output on these texts, which is then not computed again. ``keep_text_block_outputs`` keeps
        this head's TF-IDF outputs on the training texts as ``text_block_outputs_`` for such a second head
        (they are as large as the training features, and not pickled).
        """
        if y is None:
            raise ValueError("RootCauseClassifier.fit needs y, the root-cause label of each text; got None.")
        texts = as_text_list(X)
        labels = np.asarray(y if hasattr(y, "__array__") else list(y))
        if len(texts) != len(labels):
            raise InputError(f"got {len(texts)} texts but {len(labels)} labels; they must match one to one.")
        weights = _check_sample_weight(sample_weight, len(texts))
        _check_auto_or_positive("C", self.C)
        _check_auto_or_positive("embedding_weight", self.embedding_weight, zero_allowed=True)
        if not isinstance(self.tol, int | float) or not self.tol > 0:
            raise ValueError(f"The 'tol' parameter of RootCauseClassifier must be > 0. Got {self.tol!r} instead.")
        for name in ("use_tfidf", "char_ngrams"):
            if getattr(self, name) not in (True, False, "auto"):
                raise ValueError(f"The {name!r} parameter of RootCauseClassifier must be True, False or 'auto'. "
                                 f"Got {getattr(self, name)!r} instead.")
        unknown = sorted(set(fitted_text_blocks or {}) - set(TEXT_BLOCKS))
        if unknown:
            raise ValueError(f"fitted_text_blocks names {unknown}; RootCauseClassifier's TF-IDF blocks are "
                             f"{list(TEXT_BLOCKS)}. Pass only those.")
        if self.selection not in SELECTION_RULES:
            raise ValueError(f"The 'selection' parameter of RootCauseClassifier must be one of "
                             f"{list(SELECTION_RULES)}. Got {self.selection!r} instead.")
        method = calibration_method(self.calibration, "temperature", CALIBRATION_METHODS)
        parents = dict(self.label_parents or {})
        self.hierarchy_ = tuple((str(c), str(parents.get(str(c), c))) for c in np.unique(labels))
        folds = calibration_folds(labels)
        normaliser = TextNormaliser(speakers=self.speakers, redact=tuple(self.redact)).fit(texts)
        normalised = normaliser.transform(texts)
        blocks = (self.use_tfidf is not False, self.use_tfidf is not False and self.char_ngrams is not False)
        features = self._features(*blocks)
        unweighted, text_outputs = _fit_blocks(features, normalised, fitted_text_blocks)
        text_outputs = text_outputs if keep_text_block_outputs else None  # they would double the features' memory
        embedding_columns, char_columns = self._block_columns(features, unweighted.shape[1])
        candidates = self._candidates(embedding_columns.any())
        self.cv_macro_f1_, self.cv_scheme_ = [], {}
        best = candidates[0]
        if len(candidates) > 1:
            best = self._search(unweighted, embedding_columns, char_columns, labels, candidates, weights)
        self.C_, self.embedding_weight_ = float(best["C"]), float(best["embedding_weight"])
        self.use_tfidf_, self.char_ngrams_ = bool(best["use_tfidf"]), bool(best["char_ngrams"])
        self.calibration_ = method
        if (self.use_tfidf_, self.char_ngrams_) != blocks:  # the search dropped a block: fit without it
            features = self._features(self.use_tfidf_, self.char_ngrams_)
            unweighted, text_outputs = _fit_blocks(features, normalised, fitted_text_blocks)
            text_outputs = text_outputs if keep_text_block_outputs else None
            embedding_columns, _ = self._block_columns(features, unweighted.shape[1])
        vars(self).pop("text_block_outputs_", None)
        if keep_text_block_outputs:
            self.text_block_outputs_ = text_outputs
        if embedding_columns.any():
            features.set_params(transformer_weights={**features.transformer_weights,
                                                     "embedding": self.embedding_weight_})
        matrix = _scale_columns(unweighted, embedding_columns, self.embedding_weight_)
        # Shuffled folds: tables sorted by date or source would otherwise calibrate on unlike rows.
        calibration_cv = StratifiedKFold(folds, shuffle=True, random_state=self.random_state)
        classifier, self.held_out_proba_ = self._calibrated_svm(matrix, labels, weights, calibration_cv, method)
        self.pipeline_ = Pipeline([("normalise", normaliser), ("features", features), ("classifier", classifier)])
        self.classes_ = classifier.classes_
        self.n_features_in_ = 1
        # The embedding block's output at weight 1: what embed_for_head would compute again.
        vectors = None
        if embedding_columns.any():
            block = unweighted[:, embedding_columns]
            vectors = block.toarray() if sparse.issparse(block) else np.asarray(block)
        ids = list(example_ids) if example_ids is not None else list(range(len(texts)))
        stored = [redact(text, self.redact) for text in texts] if self.redact else texts  # --redact covers them
        self.example_index_ = (None if vectors is None else
                               build_example_index(ids, stored, labels.tolist(), vectors, seed=self.random_state))
        return self

    def chosen_settings(self) -> dict[str, float | bool]:
        """The fitted settings as parameters: ``clone(head).set_params(**head.chosen_settings())`` refits
        the same model without searching again."""
        check_is_fitted(self, "pipeline_")
        return {"C": self.C_, "embedding_weight": self.embedding_weight_, "use_tfidf": self.use_tfidf_,
                "char_ngrams": self.char_ngrams_}

    def out_of_fold_proba(self, X: Iterable[str], y: Iterable[str], cv: StratifiedKFold,
                          sample_weight: Iterable[float] | None = None) -> np.ndarray:
        """Calibrated probabilities of the training rows ``X``, each from a model that did not see it.

        For each fold of ``cv``, the head's chosen features and SVM (stopping at :data:`FOLD_TOL`, as the
        calibration's folds do) are fitted again on the other rows (no settings search) and their decisions
        on the fold's rows go through the fitted head's calibrator. Columns follow ``classes_``.
        """
        check_is_fitted(self, "pipeline_")
        texts = as_text_list(X)
        labels = np.asarray(y if hasattr(y, "__array__") else list(y))
        weights = _check_sample_weight(sample_weight, len(texts))
        folds = []
        for train, test in cv.split(np.zeros(len(texts)), labels):
            features = clone(self.pipeline_[:-1])
            folds.append((train, test, features.fit_transform([texts[i] for i in train]),
                          features.transform([texts[i] for i in test])))
        svms = Parallel(n_jobs=self.n_jobs)(
            delayed(self._svm(self.C_, FOLD_TOL).fit)(matrix, labels[train],
                                                      sample_weight=None if weights is None else weights[train])
            for train, _, matrix, _ in folds)
        proba = np.zeros((len(texts), len(self.classes_)))
        calibrated = self.pipeline_.named_steps["classifier"].calibrated_classifiers_[0]
        for (_, test, _, held_out_matrix), svm in zip(folds, svms, strict=True):
            held_out = copy.copy(calibrated)
            held_out.estimator = svm
            proba[test] = held_out.predict_proba(held_out_matrix)
        return proba

    def _calibrated_svm(self, matrix: sparse.csr_matrix, labels: np.ndarray, weights: np.ndarray | None,
                        cv: StratifiedKFold, method: str) -> tuple[CalibratedClassifierCV, np.ndarray]:
        """The SVM fitted on every row, calibrated on the decisions of SVMs fitted without each fold of ``cv``
        (what ``CalibratedClassifierCV(cv=cv, ensemble=False)`` fits), and those rows' calibrated held-out
        probabilities.

        The final SVM and the folds' are fitted side by side (``n_jobs``); the folds' stop at
        :data:`FOLD_TOL`.
        """
        splits = list(cv.split(np.zeros(len(labels)), labels))
        fitted_rows = [np.arange(len(labels))] + [train for train, _ in splits]
        tolerances = [self.tol] + [FOLD_TOL] * len(splits)
        svms = Parallel(n_jobs=self.n_jobs)(  # each process takes its rows: the matrix is shared, not copied
            delayed(_fit_on_rows)(self._svm(self.C_, tol), matrix, labels, rows, weights)
            for rows, tol in zip(fitted_rows, tolerances, strict=True))
        decisions = np.zeros((len(labels), 1 if len(svms[0].classes_) == 2 else len(svms[0].classes_)))
        for (_, test), svm in zip(splits, svms[1:], strict=True):
            decisions[test] = svm.decision_function(matrix[test]).reshape(len(test), -1)
        classifier = CalibratedClassifierCV(_GivenDecisions(), method=method, cv=2, ensemble=False)
        classifier.fit(decisions, labels, sample_weight=weights)
        held_out_proba = classifier.predict_proba(decisions)
        classifier.calibrated_classifiers_[0].estimator = svms[0]
        classifier.set_params(estimator=self._svm(self.C_), cv=cv, n_jobs=self.n_jobs)
        if hasattr(svms[0], "n_features_in_"):
            classifier.n_features_in_ = svms[0].n_features_in_
        return classifier, held_out_proba

    def _svm(self, C: float, tol: float | None = None) -> LinearSVC | ParentAwareLinearSVC:
        tol = self.tol if tol is None else tol
        if self.label_parents:
            return ParentAwareLinearSVC(C=C, hierarchy=self.hierarchy_, random_state=self.random_state, tol=tol)
        return LinearSVC(C=C, class_weight="balanced", random_state=self.random_state, max_iter=5000, tol=tol)

    @staticmethod
    def _block_columns(features: FeatureUnion, n_columns: int) -> tuple[np.ndarray, np.ndarray]:
        """Boolean masks of the embedding block's columns (the union's first) and the character block's (its last)."""
        embedding, chars = np.zeros(n_columns, dtype=bool), np.zeros(n_columns, dtype=bool)
        blocks = dict(features.transformer_list)
        if "embedding" in blocks:
            embedding[:blocks["embedding"].n_features_out_] = True
        if "chars" in blocks:
            chars[n_columns - len(blocks["chars"].vocabulary_):] = True
        return embedding, chars

    def _candidates(self, has_embedding: bool) -> list[dict[str, float | bool]]:
        """Every setting to compare, with its complexity (blocks, C, embedding weight; smaller is simpler)."""
        tfidf_options = (False, True) if self.use_tfidf == "auto" else (bool(self.use_tfidf),)
        char_options = (False, True) if self.char_ngrams == "auto" else (bool(self.char_ngrams),)
        blocks_options = dict.fromkeys((use_tfidf, use_tfidf and chars)
                                       for use_tfidf in tfidf_options for chars in char_options)
        weights = self.embedding_weight_grid if self.embedding_weight == "auto" else (self.embedding_weight,)
        Cs = self.C_grid if self.C == "auto" else (self.C,)
        candidates = []
        for use_tfidf, chars in blocks_options:
            if not use_tfidf and not has_embedding:
                continue
            blocks = int(has_embedding) + int(use_tfidf) + int(chars)
            for weight in (weights if has_embedding else (0.0,)):
                for C in Cs:
                    candidates.append({"use_tfidf": use_tfidf, "char_ngrams": chars, "embedding_weight": float(weight),
                                       "C": float(C), "complexity": (blocks, float(C), float(weight))})
        return candidates

    def _repeats(self, n_rows: int) -> int:
        if self.cv_repeats != "auto":
            return int(self.cv_repeats)
        return 3 if n_rows <= 3000 else 2 if n_rows <= 12000 else 1

    def _search(self, unweighted: sparse.csr_matrix, embedding_columns: np.ndarray, char_columns: np.ndarray,
                labels: np.ndarray, candidates: list[dict], weights: np.ndarray | None = None) -> dict:
        """Score the candidates on the same repeated stratified folds; record them; return the chosen one.

        Candidates more than :data:`NOT_REPEATED_BELOW` standard errors below the best after the first
        repeat are not scored on the other repeats.
        """
        repeats = self._repeats(len(labels))
        splits = repeated_folds(labels, self.cv_folds, repeats, self.random_state)
        per_repeat = len(splits) // repeats
        fold_scores: dict[int, list[float]] = {i: [] for i in range(len(candidates))}
        features_of = [(c["use_tfidf"], c["char_ngrams"], c["embedding_weight"]) for c in candidates]
        scored = list(range(len(candidates)))
        kept_columns = {(True, True): None, (True, False): ~char_columns if char_columns.any() else None,
                        (False, False): embedding_columns}  # None: all of them
        phases = [(0, per_repeat)] + ([(per_repeat, len(splits))] if repeats > 1 else [])
        for first, last in phases:  # the first repeat, then the others
            # Largest C first: its fits take longest, and started last they would leave a core idle. Each fit scales
            # its own rows' embedding columns, so every candidate's fits go out at once.
            tasks = [(i, split) for i in sorted(scored, key=lambda i: -candidates[i]["C"])
                     for split in splits[first:last]]
            scores = Parallel(n_jobs=self.n_jobs)(
                delayed(_fold_macro_f1)(self._svm(candidates[i]["C"], FOLD_TOL), unweighted, labels, train, test,
                                        weights, embedding_columns, features_of[i][2], kept_columns[features_of[i][:2]])
                for i, (train, test) in tasks)
            for (i, _), score in zip(tasks, scores, strict=True):
                fold_scores[i].append(score)
            scored = _within_reach([summarise(fold_scores[i]) for i in range(len(candidates))])
        rows = []
        for i, candidate in enumerate(candidates):
            summary = summarise(fold_scores[i])
            rows.append({**candidate, "mean": summary["mean"], "se": summary["se"], "folds": len(fold_scores[i])})
        chosen = choose_within_one_se(rows, self.selection)
        best = max(range(len(rows)), key=lambda i: rows[i]["mean"])
        self.cv_macro_f1_ = [{"use_tfidf": row["use_tfidf"], "char_ngrams": row["char_ngrams"],
                              "embedding_weight": row["embedding_weight"], "C": row["C"], "macro_f1": row["mean"],
                              "se": row["se"], "folds": row["folds"], "chosen": i == chosen}
                             for i, row in enumerate(rows)]
        self.cv_scheme_ = {"folds": per_repeat, "repeats": repeats, "selection": self.selection,
                           "best_mean": rows[best]["mean"], "best_se": rows[best]["se"],
                           "simpler_means": "fewer feature blocks, then smaller C, then smaller embedding weight",
                           "not_repeated_below": NOT_REPEATED_BELOW}
        return rows[chosen]

    def __getstate__(self) -> dict:
        state = dict(super().__getstate__())  # a copy: object.__getstate__ gives the live __dict__
        for name in ("held_out_proba_", "text_block_outputs_"):  # about the training rows: not for bundles
            state.pop(name, None)
        return state

    def __setstate__(self, state: dict) -> None:
        # Heads saved before these parameters existed: always the character block, never parents, fp32.
        state.setdefault("char_ngrams", True)
        if "use_tfidf_" in state:
            state.setdefault("char_ngrams_", state["use_tfidf_"] and state["char_ngrams"] is not False)
        state.setdefault("label_parents", None)
        state.setdefault("precision", "fp32")
        state.setdefault("n_jobs", None)
        state.setdefault("tol", FINAL_TOL)
        super().__setstate__(state)

    def decision_function(self, X: Iterable[str]) -> np.ndarray:
        """The SVM's uncalibrated decision values, one row per text (one column per class, or one for two classes)."""
        check_is_fitted(self, "pipeline_")
        features = self.pipeline_[:-1].transform(as_text_list(X))
        return self.pipeline_.named_steps["classifier"].calibrated_classifiers_[0].estimator.decision_function(features)

    @property
    def held_out_folds_(self) -> int:
        """Folds of the calibration, and of ``held_out_proba_``."""
        check_is_fitted(self, "pipeline_")
        return self.pipeline_.named_steps["classifier"].cv.get_n_splits()

    @property
    def embedder_(self) -> SentenceTransformerEmbedder | None:
        """The fitted embedder inside the pipeline (``None`` when embeddings are off)."""
        check_is_fitted(self, "pipeline_")
        return dict(self.pipeline_.named_steps["features"].transformer_list).get("embedding")

