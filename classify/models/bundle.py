"""The shipped pair of models and the pipeline's classification stage over `Document`s."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from classify.document import Document, Prediction
from classify.models.model import ModelError, TextModel
from classify.models.stance import aggregate, mark_target, split_sentences, target_pattern

TOP_K = 3
EVIDENCE_SENTENCES = 3
MAX_STANCE_SENTENCES = 60  # per document: bounds the cost of very long pages


def default_models_dir() -> Path:
    """$CLASSIFY_MODELS, else the repository's `models/` directory."""
    override = os.environ.get("CLASSIFY_MODELS")
    return Path(override) if override else Path(__file__).resolve().parents[2] / "models"


@dataclass
class ModelBundle:
    """The topic and stance models loaded from one directory (`topic/` and `stance/` inside it)."""

    topic: TextModel
    stance: TextModel
    directory: Path


def load_models(directory: Path | None = None) -> ModelBundle:
    """Load `directory/topic` and `directory/stance`; raises `ModelError` saying what is wrong."""
    directory = Path(directory) if directory is not None else default_models_dir()
    if not directory.is_dir():
        raise ModelError(
            f"models directory {directory} does not exist (set CLASSIFY_MODELS or run `python models/build.py`)"
        )
    topic, stance = TextModel.load(directory / "topic"), TextModel.load(directory / "stance")
    if topic.task != "topic" or stance.task != "stance":
        raise ModelError(f"{directory}: topic/ holds a {topic.task} model, stance/ a {stance.task} model")
    return ModelBundle(topic, stance, directory)


def _top(labels: list[str], row: np.ndarray) -> list[tuple[str, float]]:
    order = np.argsort(-row, kind="stable")[:TOP_K]
    return [(labels[i], round(float(row[i]), 4)) for i in order]


def classify_documents(
    docs: list[Document],
    bundle: ModelBundle,
    target: str | None = None,
    drop_duplicates: bool = False,
) -> list[Document]:
    """Set `doc.topic` and `doc.stance` from each document's clean text; returns `docs`.

    Topic: one calibrated prediction per document (top-3 in `top`). Stance: the mean sentence
    distribution (see `classify.models.stance`), over the sentences mentioning `target` when one is
    given. A document with no clean text gets topic and stance None; with a target it never
    mentions, its stance is None too (nothing in it is about the target).
    """
    texts = [doc.clean_text(drop_duplicates) for doc in docs]
    present = [i for i, text in enumerate(texts) if text.strip()]
    for doc in docs:
        doc.topic, doc.stance = None, None
    if not present:
        return docs

    topic_probs = bundle.topic.predict_proba([texts[i] for i in present])
    topic_labels = bundle.topic.labels
    for row, i in zip(topic_probs, present):
        best = int(np.argmax(row))
        docs[i].topic = Prediction(topic_labels[best], round(float(row[best]), 4), _top(topic_labels, row))

    pattern = target_pattern(target) if target else None
    originals, model_inputs, owners = [], [], []
    for i in present:
        chosen = split_sentences(texts[i])
        if pattern is not None:
            chosen = [s for s in chosen if pattern.search(s)]
        chosen = chosen[:MAX_STANCE_SENTENCES]
        originals.extend(chosen)
        model_inputs.extend([mark_target(s, pattern) for s in chosen] if pattern else chosen)
        owners.extend([i] * len(chosen))
    owner_array = np.asarray(owners, dtype=np.int64)
    sentence_probs = bundle.stance.predict_proba(model_inputs)
    doc_probs, counts = aggregate(sentence_probs, owner_array, len(docs))
    # Sentences were appended document by document, so each document's are one contiguous run.
    run_starts = np.concatenate(([0], np.cumsum(counts).astype(np.int64)))
    stance_labels = bundle.stance.labels
    for i in present:
        if counts[i] == 0:
            continue
        row = doc_probs[i]
        best = int(np.argmax(row))
        mine = np.arange(run_starts[i], run_starts[i + 1])
        strongest = mine[np.argsort(-sentence_probs[mine, best], kind="stable")[:EVIDENCE_SENTENCES]]
        docs[i].stance = Prediction(
            stance_labels[best],
            round(float(row[best]), 4),
            _top(stance_labels, row),
            [originals[j] for j in strongest],
            target,
        )
    return docs
