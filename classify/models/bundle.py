"""The shipped pair of models and the pipeline's classification stage over `Document`s."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from classify.document import Document, Prediction
from classify.models.model import ModelError, TextModel
from classify.models.sentences import leading_count, split_sentences
from classify.models.stance import aggregate, mark_target, target_pattern

BUNDLE_TASKS = ("topic", "stance")  # a bundle's models, each in the subdirectory of its task
TOP_K = 3
EVIDENCE_SENTENCES = 3
MAX_STANCE_SENTENCES = 60  # per document: bounds the cost of very long pages
MIN_CHUNK_DOCS = 64  # documents per thread task
# With drop_duplicates, a document keeps its flagged duplicates for classification when they are
# more than this share of its clean text: a near copy of an earlier article is about what its
# copied paragraphs say, not about the caption or two left of its own.
MAX_DROPPED_SHARE = 0.5


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


def model_files(directory: Path) -> list[Path]:
    """The files `load_models(directory)` reads: what a cache of loaded models must watch."""
    return [path for task in BUNDLE_TASKS for path in TextModel.files(directory / task)]


def load_models(directory: Path | None = None) -> ModelBundle:
    """Load `directory/topic` and `directory/stance`; raises `ModelError` saying what is wrong."""
    directory = Path(directory) if directory is not None else default_models_dir()
    if not directory.is_dir():
        raise ModelError(
            f"models directory {directory} does not exist (set CLASSIFY_MODELS or run `python models/build.py`)"
        )
    topic, stance = (TextModel.load(directory / task) for task in BUNDLE_TASKS)
    if topic.task != "topic" or stance.task != "stance":
        raise ModelError(f"{directory}: topic/ holds a {topic.task} model, stance/ a {stance.task} model")
    return ModelBundle(topic, stance, directory)


def text_to_classify(doc: Document, drop_duplicates: bool = False) -> str:
    """The text the models read: the clean text, without flagged duplicate paragraphs when
    `drop_duplicates`, unless those are most of it (see MAX_DROPPED_SHARE)."""
    clean = doc.clean_text()
    if not drop_duplicates:
        return clean
    own = doc.clean_text(drop_duplicates=True)
    return own if len(own) >= (1.0 - MAX_DROPPED_SHARE) * len(clean) else clean


def _top(labels: list[str], row: np.ndarray) -> list[tuple[str, float]]:
    order = np.argsort(-row, kind="stable")[:TOP_K]
    return [(labels[i], round(float(row[i]), 4)) for i in order]


def classify_documents(
    docs: list[Document],
    bundle: ModelBundle,
    target: str | None = None,
    drop_duplicates: bool = False,
    n_jobs: int | None = None,
) -> list[Document]:
    """Set `doc.topic` and `doc.stance` from each document's clean text; returns `docs`.

    Topic: one calibrated prediction per document (top-3 in `top`). Stance: the mean sentence
    distribution (see `classify.models.stance`) over the sentences mentioning `target` when one is
    given, else over the leading sentences the topic model reads (within its `max_chars`); at most
    60 per document. A document with no clean text (e.g. not cleaned yet: no lines) gets topic and
    stance None; with a target it never mentions, its stance is None (nothing in it is about it).
    Documents go in chunks to `n_jobs` threads (default: all cores).
    """
    texts = [text_to_classify(doc, drop_duplicates) for doc in docs]
    for doc in docs:
        doc.topic, doc.stance = None, None
    present = [i for i, text in enumerate(texts) if text.strip()]
    n_jobs = n_jobs or os.cpu_count() or 1
    size = max(MIN_CHUNK_DOCS, -(-len(present) // (2 * n_jobs)))
    chunks = [present[i : i + size] for i in range(0, len(present), size)]
    pattern = target_pattern(target) if target else None

    def run(chunk: list[int]) -> None:
        _classify_chunk([docs[i] for i in chunk], [texts[i] for i in chunk], bundle, pattern, target)

    if n_jobs == 1 or len(chunks) <= 1:
        for chunk in chunks:
            run(chunk)
    else:
        with ThreadPoolExecutor(max_workers=n_jobs) as pool:
            list(pool.map(run, chunks))
    return docs


def _classify_chunk(docs, texts, bundle: ModelBundle, pattern, target: str | None) -> None:
    topic, stance = bundle.topic, bundle.stance
    sentences = [split_sentences(text) for text in texts]
    topic_n = [leading_count(s, topic.features.max_chars) for s in sentences]
    if pattern is None:
        # Without a target, stance reads the same leading sentences as topic (the lead of an article
        # carries its tone), so one featurisation serves both models.
        stance_picks = [list(range(min(n, MAX_STANCE_SENTENCES))) for n in topic_n]
    else:
        stance_picks = [[j for j, x in enumerate(s) if pattern.search(x)][:MAX_STANCE_SENTENCES] for s in sentences]
    stance_texts = [sentences[d][j] for d, picks in enumerate(stance_picks) for j in picks]

    if pattern is None and topic.features.same_ngrams(stance.features):
        # One featurisation serves both models: a document's topic counts are the sum of its
        # leading sentences' counts, and the stance sentences are (the first 60 of) those.
        pieces = [x for s, n in zip(sentences, topic_n) for x in s[:n]]
        offsets = np.concatenate(([0], np.cumsum(topic_n)))
        counts = topic.features.sentence_counts(pieces, np.arange(len(pieces)), len(pieces))
        doc_rows = np.repeat(np.arange(len(docs)), topic_n)
        piece_cols = np.concatenate([offsets[d] + np.arange(n) for d, n in enumerate(topic_n)])
        summed = sp.csr_matrix(
            (np.ones(len(piece_cols), dtype=np.float32), (doc_rows, piece_cols)), shape=(len(docs), len(pieces))
        )
        topic_probs = topic.proba_from_counts(summed @ counts, topic.experts_for(texts))
        stance_rows = np.concatenate([offsets[d] + np.asarray(p, dtype=np.int64) for d, p in enumerate(stance_picks)])
        sentence_probs = stance.proba_from_counts(counts[stance_rows], stance.experts_for(stance_texts))
    else:
        topic_pieces = [x for s, n in zip(sentences, topic_n) for x in s[:n]]
        topic_counts = topic.features.sentence_counts(
            topic_pieces, np.repeat(np.arange(len(docs)), topic_n), len(docs)
        )
        topic_probs = topic.proba_from_counts(topic_counts, topic.experts_for(texts))
        inputs = [mark_target(x, pattern) for x in stance_texts] if pattern else stance_texts
        sentence_probs = stance.proba_from_counts(stance.features.counts(inputs), stance.experts_for(inputs, pattern is not None))

    topic_labels = topic.labels
    for doc, row in zip(docs, topic_probs):
        best = int(np.argmax(row))
        doc.topic = Prediction(topic_labels[best], round(float(row[best]), 4), _top(topic_labels, row))

    n_picked = np.array([len(p) for p in stance_picks], dtype=np.int64)
    owners = np.repeat(np.arange(len(docs)), n_picked)
    doc_probs, _ = aggregate(sentence_probs, owners, len(docs))
    run_starts = np.concatenate(([0], np.cumsum(n_picked)))
    stance_labels = stance.labels
    for d, doc in enumerate(docs):
        if n_picked[d] == 0:
            continue
        row = doc_probs[d]
        best = int(np.argmax(row))
        mine = np.arange(run_starts[d], run_starts[d + 1])
        strongest = mine[np.argsort(-sentence_probs[mine, best], kind="stable")[:EVIDENCE_SENTENCES]]
        doc.stance = Prediction(
            stance_labels[best],
            round(float(row[best]), 4),
            _top(stance_labels, row),
            [stance_texts[j] for j in strongest],
            target,
        )
