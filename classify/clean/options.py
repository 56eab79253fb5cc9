"""Options of the cleaning stage, grouped in one object instead of long argument lists."""

from __future__ import annotations

from dataclasses import dataclass

FAVOR_CHOICES = ("precision", "balanced", "recall")


@dataclass(frozen=True, slots=True)
class CleanOptions:
    """How the cleaner trades precision against recall, and which evidence it uses.

    favor: which of the classifiers' probability thresholds to use. The thresholds are chosen by
        grouped cross-validation when the models are built (`models/build_line_model.py`) and
        stored with them: "precision" maximises F0.5; "balanced" (default) is F1-optimal for HTML
        blocks and F2-optimal for text lines, ties broken towards keeping text, because losing an
        article sentence is worse than keeping a credit line; "recall" maximises F3, skips
        the context rule that drops short lines between noise lines and keeps the weakly removed
        lines between kept ones (a separator, a table's figures, a list's short items).
    min_source_repeats, min_source_share: a line found in at least max(min_source_repeats,
        min_source_share x the source's documents) documents of the same source (site, channel,
        input directory) is boilerplate, however sentence-like it looks. The share keeps a large
        source's occasional repeated sentence (a background paragraph reused in three of its ten
        thousand articles: the dedup stage's business) from counting as its boilerplate, which
        recurs in a steady share of its documents.
    copies_counted_once: up to this many exact copies of one document in a source (a page fetched
        under several URLs, in several encodings) count as one document in that evidence, so an
        article's copies do not make its paragraphs look like the site's slogans. A text the source
        repeats more often (a channel's recurring promo post) is its boilerplate: each copy beyond
        counts. 1 counts every copy.
    keep_title: keep an HTML page's headline (its <h1> matching the <title>), which article
        bodies in extraction benchmarks leave out but news processing wants.
    use_rules: apply the explicit noise rules (tickers, credits, reprint and subscribe notices,
        lines without letters) before the classifier.
    models_dir: where the classifiers are read from (default: the shipped `models/`); the
        benchmark points it at models trained without the pages being scored.
    """

    favor: str = "balanced"
    min_source_repeats: int = 3
    min_source_share: float = 0.005
    copies_counted_once: int = 3
    keep_title: bool = True
    use_rules: bool = True
    models_dir: str | None = None

    def __post_init__(self) -> None:
        if self.favor not in FAVOR_CHOICES:
            raise ValueError(f"favor must be one of {FAVOR_CHOICES}, got {self.favor!r}")
        if self.min_source_repeats < 2:
            raise ValueError("min_source_repeats must be >= 2 (one document is not a repetition)")
        if self.copies_counted_once < 1:
            raise ValueError("copies_counted_once must be >= 1")
        if not 0.0 <= self.min_source_share < 1.0:
            raise ValueError("min_source_share must be in [0, 1)")
