"""Main-content extraction from HTML: every block of the page scored by the block classifier.

`render_page` cuts the page into blocks with their DOM evidence, `block_features` turns them into
vectors (text, context, link density, class/id hints, text density of the containers, Readability
paragraph scores) and the shipped block model (`models/clean_blocks`, built by
`models/build_line_model.py`) gives each block its content probability.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from classify.clean.features import block_feature_names, block_features
from classify.clean.html import headline_block, render_page
from classify.clean.lines import load_model, threshold_for

BLOCK_MODEL = "clean_blocks"


@dataclass(slots=True)
class ScoredPage:
    """The page's blocks in reading order, their P(content), and which one is the headline."""

    texts: list[str]
    scores: np.ndarray
    headline: int | None  # index of the <h1> block that matches the page title, if any


def score_html(html: str, models_dir: str | None = None) -> ScoredPage:
    """Render `html` into blocks and score each with the block model."""
    page = render_page(html)
    texts = [block.text for block in page.blocks]
    model = load_model(BLOCK_MODEL, models_dir)
    if model.feature_names != block_feature_names():
        raise ValueError("models/clean_blocks was built with other features: rebuild it")
    scores = model.predict_proba(block_features(page))[:, 1] if texts else np.zeros(0)
    return ScoredPage(texts, scores, headline_block(page))


def block_threshold(favor: str, models_dir: str | None = None) -> float:
    """The block model's content-probability threshold for `favor`."""
    return threshold_for(load_model(BLOCK_MODEL, models_dir), favor)
