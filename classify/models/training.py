"""Train a model from labelled texts, and evaluate one: the functions behind `classify train/evaluate`."""

from __future__ import annotations

from typing import Any

import numpy as np

from classify.models.features import HashedNgrams, fit_idf
from classify.models.linear import CalibratedLinearClassifier
from classify.models.model import LENGTH_DOMAINS, TARGET_DOMAINS, TASKS, TextModel, library_versions
from classify.models.stance import mark_target, target_pattern

# Defaults chosen on the training splits of the shipped sets (see benchmarks/models.py).
FEATURE_DEFAULTS = {
    "topic": dict(n_features=2**18, char_ngrams=(4,), stem_length=5, max_chars=3000),
    "stance": dict(n_features=2**18, char_ngrams=(4,), stem_length=5, max_chars=1000),
}


def model_inputs(texts: list[str], targets: list[str | None] | None) -> list[str]:
    """Texts as the model sees them: a named target's mentions replaced by one placeholder token."""
    if not targets:
        return list(texts)
    out = []
    for text, target in zip(texts, targets):
        pattern = target_pattern(target) if target else None
        out.append(mark_target(text, pattern) if pattern else text)
    return out


def train(
    texts: list[str],
    labels: list[str],
    task: str,
    targets: list[str | None] | None = None,
    C: float = 1.0,
    class_weight: str | None = "balanced",
    seed: int = 0,
    features: HashedNgrams | None = None,
    sample_weight: np.ndarray | None = None,
    calibration_class_weight: str | None = "same",
    tune_macro_f1: bool = False,
    article_min_chars: int | None = None,
    info: dict[str, Any] | None = None,
) -> TextModel:
    """Fit hashed features' idf and a calibrated linear classifier; deterministic given `seed`.

    When some examples name a target and others do not, the classifier gets one expert for each
    kind (`CalibratedLinearClassifier` domains), chosen at prediction by whether a target is named.
    Otherwise, with `article_min_chars`, texts of at least that many characters (articles) and
    shorter ones (sentences, headlines) get one expert each, chosen at prediction by length, and
    every label stays reachable from both (calibrated across domains).
    """
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, not {task!r}")
    if len(set(labels)) < 2:
        raise ValueError("training needs at least two distinct labels")
    features = features or HashedNgrams(**FEATURE_DEFAULTS[task])
    inputs = model_inputs(texts, targets)
    idf = fit_idf(features.counts(inputs))
    X = features.transform(inputs, idf)
    targeted = np.array([bool(t) for t in targets] if targets else [False] * len(texts))
    long = np.array([article_min_chars is not None and len(text) >= article_min_chars for text in inputs])
    if 0 < targeted.sum() < len(texts):
        domains, names = targeted.astype(np.int64), list(TARGET_DOMAINS)
    elif 0 < long.sum() < len(texts):
        domains, names = long.astype(np.int64), list(LENGTH_DOMAINS)
    else:
        domains, names = None, ["any"]
    classifier = CalibratedLinearClassifier(
        C=C,
        class_weight=class_weight,
        calibration_class_weight=calibration_class_weight,
        tune_macro_f1=tune_macro_f1,
        random_state=seed,
        calibrate_across_domains=names == list(LENGTH_DOMAINS),
    ).fit(X, labels, sample_weight, domains)
    record = {"versions": library_versions(), "n_train": len(texts), **(info or {})}
    min_chars = article_min_chars if names == list(LENGTH_DOMAINS) else None
    return TextModel(task, features, idf, classifier, record, names, min_chars)


def metrics(gold: list[str], predicted: list[str], labels: list[str] | None = None) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class precision/recall/F1/support and the confusion matrix."""
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

    labels = labels or sorted(set(gold) | set(predicted))
    precision, recall, f1, support = precision_recall_fscore_support(
        gold, predicted, labels=labels, zero_division=0
    )
    gold_labels = [label for label in labels if label in set(gold)]
    return {
        "n": len(gold),
        "accuracy": float(accuracy_score(gold, predicted)),
        # Macro over the classes present in the gold labels, so a model's extra labels do not count.
        "macro_f1": float(f1_score(gold, predicted, labels=gold_labels, average="macro", zero_division=0)),
        "per_class": {
            label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for label, p, r, f, s in zip(labels, precision, recall, f1, support)
        },
        "labels": labels,
        "confusion": confusion_matrix(gold, predicted, labels=labels).tolist(),
    }


def predict_labels(
    model: TextModel, texts: list[str], targets: list[str | None] | None = None, allowed: list[str] | None = None
) -> list[str]:
    """Best label per text, optionally restricted to `allowed` labels (a set with a smaller scheme)."""
    inputs = model_inputs(texts, targets)
    targeted = np.array([bool(t) for t in targets] if targets else [False] * len(texts))
    probabilities = np.zeros((len(texts), len(model.labels)))
    for kind in (False, True):
        rows = np.flatnonzero(targeted == kind)
        if rows.size:
            probabilities[rows] = model.predict_proba([inputs[i] for i in rows], targeted=kind)
    labels = model.labels
    if allowed is not None:
        mask = np.array([label in allowed for label in labels])
        probabilities = np.where(mask, probabilities, -1.0)
    return [labels[i] for i in np.argmax(probabilities, axis=1)]


def evaluate(
    model: TextModel,
    texts: list[str],
    labels: list[str],
    targets: list[str | None] | None = None,
    restrict_to_gold_labels: bool = False,
) -> dict[str, Any]:
    """Metrics of `model` on labelled texts (restricted to the gold label set when asked)."""
    allowed = sorted(set(labels)) if restrict_to_gold_labels else None
    return metrics(labels, predict_labels(model, texts, targets, allowed), sorted(set(labels) | set(model.labels)))


def cross_validate(
    texts: list[str],
    labels: list[str],
    task: str,
    targets: list[str | None] | None = None,
    folds: int = 5,
    seed: int = 0,
    **train_params: Any,
) -> dict[str, Any]:
    """Stratified k-fold: mean and standard deviation of accuracy and macro-F1."""
    from sklearn.model_selection import StratifiedKFold  # training-time only

    y = np.asarray(labels)
    scores = []
    for train_idx, test_idx in StratifiedKFold(folds, shuffle=True, random_state=seed).split(texts, y):
        pick = lambda seq, idx: [seq[i] for i in idx] if seq else None  # noqa: E731
        model = train(pick(texts, train_idx), pick(labels, train_idx), task, pick(targets, train_idx), seed=seed, **train_params)
        scores.append(evaluate(model, pick(texts, test_idx), pick(labels, test_idx), pick(targets, test_idx)))
    acc = np.array([s["accuracy"] for s in scores])
    f1 = np.array([s["macro_f1"] for s in scores])
    return {
        "folds": folds,
        "accuracy_mean": float(acc.mean()),
        "accuracy_std": float(acc.std()),
        "macro_f1_mean": float(f1.mean()),
        "macro_f1_std": float(f1.std()),
    }
