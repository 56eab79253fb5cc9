"""Sentences, target mentions, and the document-level stance aggregated from sentences.

A document's stance is the mean of its sentences' calibrated distributions over
negative/neutral/positive (the expected sentence stance), taken over the sentences that mention
the target when one is named, else over all sentences. The evidence is the sentences that give the
winning label its highest probability.
"""

from __future__ import annotations

import re

import numpy as np

TARGET_TOKEN = "targetentity"  # what a target mention becomes, so the model learns no entity names
NEAR_MARK = "ǂ"  # prefix of words near a target mention: a letter (kept by the features) no language uses
TARGET_WINDOW = 3  # words either side of a mention that also count as "near the target" features
_MIN_STEM = 4


def target_pattern(target: str) -> re.Pattern[str] | None:
    """A case-insensitive pattern for the target's mentions, tolerant of inflection.

    Each word of the target matches a whole word that starts with the target word minus its last
    two letters (at least 4 kept) and has at most 3 letters after that stem: Россия ~ России,
    Россию; Путин ~ Путина; Киев ~ Киеве; but not "российский". A cheap stand-in for lemmatisation.
    """
    words = re.findall(r"\w+", target)
    if not words:
        return None
    parts = []
    for word in words:
        stem = word[: max(_MIN_STEM, len(word) - 2)]
        parts.append(rf"\b{re.escape(stem)}\w{{0,3}}\b")
    return re.compile(r"\W+".join(parts), re.IGNORECASE)


def mark_target(sentence: str, pattern: re.Pattern[str], window: int = TARGET_WINDOW) -> str:
    """Replace every target mention by `TARGET_TOKEN` and append the words within `window` of one.

    The appended words carry `NEAR_MARK`, so they hash to their own features: what is said right
    next to the target weighs separately from the rest of the sentence (RuSentNE sentences often
    name several entities with different stances).
    """
    masked = pattern.sub(f" {TARGET_TOKEN} ", sentence)
    words = re.findall(r"\w+", masked)
    at = [i for i, word in enumerate(words) if word == TARGET_TOKEN]
    near = sorted({j for i in at for j in range(max(0, i - window), min(len(words), i + window + 1))})
    context = " ".join(NEAR_MARK + words[j] for j in near if words[j] != TARGET_TOKEN)
    return f"{masked} {context}" if context else masked


def aggregate(
    probabilities: np.ndarray, owners: np.ndarray, n_docs: int
) -> tuple[np.ndarray, np.ndarray]:
    """Mean sentence distribution per document; `owners[i]` is sentence i's document index.

    Returns (doc_probabilities, sentence_counts); documents with no sentence get zero rows.
    """
    counts = np.bincount(owners, minlength=n_docs).astype(np.float64)
    sums = np.zeros((n_docs, probabilities.shape[1]))
    np.add.at(sums, owners, probabilities)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], 0.0)
    return means, counts
