"""Options of the cleaning stage, grouped in one object instead of long argument lists."""

from __future__ import annotations

from dataclasses import dataclass

FAVOR_CHOICES = ("precision", "balanced", "recall")


@dataclass(frozen=True, slots=True)
class CleanOptions:
    """How the cleaner trades precision against recall.

    favor: "recall" keeps a doubtful line unless everything around it is noise; "precision" drops a
        doubtful line unless it sits between content lines; "balanced" (default) leans to recall,
        because losing an article sentence is worse than keeping a credit line.
    min_content_words: a line with at least this many words and sentence punctuation is content
        on its own evidence; shorter lines are judged by their neighbours.
    """

    favor: str = "balanced"
    min_content_words: int = 8

    def __post_init__(self) -> None:
        if self.favor not in FAVOR_CHOICES:
            raise ValueError(f"favor must be one of {FAVOR_CHOICES}, got {self.favor!r}")
