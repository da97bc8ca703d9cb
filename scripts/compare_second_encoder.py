"""The default head's features with a second encoder's vectors added (multilingual-e5-small), same split, same run.

The root-cause head's blocks (MiniLM int8 vectors at ``--minilm-weight``, word and character TF-IDF)
are fitted on the task's training split; the second encoder's unit vectors (fp32, with its own
"query: " prompt) are appended at weight 0 (none), 1 and 2. For each weight: macro-F1 of a
class-balanced LinearSVC (``--C``) over 3 stratified folds of the training rows, and on the test
split with a paired bootstrap 95% interval of the difference to weight 0. Needs
``complaintkit build-multilingual`` first.

    python scripts/compare_second_encoder.py --task banking77 --C 0.3 --minilm-weight 2
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import sparse
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from _benchdata import load_task
from benchmark_scoring import cpu_summary
from complaintkit.embedding import SentenceTransformerEmbedder
from complaintkit.heads.root_cause import RootCauseClassifier, _scale_columns
from complaintkit.text import TextNormaliser


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="banking77")
    parser.add_argument("--C", type=float, default=0.3)
    parser.add_argument("--minilm-weight", type=float, default=2.0)
    parser.add_argument("--second", default="multilingual", help="the second encoder (alias or folder)")
    args = parser.parse_args()
    print(cpu_summary())
    task = load_task(args.task)
    train_labels, test_labels = np.array(task.train_labels), np.array(task.test_labels)
    normaliser = TextNormaliser().fit(task.train_texts)
    train_norm, test_norm = normaliser.transform(task.train_texts), normaliser.transform(task.test_texts)
    features = RootCauseClassifier(precision="int8")._features(True, True)
    began = time.perf_counter()
    train_matrix, test_matrix = features.fit_transform(train_norm), features.transform(test_norm)
    minilm = np.zeros(train_matrix.shape[1], dtype=bool)
    minilm[:features.transformer_list[0][1].n_features_out_] = True
    train_matrix = _scale_columns(train_matrix, minilm, args.minilm_weight)
    test_matrix = _scale_columns(test_matrix, minilm, args.minilm_weight)
    print(f"default blocks: {time.perf_counter() - began:.0f} s")
    second = SentenceTransformerEmbedder(model=args.second, precision="fp32").fit()
    began = time.perf_counter()
    train_second, test_second = second.transform(task.train_texts), second.transform(task.test_texts)
    print(f"{args.second} vectors: {time.perf_counter() - began:.0f} s")

    def svm() -> LinearSVC:
        return LinearSVC(C=args.C, class_weight="balanced", random_state=0, max_iter=5000)

    def joined(matrix: sparse.csr_matrix, vectors: np.ndarray, weight: float) -> sparse.csr_matrix:
        return matrix if weight == 0 else sparse.hstack([matrix, sparse.csr_matrix(vectors * weight)]).tocsr()

    rng = np.random.default_rng(0)
    resamples = [rng.integers(0, len(test_labels), len(test_labels)) for _ in range(1000)]
    predicted = {}
    for weight in (0.0, 1.0, 2.0):
        matrix = joined(train_matrix, train_second, weight)
        folds = [f1_score(train_labels[held], svm().fit(matrix[fit], train_labels[fit]).predict(matrix[held]),
                          average="macro")
                 for fit, held in StratifiedKFold(3, shuffle=True, random_state=0).split(train_norm, train_labels)]
        predicted[weight] = svm().fit(matrix, train_labels).predict(joined(test_matrix, test_second, weight))
        test = f1_score(test_labels, predicted[weight], average="macro")
        line = (f"{args.second} weight {weight}: 3-fold CV on train {np.mean(folds):.4f} "
                f"(sd {np.std(folds, ddof=1):.4f}), test macro-F1 {test:.4f}")
        if weight:
            base = f1_score(test_labels, predicted[0.0], average="macro")
            gaps = [f1_score(test_labels[r], predicted[weight][r], average="macro")
                    - f1_score(test_labels[r], predicted[0.0][r], average="macro") for r in resamples]
            low, high = np.percentile(gaps, [2.5, 97.5])
            line += f", vs without: {test - base:+.4f} [{low:+.4f}, {high:+.4f}]"
        print(line, flush=True)


if __name__ == "__main__":
    main()
