"""Line-level gold from a page-level gold text, and the article-extraction benchmark's metric.

The Scrapinghub article-extraction benchmark gives, per page, the article text a person marked as
content. Our classifiers decide per line (or per HTML block), so the gold is projected onto lines:
a line is content when most of its 4-token shingles occur in the gold text; a line too short for
a shingle is content when its tokens occur contiguously in the gold text next to a content line.

The metric is the benchmark's: both texts become lower-cased \\w+ tokens, then 4-token shingles
counted with multiplicity; per page TP (shared), FP (predicted only) and FN (gold only) are
normalised to sum to 1, averaged over pages, and P = TP/(TP+FP), R = TP/(TP+FN), F1 their
harmonic mean (scrapinghub/article-extraction-benchmark, evaluate.py).
"""

from __future__ import annotations

import re
from collections import Counter

_TOKEN = re.compile(r"\w+", re.UNICODE)
SHINGLE = 4


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def shingles(text: str, size: int = SHINGLE) -> Counter:
    """Multiset of `size`-token shingles; a text shorter than `size` is one shingle of itself."""
    toks = tokens(text)
    if len(toks) < size:
        return Counter([tuple(toks)]) if toks else Counter()
    return Counter(tuple(toks[i : i + size]) for i in range(len(toks) - size + 1))


def page_counts(predicted: str, gold: str) -> tuple[float, float, float]:
    """(tp, fp, fn) of one page, normalised to sum to 1 (all zero when both texts are empty)."""
    pred, true = shingles(predicted), shingles(gold)
    tp = sum((pred & true).values())
    fp = sum(pred.values()) - tp
    fn = sum(true.values()) - tp
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def prf(counts: list[tuple[float, float, float]]) -> dict[str, float]:
    """Precision, recall and F1 from per-page normalised counts averaged over pages."""
    n = max(len(counts), 1)
    tp = sum(c[0] for c in counts) / n
    fp = sum(c[1] for c in counts) / n
    fn = sum(c[2] for c in counts) / n
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def label_lines(lines: list[str], gold: str, min_overlap: float = 0.5) -> list[bool]:
    """Project a page's gold text onto its lines: True where the line belongs to the gold text."""
    gold_tokens = tokens(gold)
    gold_shingles = set(tuple(gold_tokens[i : i + SHINGLE]) for i in range(len(gold_tokens) - SHINGLE + 1))
    gold_joined = f" {' '.join(gold_tokens)} "
    labels: list[bool | None] = []
    for line in lines:
        toks = tokens(line)
        if len(toks) >= SHINGLE:
            grams = [tuple(toks[i : i + SHINGLE]) for i in range(len(toks) - SHINGLE + 1)]
            labels.append(sum(g in gold_shingles for g in grams) / len(grams) >= min_overlap)
        elif toks and f" {' '.join(toks)} " in gold_joined:
            labels.append(None)  # short and present in the gold: decided by its neighbours below
        else:
            labels.append(False)
    resolved: list[bool] = []
    for i, label in enumerate(labels):
        if label is None:
            before = next((labels[j] for j in range(i - 1, -1, -1) if labels[j] is not None), False)
            after = next((labels[j] for j in range(i + 1, len(labels)) if labels[j] is not None), False)
            label = bool(before or after)
        resolved.append(label)
    return resolved
