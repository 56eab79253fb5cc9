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
    """The page's lines in reading order: blocks with their P(content), and pruned furniture
    (score 0, with the tag that pruned it); and which line is the headline."""

    texts: list[str]
    scores: np.ndarray
    furniture: list[str | None]  # the pruning tag of furniture lines, None for scored blocks
    headline: int | None  # index of the <h1> line that matches the page title, if any
    containers: list[int]  # the element holding each block's element (-1 for furniture lines)


def score_html(html: str, models_dir: str | None = None) -> ScoredPage:
    """Render `html` into blocks (furniture pruned) and score each with the block model."""
    page = render_page(html, prune=True)
    model = load_model(BLOCK_MODEL, models_dir)
    if model.feature_names != block_feature_names():
        raise ValueError("models/clean_blocks was built with other features: rebuild it")
    block_scores = model.predict_proba(block_features(page))[:, 1] if page.blocks else np.zeros(0)
    headline = headline_block(page)  # index among the blocks; its line index is found below
    headline_line = None
    texts: list[str] = []
    scores: list[float] = []
    furniture: list[str | None] = []
    containers: list[int] = []
    pending = iter(page.pruned)
    next_pruned = next(pending, None)
    for index in range(len(page.blocks) + 1):
        while next_pruned is not None and next_pruned.position == index:
            texts.append(next_pruned.text)
            scores.append(0.0)
            furniture.append(next_pruned.tag)
            containers.append(-1)
            next_pruned = next(pending, None)
        if index == len(page.blocks):
            break
        if index == headline:
            headline_line = len(texts)
        texts.append(page.blocks[index].text)
        scores.append(float(block_scores[index]))
        furniture.append(None)
        containers.append(int(page.elements.parent[page.blocks[index].element]))
    return ScoredPage(texts, np.asarray(scores), furniture, headline_line, containers)


def block_threshold(favor: str, models_dir: str | None = None) -> float:
    """The block model's content-probability threshold for `favor`."""
    return threshold_for(load_model(BLOCK_MODEL, models_dir), favor)
