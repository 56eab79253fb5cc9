"""Options of the deduplication stage, grouped in one object instead of long argument lists."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class DedupOptions:
    """What counts as a duplicate, and how the MinHash/LSH search for it is tuned.

    threshold: two paragraphs are duplicates when the exact Jaccard similarity of their shingle
        sets is at least this.
    document_threshold: the same for whole documents (the union of their paragraphs' shingles).
    num_perm: MinHash permutations (signature length).
    shingle_size: words per shingle for ordinary paragraphs.
    char_shingle_size: characters per shingle for short paragraphs (fewer than
        `short_paragraph_words` words), where word shingles would be too few to measure an edit.
    short_paragraph_words: below this many words a paragraph is shingled by characters.
    min_chars: paragraphs whose normalised text is shorter are not compared at all (a dateline or
        "Photo: ..." repeated across pages is the cleaner's business, not a duplicate paragraph).
    lsh_recall: the LSH banding is chosen so that a pair at exactly `threshold` becomes a candidate
        with at least this probability; candidates are then verified exactly, so extra candidates
        cost time, never precision.
    bucket_cap: at most this many earliest items of one LSH bucket are compared with a new item;
        bounds the work on a paragraph repeated thousands of times (exact copies never enter the
        buckets, see `classify.dedup.index`).
    candidate_cap: at most this many candidates are verified per new item, those sharing the most
        LSH bands first; bounds the work on templated text (many earlier paragraphs at J ~ 0.5).
    seed: seed of the MinHash permutations (datasketch's `seed`).
    """

    threshold: float = 0.8
    document_threshold: float = 0.8
    num_perm: int = 128
    shingle_size: int = 5
    char_shingle_size: int = 5
    short_paragraph_words: int = 10
    min_chars: int = 30
    lsh_recall: float = 0.99
    bucket_cap: int = 32
    candidate_cap: int = 64
    seed: int = 1

    def __post_init__(self) -> None:
        for name in ("threshold", "document_threshold", "lsh_recall"):
            value = getattr(self, name)
            if not 0.0 < value <= 1.0:
                raise ValueError(f"{name} must be in (0, 1], got {value!r}")
        for name in ("num_perm", "shingle_size", "char_shingle_size", "bucket_cap", "candidate_cap"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)!r}")
        if self.min_chars < self.char_shingle_size:
            raise ValueError("min_chars must be >= char_shingle_size (every compared paragraph needs a shingle)")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
