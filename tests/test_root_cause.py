import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold, cross_val_score

from complaintkit import RootCauseClassifier, model_card
from complaintkit.exceptions import InputError
from complaintkit.heads import root_cause


def test_fit_predict_proba_on_synthetic(synthetic_frame: pd.DataFrame) -> None:
    clf = RootCauseClassifier().fit(synthetic_frame["text"], synthetic_frame["cause"])
    proba = clf.predict_proba(["I was billed twice this month", "the internet is down again"])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert list(clf.predict(["I was billed twice this month", "the internet is down again"])) == [
        "billing_error", "service_failure"]


def test_is_a_scikit_learn_estimator_that_cross_validates(synthetic_frame: pd.DataFrame) -> None:
    clf = RootCauseClassifier(C=1.0)
    assert clone(clf).get_params()["C"] == 1.0
    scores = cross_val_score(clf, synthetic_frame["text"].tolist(), synthetic_frame["cause"], cv=3)
    assert scores.mean() > 0.6


def test_out_of_fold_proba_answers_each_row_as_a_refit_without_it(synthetic_frame: pd.DataFrame) -> None:
    texts, labels = synthetic_frame["text"].tolist(), synthetic_frame["cause"].to_numpy()
    head = RootCauseClassifier(C=0.3, embedding_weight=1.0).fit(texts, labels)
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    proba = head.out_of_fold_proba(texts, labels, cv)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert (head.classes_[proba.argmax(axis=1)] == head.predict(texts)).mean() < 1.0  # not the in-sample answers
    for train, test in cv.split(texts, labels):
        refit = clone(head).fit([texts[i] for i in train], labels[train])
        np.testing.assert_array_equal(refit.predict([texts[i] for i in test]),
                                      head.classes_[proba[test].argmax(axis=1)])


@pytest.mark.parametrize("calibration", ["temperature", "isotonic"])
def test_the_calibration_is_scikit_learns_on_early_stopped_folds(synthetic_frame: pd.DataFrame,
                                                                  calibration: str) -> None:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.model_selection import cross_val_predict

    texts, labels = synthetic_frame["text"].tolist(), synthetic_frame["cause"].to_numpy()
    head = RootCauseClassifier(C=0.3, embedding_weight=1.0, calibration=calibration, n_jobs=2).fit(texts, labels)
    matrix = head.pipeline_[:-1].transform(texts)
    cv = StratifiedKFold(head.held_out_folds_, shuffle=True, random_state=0)
    # The folds' SVMs stop early; the final one does not.
    folds_svm = head._svm(0.3, root_cause.FOLD_TOL)
    reference = CalibratedClassifierCV(folds_svm, method=calibration, cv=cv, ensemble=False).fit(matrix, labels)
    calibrated = reference.calibrated_classifiers_[0]
    final_svm = head.pipeline_.named_steps["classifier"].calibrated_classifiers_[0].estimator
    assert final_svm.tol == head._svm(0.3).tol < root_cause.FOLD_TOL
    calibrated.estimator = final_svm
    np.testing.assert_allclose(head.predict_proba(texts), reference.predict_proba(matrix), atol=1e-12)
    decisions = cross_val_predict(folds_svm, matrix, labels, cv=cv, method="decision_function")
    calibrated.estimator = root_cause._GivenDecisions().fit(decisions, labels)  # scikit-learn's calibrator on them
    # The matrix transform gives differs from the fit's in the last bits, which early stopping carries a little further.
    np.testing.assert_allclose(head.held_out_proba_, calibrated.predict_proba(decisions), rtol=1e-5, atol=1e-12)
    assert head.pipeline_.named_steps["classifier"].get_params()["cv"] is not None
    assert "held_out_proba_" not in pickle.loads(pickle.dumps(head)).__dict__  # not carried into bundles
    assert hasattr(head, "held_out_proba_")  # and still there on the head that was saved


def test_tfidf_only_and_embedding_only_variants(synthetic_frame: pd.DataFrame) -> None:
    for params in ({"embedding_weight": 0.0}, {"use_tfidf": False}):
        clf = RootCauseClassifier(**params).fit(synthetic_frame["text"], synthetic_frame["cause"])
        assert clf.predict_proba(["rude agent"]).shape == (1, 3)


def test_same_data_and_seed_give_identical_predictions(synthetic_frame: pd.DataFrame) -> None:
    a = RootCauseClassifier().fit(synthetic_frame["text"], synthetic_frame["cause"])
    b = RootCauseClassifier().fit(synthetic_frame["text"], synthetic_frame["cause"])
    np.testing.assert_array_equal(a.predict_proba(synthetic_frame["text"]), b.predict_proba(synthetic_frame["text"]))


def test_parallel_fits_give_the_same_head_as_one_at_a_time(synthetic_frame: pd.DataFrame) -> None:
    texts, labels = synthetic_frame["text"].tolist(), synthetic_frame["cause"].to_numpy()
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    heads = [RootCauseClassifier(C_grid=(0.1, 1.0), n_jobs=jobs).fit(texts, labels) for jobs in (None, 2)]
    assert heads[0].cv_macro_f1_ == heads[1].cv_macro_f1_
    np.testing.assert_array_equal(heads[0].predict_proba(texts), heads[1].predict_proba(texts))
    np.testing.assert_array_equal(heads[0].out_of_fold_proba(texts, labels, cv),
                                  heads[1].out_of_fold_proba(texts, labels, cv))


def test_a_single_class_is_refused() -> None:
    with pytest.raises(InputError, match="at least two classes"):
        RootCauseClassifier().fit(["a", "b"], ["x", "x"])


def test_mismatched_lengths_are_refused() -> None:
    with pytest.raises(InputError, match="3 texts but 2 labels"):
        RootCauseClassifier().fit(["a", "b", "c"], ["x", "y"])


def test_auto_settings_are_chosen_by_cv_and_applied_at_prediction(synthetic_frame: pd.DataFrame) -> None:
    texts, labels = synthetic_frame["text"].tolist(), synthetic_frame["cause"]
    auto = RootCauseClassifier(embedding_weight_grid=(1.0, 4.0), C_grid=(0.1, 1.0)).fit(texts, labels)
    assert [(row["embedding_weight"], row["C"]) for row in auto.cv_macro_f1_] == [
        (1.0, 0.1), (1.0, 1.0), (4.0, 0.1), (4.0, 1.0)]
    [chosen] = [row for row in auto.cv_macro_f1_ if row["chosen"]]
    assert (auto.embedding_weight_, auto.C_) == (chosen["embedding_weight"], chosen["C"])
    assert auto.cv_scheme_["repeats"] == 3 and auto.cv_scheme_["selection"] == "one_se"
    assert chosen["macro_f1"] >= auto.cv_scheme_["best_mean"] - auto.cv_scheme_["best_se"]
    fixed = RootCauseClassifier(embedding_weight=auto.embedding_weight_, C=auto.C_).fit(texts, labels)
    assert fixed.cv_macro_f1_ == []
    np.testing.assert_allclose(auto.predict_proba(texts), fixed.predict_proba(texts))
    heavy = RootCauseClassifier(embedding_weight_grid=(4.0,), C=1.0).fit(texts, labels)
    assert heavy.pipeline_.named_steps["features"].transformer_weights["embedding"] == 4.0
    light = RootCauseClassifier(embedding_weight=1.0, C=1.0).fit(texts, labels)
    assert not np.allclose(heavy.decision_function(texts), light.decision_function(texts))


def test_the_search_stops_its_svms_early_and_the_final_svm_does_not(synthetic_frame: pd.DataFrame,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    tolerances = []
    fold_macro_f1 = root_cause._fold_macro_f1

    def recording(svm, *args, **kwargs):
        tolerances.append(svm.tol)
        return fold_macro_f1(svm, *args, **kwargs)

    monkeypatch.setattr(root_cause, "_fold_macro_f1", recording)
    head = RootCauseClassifier(C_grid=(0.1, 1.0), embedding_weight=1.0).fit(synthetic_frame["text"],
                                                                          synthetic_frame["cause"])
    assert len(tolerances) == 2 * 3 * head.cv_scheme_["repeats"] and set(tolerances) == {root_cause.FOLD_TOL}
    assert root_cause.FOLD_TOL > 1e-4
    assert head.pipeline_.named_steps["classifier"].calibrated_classifiers_[0].estimator.tol == 1e-4


def test_candidates_far_below_the_best_are_not_repeated(synthetic_frame: pd.DataFrame,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    texts, labels = synthetic_frame["text"].tolist(), synthetic_frame["cause"]
    monkeypatch.setattr(root_cause, "NOT_REPEATED_BELOW", 0.0)  # only the best after the first repeat goes on
    raced = RootCauseClassifier(C_grid=(1e-5, 1.0), embedding_weight=1.0).fit(texts, labels)
    weak, strong = raced.cv_macro_f1_
    per_repeat, repeats = raced.cv_scheme_["folds"], raced.cv_scheme_["repeats"]
    assert repeats == 3 and (weak["folds"], strong["folds"]) == (per_repeat, per_repeat * repeats)
    assert strong["chosen"] and weak["macro_f1"] < strong["macro_f1"]
    monkeypatch.setattr(root_cause, "NOT_REPEATED_BELOW", 1e9)
    every = RootCauseClassifier(C_grid=(1e-5, 1.0), embedding_weight=1.0).fit(texts, labels)
    assert [row["folds"] for row in every.cv_macro_f1_] == [per_repeat * repeats] * 2
    assert every.cv_macro_f1_[1] == strong and every.C_ == raced.C_
    [card] = model_card._root_cause_head({"chosen": {"cv_scheme": raced.cv_scheme_,
                                                     "cv_macro_f1": raced.cv_macro_f1_}})
    assert "1 of the 2 settings were more than 0 standard errors below the best after the first repeat" in card
    once = RootCauseClassifier(C_grid=(1e-5, 1.0), embedding_weight=1.0, cv_repeats=1).fit(texts, labels)
    assert [row["folds"] for row in once.cv_macro_f1_] == [per_repeat] * 2 and once.cv_scheme_["repeats"] == 1


def test_within_reach_keeps_candidates_near_the_best() -> None:
    summaries = [{"mean": 0.80, "se": 0.01}, {"mean": 0.78, "se": 0.01}, {"mean": 0.66, "se": 0.05},
                 {"mean": 0.60, "se": 0.05}]
    assert root_cause._within_reach(summaries) == [0, 1, 2]


@pytest.mark.parametrize(("params", "message"), [({"C": 0}, "'C' parameter .* must be > 0"),
                                                  ({"embedding_weight": -1}, "'embedding_weight' .* >= 0")])
def test_bad_settings_are_refused(synthetic_frame: pd.DataFrame, params: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RootCauseClassifier(**params).fit(synthetic_frame["text"], synthetic_frame["cause"])


def test_default_temperature_calibration_keeps_the_svm_decisions(synthetic_frame: pd.DataFrame) -> None:
    texts, labels = synthetic_frame["text"].tolist(), synthetic_frame["cause"]
    probe = texts + ["billed twice and the agent was rude", "no signal and an extra fee", "hello"]
    clf = RootCauseClassifier(embedding_weight=1.0, C=1.0).fit(texts, labels)
    assert clf.calibration_ == clf.pipeline_.named_steps["classifier"].method == "temperature"
    decisions = clf.decision_function(probe)
    assert decisions.shape == (len(probe), 3)
    np.testing.assert_array_equal(clf.predict_proba(probe).argmax(axis=1), decisions.argmax(axis=1))
    isotonic = RootCauseClassifier(embedding_weight=1.0, C=1.0, calibration="isotonic").fit(texts, labels)
    assert isotonic.pipeline_.named_steps["classifier"].method == "isotonic"


def test_unknown_calibration_is_refused(synthetic_frame: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="'calibration' parameter must be one of 'auto', 'temperature'"):
        RootCauseClassifier(calibration="platt").fit(synthetic_frame["text"], synthetic_frame["cause"])


def test_tfidf_auto_searches_both_feature_sets_and_ties_go_to_the_simpler(synthetic_frame: pd.DataFrame) -> None:
    texts, labels = synthetic_frame["text"].tolist(), synthetic_frame["cause"]
    clf = RootCauseClassifier(use_tfidf="auto", embedding_weight=1.0, C_grid=(0.3, 1.0), cv_repeats=2)
    clf.fit(texts, labels)
    assert [(row["use_tfidf"], row["C"]) for row in clf.cv_macro_f1_] == [
        (False, 0.3), (False, 1.0), (True, 0.3), (True, 1.0)]
    assert len(clf.cv_macro_f1_) == 4 and clf.cv_scheme_["repeats"] == 2
    rows = clf.cv_macro_f1_
    floor = max(r["macro_f1"] for r in rows) - clf.cv_scheme_["best_se"]
    simplest = next(r for r in rows if r["macro_f1"] >= floor)  # rows are listed simplest first here
    assert (clf.use_tfidf_, clf.C_) == (simplest["use_tfidf"], simplest["C"])
    blocks = [name for name, _ in clf.pipeline_.named_steps["features"].transformer_list]
    assert blocks == (["embedding", "tfidf", "chars"] if clf.use_tfidf_ else ["embedding"])
    refit = clone(clf).set_params(**clf.chosen_settings()).fit(texts, labels)
    np.testing.assert_allclose(refit.predict_proba(texts), clf.predict_proba(texts))


def test_the_character_block_can_be_switched_off(synthetic_frame: pd.DataFrame) -> None:
    texts, labels = synthetic_frame["text"].tolist(), synthetic_frame["cause"]
    words = RootCauseClassifier(embedding_weight=0.0, C=1.0, char_ngrams=False).fit(texts, labels)
    both = RootCauseClassifier(embedding_weight=0.0, C=1.0).fit(texts, labels)
    names = {head: [name for name, _ in head.pipeline_.named_steps["features"].transformer_list]
             for head in (words, both)}
    assert names[words] == ["tfidf"] and names[both] == ["tfidf", "chars"]
    assert not np.allclose(words.decision_function(texts), both.decision_function(texts))


def test_the_character_block_is_searched_with_auto(synthetic_frame: pd.DataFrame) -> None:
    texts, labels = synthetic_frame["text"].tolist(), synthetic_frame["cause"]
    clf = RootCauseClassifier(char_ngrams="auto", embedding_weight_grid=(1.0,), C_grid=(0.1, 1.0)).fit(texts, labels)
    assert [(row["char_ngrams"], row["C"]) for row in clf.cv_macro_f1_] == [
        (False, 0.1), (False, 1.0), (True, 0.1), (True, 1.0)]
    [chosen] = [row for row in clf.cv_macro_f1_ if row["chosen"]]
    assert clf.char_ngrams_ == chosen["char_ngrams"] and clf.chosen_settings()["char_ngrams"] == clf.char_ngrams_
    blocks = [name for name, _ in clf.pipeline_.named_steps["features"].transformer_list]
    assert blocks == ["embedding", "tfidf", *(["chars"] if clf.char_ngrams_ else [])]
    for chars in (False, True):  # each candidate's cross-validation saw exactly its own blocks
        fixed = RootCauseClassifier(char_ngrams=chars, embedding_weight_grid=(1.0,), C_grid=(0.1, 1.0)).fit(
            texts, labels)
        scores = [row["macro_f1"] for row in fixed.cv_macro_f1_]
        assert scores == [row["macro_f1"] for row in clf.cv_macro_f1_ if row["char_ngrams"] is chars]
    refit = clone(clf).set_params(**clf.chosen_settings()).fit(texts, labels)
    np.testing.assert_allclose(refit.predict_proba(texts), clf.predict_proba(texts))
    with pytest.raises(ValueError, match="'char_ngrams' parameter"):
        RootCauseClassifier(char_ngrams="sometimes").fit(texts, labels)


def test_heads_saved_before_the_new_parameters_still_clone() -> None:
    new = ("char_ngrams", "label_parents")
    state = {key: value for key, value in RootCauseClassifier(char_ngrams=False).__dict__.items() if key not in new}
    legacy = RootCauseClassifier.__new__(RootCauseClassifier)
    legacy.__setstate__(state)
    assert legacy.get_params()["char_ngrams"] is True and legacy.get_params()["label_parents"] is None
    assert clone(legacy).get_params() == legacy.get_params()


def test_sample_weight_zero_takes_wrong_labels_out_of_the_fit(synthetic_frame: pd.DataFrame) -> None:
    texts, labels = synthetic_frame["text"].tolist(), synthetic_frame["cause"].to_numpy(dtype=object).copy()
    wrong = np.flatnonzero(labels == "billing_error")[:3]
    labels[wrong] = "service_failure"
    weights = np.ones(len(labels))
    weights[wrong] = 0.0
    settings = {"C": 1.0, "embedding_weight": 1.0}
    plain = RootCauseClassifier(**settings).fit(texts, labels)
    weighted = RootCauseClassifier(**settings).fit(texts, labels, sample_weight=weights)
    billing = list(weighted.classes_).index("billing_error")
    wrong_texts = [texts[i] for i in wrong]
    assert (weighted.predict_proba(wrong_texts)[:, billing] > plain.predict_proba(wrong_texts)[:, billing]).all()
    assert list(weighted.predict(wrong_texts)) == ["billing_error"] * len(wrong)


def test_unit_sample_weights_change_nothing_also_in_the_settings_search(synthetic_frame: pd.DataFrame) -> None:
    texts, labels = synthetic_frame["text"].tolist(), synthetic_frame["cause"]
    plain = RootCauseClassifier(C_grid=(0.1, 1.0)).fit(texts, labels)
    ones = RootCauseClassifier(C_grid=(0.1, 1.0)).fit(texts, labels, sample_weight=np.ones(len(texts)))
    assert ones.cv_macro_f1_ == plain.cv_macro_f1_
    np.testing.assert_allclose(ones.predict_proba(texts), plain.predict_proba(texts))


@pytest.mark.parametrize(("weights", "message"), [
    ([1.0, 1.0], "one weight per text \\(3\\); got shape \\(2,\\)"),
    ([1.0, -1.0, 1.0], "finite and non-negative"),
    ([0.0, 0.0, 0.0], "at least one weight above 0"),
    (["a", "b", "c"], "must be numbers"),
])
def test_bad_sample_weights_are_refused(weights: list, message: str) -> None:
    with pytest.raises(InputError, match=message):
        RootCauseClassifier(C=1.0, embedding_weight=0.0).fit(["late fee", "no signal", "late fee"], ["a", "b", "a"],
                                                             sample_weight=weights)


def test_long_text_policy_reaches_the_embedder_and_the_refit(synthetic_frame: pd.DataFrame) -> None:
    head = RootCauseClassifier(long_texts="head_tail", C=0.3, embedding_weight=1.0)
    assert head._features(True, True).transformer_list[0][1].long_texts == "head_tail"
    assert clone(head).get_params()["long_texts"] == "head_tail"


def test_fitted_text_blocks_are_used_as_they_are_and_give_the_same_head(synthetic_frame: pd.DataFrame) -> None:
    texts, labels = synthetic_frame["text"].tolist(), synthetic_frame["cause"]
    own = RootCauseClassifier(C=0.3, embedding_weight=1.0).fit(texts, labels)
    blocks = {name: block for name, block in own.pipeline_.named_steps["features"].transformer_list
              if name != "embedding"}
    idf = blocks["chars"].idf_.copy()
    given = clone(own).fit(texts, labels, fitted_text_blocks=blocks)
    used = dict(given.pipeline_.named_steps["features"].transformer_list)
    assert used["tfidf"] is blocks["tfidf"] and used["chars"] is blocks["chars"]
    np.testing.assert_array_equal(blocks["chars"].idf_, idf)  # not fitted again
    # A block's transform and its fit_transform may differ in the last bit of a value, hence 1e-6.
    np.testing.assert_allclose(given.predict_proba(texts), own.predict_proba(texts), atol=1e-6)
    np.testing.assert_allclose(given.held_out_proba_, own.held_out_proba_, atol=1e-6)
    with pytest.raises(ValueError, match=r"fitted_text_blocks names \['embedding'\]"):
        clone(own).fit(texts, labels, fitted_text_blocks={"embedding": blocks["tfidf"]})


def test_kept_text_block_outputs_are_taken_as_they_are(synthetic_frame: pd.DataFrame) -> None:
    texts, labels = synthetic_frame["text"].tolist(), synthetic_frame["cause"]
    own = RootCauseClassifier(C=0.3, embedding_weight=1.0).fit(texts, labels, keep_text_block_outputs=True)
    outputs = own.text_block_outputs_
    blocks = dict(own.pipeline_.named_steps["features"].transformer_list)
    assert set(outputs) == {"tfidf", "chars"}
    np.testing.assert_array_equal(outputs["tfidf"].toarray(),
                                  blocks["tfidf"].fit_transform(own.pipeline_[0].transform(texts)).toarray())
    assert "text_block_outputs_" not in pickle.loads(pickle.dumps(own)).__dict__
    assert not hasattr(clone(own).fit(texts, labels), "text_block_outputs_")  # only when asked
    # Given with their outputs, the blocks are not run at all: outputs scaled by two give another head.
    pairs = {name: (blocks[name], 2 * outputs[name]) for name in outputs}
    doubled = clone(own).fit(texts, labels, fitted_text_blocks=pairs)
    same = clone(own).fit(texts, labels, fitted_text_blocks={name: (blocks[name], outputs[name]) for name in outputs})
    np.testing.assert_allclose(same.held_out_proba_, own.held_out_proba_, atol=1e-9)
    assert not np.allclose(doubled.held_out_proba_, own.held_out_proba_, atol=1e-3)


def test_tol_sets_the_final_svm_only(synthetic_frame: pd.DataFrame) -> None:
    texts, labels = synthetic_frame["text"].tolist(), synthetic_frame["cause"]
    head = RootCauseClassifier(C=0.3, embedding_weight=1.0, tol=1e-2).fit(texts, labels)
    assert head.pipeline_.named_steps["classifier"].calibrated_classifiers_[0].estimator.tol == 1e-2
    with pytest.raises(ValueError, match="'tol' parameter of RootCauseClassifier must be > 0"):
        RootCauseClassifier(tol=0).fit(texts, labels)
