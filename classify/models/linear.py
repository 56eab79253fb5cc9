"""A linear classifier over hashed features with calibrated multiclass probabilities.

Scores are those of a one-vs-rest linear SVM, s = W x + b (`sklearn.svm.LinearSVC`; Fan et al.
2008, LIBLINEAR). Probabilities come from a multinomial logistic map fitted on out-of-fold scores,

    p(k | x) = softmax(A s + c)_k

(Platt 1999 for the binary case; "matrix scaling" in Guo et al. 2017, "On Calibration of Modern
Neural Networks"). Fitting the map on out-of-fold scores keeps it honest about how confident the
SVM is on unseen text. With class_weight="balanced" the map is fitted with the same weights, i.e.
calibrated under a uniform class prior (rare classes are not out-voted by the majority prior). The whole model is W, b, A, c: plain arrays, saved without pickle.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


class CalibratedLinearClassifier:
    """LinearSVC scores + a softmax calibration map fitted on `calibration_folds` out-of-fold scores.

    Parameters
    ----------
    C : inverse regularisation strength of the SVM.
    class_weight : None or "balanced" (reweights classes by inverse frequency; helps macro-F1).
    calibration_folds : folds for the out-of-fold scores the calibration map is fitted on.
    calibration_class_weight : class weighting of the calibration map; "same" follows `class_weight`
        (calibrated under a uniform prior when balanced); None calibrates to the training prior,
        better when the training data mix sets whose label priors differ (the shipped stance model).
    random_state : seed for the fold assignment (the solvers are deterministic given it).
    """

    def __init__(
        self,
        C: float = 0.5,
        class_weight: str | None = "balanced",
        calibration_folds: int = 3,
        calibration_class_weight: str | None = "same",
        random_state: int = 0,
    ) -> None:
        self.C = C
        self.class_weight = class_weight
        self.calibration_folds = calibration_folds
        self.calibration_class_weight = calibration_class_weight
        self.random_state = random_state

    def _svm(self) -> LinearSVC:
        return LinearSVC(C=self.C, class_weight=self.class_weight, random_state=self.random_state)

    def fit(
        self, X: sp.csr_matrix, y: list[str] | np.ndarray, sample_weight: np.ndarray | None = None
    ) -> CalibratedLinearClassifier:
        y = np.asarray(y)
        weight = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        self.classes_ = np.unique(y)
        n_classes = len(self.classes_)
        # Out-of-fold SVM scores, the evidence the calibration map learns from.
        folds = min(self.calibration_folds, int(np.bincount(np.searchsorted(self.classes_, y)).min()))
        oof = np.zeros((X.shape[0], n_classes), dtype=np.float64)
        if folds >= 2:
            splitter = StratifiedKFold(folds, shuffle=True, random_state=self.random_state)
            for train, held in splitter.split(X, y):
                fold_svm = self._svm().fit(X[train], y[train], sample_weight=weight[train])
                oof[held] = self._scores(fold_svm, X[held], n_classes)
        svm = self._svm().fit(X, y, sample_weight=weight)
        self.coef_ = self._as_matrix(svm.coef_, n_classes).astype(np.float32)
        self.intercept_ = self._as_vector(svm.intercept_, n_classes).astype(np.float32)
        if folds < 2:
            oof = X @ self.coef_.T + self.intercept_
        # The map gets the SVM's class weighting: with "balanced" the probabilities are calibrated
        # under a uniform class prior, so their argmax stays the balanced (macro-F1) decision.
        prior = self.class_weight if self.calibration_class_weight == "same" else self.calibration_class_weight
        calibration = LogisticRegression(C=1.0, class_weight=prior, max_iter=1000)
        calibration.fit(oof, y, sample_weight=weight)
        self.calibration_coef_ = self._as_matrix(calibration.coef_, n_classes).astype(np.float32)
        self.calibration_intercept_ = self._as_vector(calibration.intercept_, n_classes).astype(np.float32)
        return self

    @staticmethod
    def _as_matrix(coef: np.ndarray, n_classes: int) -> np.ndarray:
        # Binary problems give one row (class 1 vs 0); expand to one row per class.
        return np.vstack([-coef[0], coef[0]]) / 2 if n_classes == 2 and coef.shape[0] == 1 else coef

    @staticmethod
    def _as_vector(intercept: np.ndarray, n_classes: int) -> np.ndarray:
        return np.array([-intercept[0], intercept[0]]) / 2 if n_classes == 2 and intercept.size == 1 else intercept

    def _scores(self, svm: LinearSVC, X: sp.csr_matrix, n_classes: int) -> np.ndarray:
        scores = np.zeros((X.shape[0], n_classes))
        fold_scores = svm.decision_function(X)
        if fold_scores.ndim == 1:
            fold_scores = np.column_stack([-fold_scores, fold_scores]) / 2
        scores[:, np.searchsorted(self.classes_, svm.classes_)] = fold_scores
        return scores

    def decision_function(self, X: sp.csr_matrix) -> np.ndarray:
        return np.asarray(X @ self.coef_.T) + self.intercept_

    def predict_proba(self, X: sp.csr_matrix) -> np.ndarray:
        scores = self.decision_function(X)
        return softmax(scores @ self.calibration_coef_.T + self.calibration_intercept_)

    def predict(self, X: sp.csr_matrix) -> np.ndarray:
        return self.classes_[np.argmax(self.decision_function(X), axis=1)]

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The fitted state as plain arrays (coefficients stored as float16 to keep files small)."""
        return {
            "classes": self.classes_.astype(str),
            "coef": self.coef_.astype(np.float16),
            "intercept": self.intercept_,
            "calibration_coef": self.calibration_coef_,
            "calibration_intercept": self.calibration_intercept_,
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], **params) -> CalibratedLinearClassifier:
        model = cls(**params)
        model.classes_ = np.asarray(arrays["classes"]).astype(str)
        model.coef_ = np.asarray(arrays["coef"], dtype=np.float32)
        model.intercept_ = np.asarray(arrays["intercept"], dtype=np.float32)
        model.calibration_coef_ = np.asarray(arrays["calibration_coef"], dtype=np.float32)
        model.calibration_intercept_ = np.asarray(arrays["calibration_intercept"], dtype=np.float32)
        return model
