"""A linear classifier over hashed features with calibrated multiclass probabilities, optionally
with one expert per input domain and a macro-F1 decision rule.

Scores are those of a one-vs-rest linear SVM, s = W x + b (`sklearn.svm.LinearSVC`; Fan et al.
2008, LIBLINEAR). Probabilities come from a multinomial logistic map fitted on out-of-fold scores,

    p(k | x) = softmax(A s + c)_k

(Platt 1999 for the binary case; "matrix scaling" in Guo et al. 2017, "On Calibration of Modern
Neural Networks"). Fitting the map on out-of-fold scores keeps it honest about how confident the
SVM is on unseen text. With class_weight="balanced" the map is fitted with the same weights, i.e.
calibrated under a uniform class prior (rare classes are not out-voted by the majority prior).

Domains (Daumé III 2007, "Frustratingly Easy Domain Adaptation"): when the training examples come
from D known domains (e.g. stance of a plain quote vs stance toward a named target), the SVM is
fitted on augmented features [x, x * 1{domain=1}, ..., x * 1{domain=D}], so each domain d gets the
expert W + V_d: shared evidence plus what differs in that domain. Each domain gets its own
calibration map, fitted on its own out-of-fold scores, because label priors differ by domain.
When a domain's examples use only part of the label scheme (topic: Lenta articles have no
`politics`, SIB-200 sentences do), its own scores would calibrate the missing labels out; with
calibrate_across_domains each expert's map is fitted on that expert's out-of-fold scores of every
example, its own domain's examples weighing as much as all others together, so every label stays
reachable from every expert.

Macro-F1 decision rule (optional): per-class offsets o are added to the calibrated logits,
p(k | x) ~ exp((A s + c)_k + o_k), with o chosen by coordinate ascent on the out-of-fold scores to
maximise the domain's macro-F1 (the plug-in rule for a non-decomposable metric: Lipton et al.
2014, "Thresholding Classifiers to Maximize F1 Score"; Narasimhan et al. 2015). The probabilities
are then decision-adjusted rather than calibrated. The whole model is W (+V), b, A, c: plain arrays,
saved without pickle.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

_ABSENT_LOGIT = -30.0  # calibrated logit of a class a domain never saw: probability ~1e-13
_OFFSET_GRID = np.linspace(-2.0, 2.0, 41)
_OFFSET_ROUNDS = 3


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def macro_f1(gold: np.ndarray, predicted: np.ndarray, classes: np.ndarray) -> float:
    """Macro-F1 over `classes` (integer labels), F1 = 2 TP / (2 TP + FP + FN)."""
    tp = np.bincount(gold[gold == predicted], minlength=classes.max() + 1)[classes]
    n_gold = np.bincount(gold, minlength=classes.max() + 1)[classes]
    n_predicted = np.bincount(predicted, minlength=classes.max() + 1)[classes]
    denominator = n_gold + n_predicted
    return float(np.mean(np.where(denominator > 0, 2 * tp / np.maximum(denominator, 1), 0.0)))


def macro_f1_offsets(logits: np.ndarray, gold: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Per-class offsets added to `logits` that maximise macro-F1 of the argmax on (logits, gold):
    coordinate ascent over a fixed grid, first best value kept (deterministic); centred to sum 0."""
    offsets = np.zeros(logits.shape[1])
    for _ in range(_OFFSET_ROUNDS):
        for k in classes:
            best_score, best_value = -1.0, offsets[k]
            for value in _OFFSET_GRID:
                offsets[k] = value
                score = macro_f1(gold, np.argmax(logits + offsets, axis=1), classes)
                if score > best_score + 1e-12:
                    best_score, best_value = score, value
            offsets[k] = best_value
    offsets[classes] -= offsets[classes].mean()
    return offsets


def augment(X: sp.csr_matrix, domains: np.ndarray, n_domains: int) -> sp.csr_matrix:
    """[X, X * 1{domain=0}, ..., X * 1{domain=D-1}] (Daumé III 2007); X itself when D = 1."""
    if n_domains == 1:
        return X
    blocks = [X] + [X.multiply((domains == d)[:, None]).tocsr() for d in range(n_domains)]
    return sp.hstack(blocks, format="csr")


class CalibratedLinearClassifier:
    """LinearSVC scores + a softmax calibration map fitted on `calibration_folds` out-of-fold scores.

    Parameters
    ----------
    C : inverse regularisation strength of the SVM.
    class_weight : None or "balanced" (reweights classes by inverse frequency; helps macro-F1).
    calibration_folds : folds for the out-of-fold scores the calibration map is fitted on.
    calibration_class_weight : class weighting of the calibration map; "same" follows `class_weight`
        (calibrated under a uniform prior when balanced); None calibrates to the training prior.
    tune_macro_f1 : add per-class offsets, tuned on the out-of-fold scores, that maximise macro-F1.
    random_state : seed for the fold assignment (the solvers are deterministic given it).
    calibrate_across_domains : fit each expert's calibration map on its scores of all examples,
        not only of its own domain's (see the module docstring).
    """

    def __init__(
        self,
        C: float = 0.5,
        class_weight: str | None = "balanced",
        calibration_folds: int = 3,
        calibration_class_weight: str | None = "same",
        tune_macro_f1: bool = False,
        random_state: int = 0,
        calibrate_across_domains: bool = False,
    ) -> None:
        self.C = C
        self.class_weight = class_weight
        self.calibration_folds = calibration_folds
        self.calibration_class_weight = calibration_class_weight
        self.tune_macro_f1 = tune_macro_f1
        self.random_state = random_state
        self.calibrate_across_domains = calibrate_across_domains

    def _svm(self):
        from sklearn.svm import LinearSVC  # training-time only (see fit)

        return LinearSVC(C=self.C, class_weight=self.class_weight, random_state=self.random_state)

    def fit(
        self,
        X: sp.csr_matrix,
        y: list[str] | np.ndarray,
        sample_weight: np.ndarray | None = None,
        domains: np.ndarray | None = None,
    ) -> CalibratedLinearClassifier:
        """Fit on rows X with labels y; `domains` (ints 0..D-1, one per row) gives one expert per domain."""
        # scikit-learn is imported to fit only: prediction is numpy, and every worker process of a
        # run is spared its import (0.8 s).
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import StratifiedKFold

        y = np.asarray(y)
        weight = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        domains = np.zeros(len(y), dtype=np.int64) if domains is None else np.asarray(domains, dtype=np.int64)
        n_domains = int(domains.max()) + 1
        self.classes_ = np.unique(y)
        n_classes, n_features = len(self.classes_), X.shape[1]
        codes = np.searchsorted(self.classes_, y)
        Xa = augment(X, domains, n_domains)
        # Out-of-fold SVM scores, the evidence the calibration maps learn from: each row scored by its
        # own domain's expert (oof[0]), or, calibrating across domains, by every expert (oof[d]).
        folds = min(self.calibration_folds, int(np.bincount(codes).min()))
        across = self.calibrate_across_domains and n_domains > 1
        oof = np.zeros((n_domains if across else 1, X.shape[0], n_classes), dtype=np.float64)
        if folds >= 2:
            splitter = StratifiedKFold(folds, shuffle=True, random_state=self.random_state)
            for train, held in splitter.split(Xa, y):
                fold_svm = self._svm().fit(Xa[train], y[train], sample_weight=weight[train])
                if across:
                    for d in range(n_domains):
                        oof[d, held] = self._scores(fold_svm, augment(X[held], np.full(len(held), d), n_domains), n_classes)
                else:
                    oof[0, held] = self._scores(fold_svm, Xa[held], n_classes)
        svm = self._svm().fit(Xa, y, sample_weight=weight)
        coef = self._as_matrix(svm.coef_, n_classes)
        shared = coef[:, :n_features]
        experts = [shared] if n_domains == 1 else [
            shared + coef[:, (d + 1) * n_features : (d + 2) * n_features] for d in range(n_domains)
        ]
        self.coef_ = np.stack(experts).astype(np.float32)
        self.intercept_ = self._as_vector(svm.intercept_, n_classes).astype(np.float32)
        if folds < 2:
            for d in range(n_domains):
                if across:
                    oof[d] = self.decision_function(X, d)
                else:
                    rows = domains == d
                    oof[0, rows] = self.decision_function(X[rows], d)
        prior = self.class_weight if self.calibration_class_weight == "same" else self.calibration_class_weight
        self.calibration_coef_ = np.zeros((n_domains, n_classes, n_classes), dtype=np.float32)
        self.calibration_intercept_ = np.full((n_domains, n_classes), _ABSENT_LOGIT, dtype=np.float32)
        for d in range(n_domains):
            own = domains == d
            if across:
                # Every example, the domain's own weighing as much as all the others together.
                rows, scores = np.ones(len(y), dtype=bool), oof[d]
                calibration_weight = np.where(own, weight * weight[~own].sum() / max(weight[own].sum(), 1e-12), weight)
            else:
                rows, scores = own, oof[0]
                calibration_weight = weight[rows]
            present = np.unique(codes[rows])
            if present.size < 2:  # a one-class domain: always that class
                self.calibration_intercept_[d, present] = 0.0
                continue
            # The map gets the SVM's class weighting: with "balanced" the probabilities are calibrated
            # under a uniform class prior, so their argmax stays the balanced (macro-F1) decision.
            calibration = LogisticRegression(C=1.0, class_weight=prior, max_iter=1000)
            calibration.fit(scores[rows], codes[rows], sample_weight=calibration_weight)
            A = self._as_matrix(calibration.coef_, present.size)
            c = self._as_vector(calibration.intercept_, present.size)
            self.calibration_coef_[d, present] = A
            self.calibration_intercept_[d, present] = c
            if self.tune_macro_f1:
                logits = scores[rows] @ self.calibration_coef_[d].T + self.calibration_intercept_[d]
                self.calibration_intercept_[d] += macro_f1_offsets(logits, codes[rows], present).astype(np.float32)
        return self

    @property
    def n_domains(self) -> int:
        return self.coef_.shape[0]

    @staticmethod
    def _as_matrix(coef: np.ndarray, n_classes: int) -> np.ndarray:
        # Binary problems give one row (class 1 vs 0); expand to one row per class.
        return np.vstack([-coef[0], coef[0]]) / 2 if n_classes == 2 and coef.shape[0] == 1 else coef

    @staticmethod
    def _as_vector(intercept: np.ndarray, n_classes: int) -> np.ndarray:
        return np.array([-intercept[0], intercept[0]]) / 2 if n_classes == 2 and intercept.size == 1 else intercept

    def _scores(self, svm, X: sp.csr_matrix, n_classes: int) -> np.ndarray:
        scores = np.zeros((X.shape[0], n_classes))
        fold_scores = svm.decision_function(X)
        if fold_scores.ndim == 1:
            fold_scores = np.column_stack([-fold_scores, fold_scores]) / 2
        scores[:, np.searchsorted(self.classes_, svm.classes_)] = fold_scores
        return scores

    def decision_function(self, X: sp.csr_matrix, domain: int = 0) -> np.ndarray:
        """SVM scores of domain `domain`'s expert."""
        return np.asarray(X @ self.coef_[domain].T) + self.intercept_

    def predict_proba(self, X: sp.csr_matrix, domain: int | np.ndarray = 0) -> np.ndarray:
        """Calibrated probabilities; `domain` is one expert for all rows or one per row."""
        if np.ndim(domain) == 0:
            d = int(domain)
            scores = self.decision_function(X, d)
            # A s + c row by row, by broadcasting: a BLAS product's last bits depend on the matrix's
            # shape (one row or many), and a document's probabilities must not depend on its batch.
            logits = (scores[:, None, :] * self.calibration_coef_[d][None, :, :]).sum(axis=2)
            return softmax(logits + self.calibration_intercept_[d])
        domain = np.asarray(domain)
        probabilities = np.zeros((X.shape[0], len(self.classes_)), dtype=np.float32)
        for d in np.unique(domain):
            rows = np.flatnonzero(domain == d)
            probabilities[rows] = self.predict_proba(X[rows], int(d))
        return probabilities

    def predict(self, X: sp.csr_matrix, domain: int | np.ndarray = 0) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X, domain), axis=1)]

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
