"""Feature vectors for lines of text (and for HTML blocks, which add DOM evidence).

Per line, the shallow text features of Kohlschütter et al. (WSDM 2010) and jusText (Pomikálek
2011): length in characters and words, sentence-ending punctuation, digit / upper-case / letter
ratios, stop-word density (the best of ru, kk, fr, en), plus the position in the document. Context
is what makes the classifier work on short lines: each line also sees the core features of its
two neighbours on each side, whether the explicit rules call it and its neighbours noise, and
means of length, sentence endings, stop words and rule noise over windows of 3 and 6 lines, so a
short headline inside an article and a short menu entry inside a menu get different answers
(jusText's context-sensitive pass, learned instead of hand-set).

A second stage over text lines (`stacked_features`) sees the first stage's probabilities in their
document context: smoothed over windows, and relative to the best contiguous content segment
(Finn et al. 2001).

HTML blocks add DOM evidence: link density, class/id hints, structural tags, the text and link
density of the parent and grandparent containers, and where the block sits relative to the
Readability best container (`classify.clean.html`).
"""

from __future__ import annotations

import math
import re

import numpy as np

from classify.clean.html import HEADING_TAGS, Page, best_container
from classify.clean.rules import rule_reason
from classify.language import STOPWORDS

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# Unicode code point ranges of letters and upper-case letters in the scripts news comes in
# (Latin with its extensions, Greek, Cyrillic with Kazakh, Arabic, Hebrew, CJK, kana, Hangul):
# counting with numpy over a whole document is far faster than a regex per line.
_LETTER_RANGES = (
    (0x41, 0x5A), (0x61, 0x7A), (0xC0, 0xD6), (0xD8, 0xF6), (0xF8, 0x24F), (0x370, 0x3FF),
    (0x400, 0x52F), (0x5D0, 0x5EA), (0x620, 0x64A), (0x3040, 0x30FF), (0x4E00, 0x9FFF), (0xAC00, 0xD7AF),
)
_UPPER_RANGES = ((0x41, 0x5A), (0xC0, 0xD6), (0xD8, 0xDE), (0x400, 0x42F))
_KAZAKH_UPPER = np.array([ord(c) for c in "ӘҒҚҢӨҰҮҺІ"], dtype=np.uint32)
_NOT_SYMBOL = np.array(sorted(ord(c) for c in " .,;:!?()\"'«»“”’-–—/%_"), dtype=np.uint32)
_SENTENCE_END = re.compile(r"[.!?…:;][\"»”’)\]]*\s*$")
_SENTENCE_INSIDE = re.compile(r"[.!?…]\s+[A-ZА-ЯЁ\"«“]")
_URLISH = re.compile(r"https?://|www\.|\w\.(?:com|net|org|ru|kz|fr|uk|io|info|by|ua|me|tv)\b")  # on lower case
_BULLETISH = re.compile(r"^\s*(?:[\d]+[.)]?\s*|[•·▪►▶➤→*#|>-]\s*)")
# word -> indices of the languages it is a stop word of, so one dict lookup per word suffices.
_STOPWORD_LANGUAGES: dict[str, tuple[int, ...]] = {}
for _index, _words in enumerate(STOPWORDS.values()):
    for _word in _words:
        _STOPWORD_LANGUAGES[_word] = _STOPWORD_LANGUAGES.get(_word, ()) + (_index,)

# The per-line features that neighbours also contribute (order matters: the model depends on it).
CORE_TEXT_FEATURES = (
    "log_chars", "log_words", "sentence_end", "stopword_ratio", "letter_ratio", "comma_rate",
)
OWN_TEXT_FEATURES = CORE_TEXT_FEATURES + (
    "mean_word_len", "digit_ratio", "upper_ratio", "title_case_ratio", "symbol_ratio",
    "sentences_inside", "urlish", "bulletish", "ends_colon", "starts_lower",
)
CONTEXT_OFFSETS = (-2, -1, 1, 2)
RULE_OFFSETS = (-2, -1, 0, 1, 2)
WINDOW_RADII = (3, 6)
WINDOW_FEATURES = ("log_words", "sentence_end", "stopword_ratio", "rule_noise")
POSITION_FEATURES = (
    "relative_position", "is_first", "is_last", "share_of_doc_words", "window_words_3",
    "distance_to_longest", "before_longest", "doc_log_lines", "doc_log_words",
)


def _in_ranges(codes: np.ndarray, ranges: tuple[tuple[int, int], ...]) -> np.ndarray:
    mask = np.zeros(codes.shape, dtype=bool)
    for low, high in ranges:
        mask |= (codes >= low) & (codes <= high)
    return mask


def _class_counts(stripped: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per line: letters, upper-case letters, digits and symbols (not letter, digit, space or
    ordinary punctuation: emoji, arrows, bullets, pipes)."""
    codes = np.frombuffer("".join(stripped).encode("utf-32-le"), dtype=np.uint32)
    ends = np.cumsum([len(t) for t in stripped])
    starts = ends - np.array([len(t) for t in stripped], dtype=int)
    letter = _in_ranges(codes, _LETTER_RANGES)
    upper = _in_ranges(codes, _UPPER_RANGES) | np.isin(codes, _KAZAKH_UPPER)
    digit = (codes >= 0x30) & (codes <= 0x39)
    symbol = ~(letter | digit | np.isin(codes, _NOT_SYMBOL))

    def per_line(mask: np.ndarray) -> np.ndarray:
        cumulative = np.concatenate([[0], np.cumsum(mask)])
        return (cumulative[ends] - cumulative[starts]).astype(float)

    return per_line(letter), per_line(upper), per_line(digit), per_line(symbol)


def text_features(texts: list[str]) -> np.ndarray:
    """OWN_TEXT_FEATURES of each line (one row per line, columns in that order)."""
    stripped = [" ".join(text.split()) for text in texts]
    chars = np.array([len(t) for t in stripped], dtype=float)
    letters, uppers, digits, symbols = _class_counts(stripped)
    rows = []
    for text in stripped:
        words = _WORD.findall(text)
        n_words = len(words)
        per_language = [0] * len(STOPWORDS)
        title_case = alpha_words = 0
        for word in words:
            for language in _STOPWORD_LANGUAGES.get(word.lower(), ()):
                per_language[language] += 1
            if word[0].isalpha():
                alpha_words += 1
                title_case += word[0].isupper()
        rows.append(
            [
                n_words,
                float(bool(_SENTENCE_END.search(text[-6:]))),
                max(per_language) / n_words if n_words else 0.0,
                text.count(",") / max(n_words, 1),
                sum(map(len, words)) / n_words if n_words else 0.0,
                title_case / alpha_words if alpha_words else 0.0,
                float(len(_SENTENCE_INSIDE.findall(text))),
                float(bool(_URLISH.search(text.lower()))),
                float(bool(_BULLETISH.match(text))),
                float(text.endswith(":")),
                float(bool(text) and text[0].islower()),
            ]
        )
    per_line = np.array(rows, dtype=float).reshape(len(texts), 11)
    safe_chars = np.maximum(chars, 1.0)
    return np.column_stack(
        [
            np.log1p(chars),
            np.log1p(per_line[:, 0]),
            per_line[:, 1],
            per_line[:, 2],
            letters / safe_chars,
            per_line[:, 3],
            per_line[:, 4],
            digits / safe_chars,
            uppers / np.maximum(letters, 1.0),
            per_line[:, 5],
            symbols / safe_chars,
            per_line[:, 6:],
        ]
    )


def _context(own: np.ndarray, n_core: int) -> np.ndarray:
    """Neighbours' core features at CONTEXT_OFFSETS (zeros and a flag beyond the document's edges)."""
    n = own.shape[0]
    columns = []
    for offset in CONTEXT_OFFSETS:
        shifted = np.zeros((n, n_core + 1))
        src = np.arange(n) + offset
        valid = (src >= 0) & (src < n)
        shifted[valid, :n_core] = own[src[valid], :n_core]
        shifted[~valid, n_core] = 1.0  # beyond the edge
        columns.append(shifted)
    return np.hstack(columns)


def _position(word_counts: np.ndarray) -> np.ndarray:
    n = len(word_counts)
    index = np.arange(n)
    total = max(word_counts.sum(), 1.0)
    window = _window_mean(word_counts, 3) * 7  # about the words within three lines either side
    longest = int(np.argmax(word_counts)) if n else 0
    return np.column_stack(
        [
            index / max(n - 1, 1),
            index == 0,
            index == n - 1,
            word_counts / total,
            np.log1p(window),
            np.abs(index - longest) / max(n, 1),
            index < longest,
            np.full(n, math.log1p(n)),
            np.full(n, math.log1p(total)),
        ]
    ).astype(float)


def _window_mean(values: np.ndarray, radius: int) -> np.ndarray:
    """Mean of `values` over the lines within `radius` either side (clipped at the edges)."""
    n = len(values)
    cumulative = np.concatenate([[0.0], np.cumsum(values)])
    index = np.arange(n)
    low, high = np.maximum(index - radius, 0), np.minimum(index + radius + 1, n)
    return (cumulative[high] - cumulative[low]) / (high - low)


def _rules_and_windows(own: np.ndarray, texts: list[str]) -> np.ndarray:
    """Whether the explicit rules call the line and its neighbours noise, and windowed means of
    length, sentence endings, stop words and rule noise (the neighbourhood's character)."""
    n = len(texts)
    rule = np.array([rule_reason(t) is not None for t in texts], dtype=float)
    columns = []
    for offset in RULE_OFFSETS:
        shifted = np.zeros(n)
        src = np.arange(n) + offset
        valid = (src >= 0) & (src < n)
        shifted[valid] = rule[src[valid]]
        columns.append(shifted)
    sources = {name: own[:, OWN_TEXT_FEATURES.index(name)] for name in WINDOW_FEATURES[:-1]}
    sources["rule_noise"] = rule
    for radius in WINDOW_RADII:
        columns.extend(_window_mean(sources[name], radius) for name in WINDOW_FEATURES)
    return np.column_stack(columns)


def line_feature_names() -> list[str]:
    context = [
        f"{name}@{offset:+d}" for offset in CONTEXT_OFFSETS for name in (*CORE_TEXT_FEATURES, "edge")
    ]
    rules = [f"rule_noise@{offset:+d}" for offset in RULE_OFFSETS]
    windows = [f"mean_{name}@{radius}" for radius in WINDOW_RADII for name in WINDOW_FEATURES]
    return [*OWN_TEXT_FEATURES, *context, *POSITION_FEATURES, *rules, *windows]


def line_features(texts: list[str]) -> np.ndarray:
    """Feature matrix (one row per non-blank line of a document, in order)."""
    if not texts:
        return np.zeros((0, len(line_feature_names())))
    own = text_features(texts)
    word_counts = np.expm1(own[:, 1])
    return np.hstack(
        [own, _context(own, len(CORE_TEXT_FEATURES)), _position(word_counts), _rules_and_windows(own, texts)]
    )


BLOCK_TAG_GROUPS = ("p", "li", "div", "heading", "td", "blockquote", "pre", "dd", "span_other")
DOM_FEATURES = (
    "link_density", "link_block", "negative_hint", "positive_hint", "in_furniture", "in_article",
    "in_list", "in_table", "in_quote", "in_figure", "in_heading", "log_depth",
    "parent_log_chars", "parent_link_density", "parent_log_blocks",
    "grand_log_chars", "grand_link_density", "grand_log_blocks",
    "in_best", "best_is_ancestor_distance", "parent_score_share", "best_share_of_page",
    "matches_title",
) + tuple(f"tag_{group}" for group in BLOCK_TAG_GROUPS)
DOM_CONTEXT = ("link_density", "in_best", "negative_hint")


def block_feature_names() -> list[str]:
    context = [f"{name}@{offset:+d}" for offset in CONTEXT_OFFSETS for name in DOM_CONTEXT]
    return [*line_feature_names(), *DOM_FEATURES, *context]


def _tag_group(tag: str) -> str:
    if tag in HEADING_TAGS:
        return "heading"
    return tag if tag in BLOCK_TAG_GROUPS else "span_other"


def block_features(page: Page) -> np.ndarray:
    """Feature matrix for the blocks of a rendered page: text features plus DOM evidence."""
    blocks, elements = page.blocks, page.elements
    if not blocks:
        return np.zeros((0, len(block_feature_names())))
    text_part = line_features([b.text for b in blocks])
    best = best_container(elements)
    best_score = elements[best].score if best >= 0 else 1.0
    page_chars = max(sum(len(b.text) for b in blocks), 1)
    best_share = elements[best].chars / page_chars if best >= 0 else 0.0
    title_tokens = set(_WORD.findall(page.title.lower()))
    rows = []
    for block in blocks:
        element = elements[block.element]
        parent = elements[element.parent] if element.parent >= 0 else element
        grand = elements[parent.parent] if parent.parent >= 0 else parent
        # Distance (in ancestors) to the best container, 0 when outside it.
        distance, index = 0, block.element
        while index >= 0 and index != best:
            index = elements[index].parent
            distance += 1
        in_best = index == best and best >= 0
        block_tokens = _WORD.findall(block.text.lower())
        matches_title = (
            sum(t in title_tokens for t in block_tokens) / len(block_tokens) if block_tokens else 0.0
        )
        group = _tag_group(block.tag)
        rows.append(
            [
                block.link_chars / max(len(block.text), 1),
                block.in_link_block,
                math.log1p(block.negative_hint),
                math.log1p(block.positive_hint),
                block.in_furniture,
                block.in_article,
                block.in_list,
                block.in_table,
                block.in_quote,
                block.in_figure,
                block.in_heading,
                math.log1p(block.depth),
                math.log1p(parent.chars),
                parent.link_chars / max(parent.chars, 1),
                math.log1p(parent.blocks),
                math.log1p(grand.chars),
                grand.link_chars / max(grand.chars, 1),
                math.log1p(grand.blocks),
                in_best,
                math.log1p(distance) if in_best else -1.0,
                max(parent.score, element.score) / best_score if best_score else 0.0,
                best_share,
                matches_title,
                *(group == g for g in BLOCK_TAG_GROUPS),
            ]
        )
    dom = np.array(rows, dtype=float)
    context_cols = [DOM_FEATURES.index(name) for name in DOM_CONTEXT]
    context = []
    n = len(blocks)
    for offset in CONTEXT_OFFSETS:
        shifted = np.zeros((n, len(context_cols)))
        src = np.arange(n) + offset
        valid = (src >= 0) & (src < n)
        shifted[valid] = dom[src[valid]][:, context_cols]
        context.append(shifted)
    return np.hstack([text_part, dom, *context])


# ---------------------------------------------------------------- second (stacked) stage over text lines

# Stage-1 probabilities smoothed over these radii (lines either side), plain and word-weighted.
STACK_RADII = (2, 5, 10, 20)
# Cut-offs t of the best-segment search (Finn et al. 2001), low and middle of the probability scale.
SEGMENT_CUTOFFS = (0.3, 0.5)
# Nearest "confident content" line (p >= this) before and after a line, in lines, capped.
CONFIDENT = 0.5
GAP_CAP = 50
STACK_OWN = ("log_chars", "log_words", "sentence_end", "stopword_ratio", "letter_ratio", "digit_ratio",
             "upper_ratio", "title_case_ratio", "urlish", "bulletish", "ends_colon")


def stacked_feature_names() -> list[str]:
    smooth = [f"{kind}_p@{r}" for r in STACK_RADII for kind in ("mean", "word_mean")]
    segment = [
        f"{name}@{t}" for t in SEGMENT_CUTOFFS
        for name in ("in_segment", "lines_to_segment", "words_to_segment", "position_in_segment", "segment_word_share")
    ]
    return [
        "p", *smooth, "max_p@2", "min_p@2", "max_p@5", "previous_p", "next_p",
        "lines_since_confident", "lines_until_confident", *segment,
        "doc_word_mean_p", "doc_confident_share", "doc_log_lines", "doc_log_words", "relative_position",
        *STACK_OWN, "rule_noise@+0",
    ]


def _window_extreme(values: np.ndarray, radius: int, reduce: np.ufunc) -> np.ndarray:
    """max or min (`reduce`) of `values` over the lines within `radius` either side."""
    fill = -np.inf if reduce is np.maximum else np.inf
    padded = np.concatenate([np.full(radius, fill), values, np.full(radius, fill)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * radius + 1)
    return reduce.reduce(windows, axis=1)


def best_segment(gain: np.ndarray) -> tuple[int, int]:
    """[start, stop) of the contiguous run of lines with the largest sum of `gain` (Kadane's
    maximum-subarray in closed form: with prefix sums C, the best run ending at j starts after the
    argmin of C[0..j-1]). Finn, Kushmerick & Smyth, "Fact or fiction: content classification for
    digital libraries" (2001), the Body Text Extraction idea: the article body is the stretch of
    the page that maximises text minus noise."""
    cumulative = np.concatenate([[0.0], np.cumsum(gain)])
    # For each end j >= 1, the index of the minimum of C[0..j-1] (so the run is never empty):
    # positions where a new running minimum is reached, carried forward.
    before = cumulative[:-1]
    is_new_min = before <= np.minimum.accumulate(before)
    min_at = np.maximum.accumulate(np.where(is_new_min, np.arange(len(before)), 0))
    totals = cumulative[1:] - before[min_at]
    end = int(np.argmax(totals))
    return int(min_at[end]), end + 1


def _gaps(flags: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lines since the last flagged line before each line and until the next one after it (capped)."""
    n = len(flags)
    index = np.arange(n)
    last = np.maximum.accumulate(np.where(flags, index, -GAP_CAP - n))
    since = np.concatenate([[GAP_CAP], index[1:] - last[:-1]])
    next_at = np.minimum.accumulate(np.where(flags, index, n + GAP_CAP)[::-1])[::-1]
    until = np.concatenate([next_at[1:] - index[:-1], [GAP_CAP]])
    return np.minimum(since, GAP_CAP), np.minimum(until, GAP_CAP)


def stacked_features(X: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Second-stage features of one document's lines from their stage-1 features `X`
    (`line_features`) and stage-1 content probabilities `p`: the probabilities smoothed over
    neighbourhoods, the gap to the nearest confident content line, where the line lies relative
    to the best contiguous content segment (the segment maximising sum_i (p_i - t) * (words_i + 1),
    see `best_segment`), the document's overall share of prose, and the line's own cheap text
    features. The article of a page dump is mostly one stretch of lines; this lets a short table
    cell or subheading inside it be told from the same kind of line in a menu."""
    n = len(p)
    if n == 0:
        return np.zeros((0, len(stacked_feature_names())))
    names = line_feature_names()
    words = np.expm1(X[:, names.index("log_words")]) + 1.0
    smooth = []
    for radius in STACK_RADII:
        smooth.append(_window_mean(p, radius))
        smooth.append(_window_mean(p * words, radius) / _window_mean(words, radius))
    previous_p = np.concatenate([[0.0], p[:-1]])
    next_p = np.concatenate([p[1:], [0.0]])
    since, until = _gaps(p >= CONFIDENT)
    index = np.arange(n)
    cumulative_words = np.concatenate([[0.0], np.cumsum(words)])
    segment = []
    for cutoff in SEGMENT_CUTOFFS:
        start, stop = best_segment((p - cutoff) * words)
        inside = (index >= start) & (index < stop)
        lines_to = np.where(index < start, start - index, np.where(index >= stop, index - stop + 1, 0))
        words_to = np.where(
            index < start, cumulative_words[start] - cumulative_words[index + 1],
            np.where(index >= stop, cumulative_words[index] - cumulative_words[stop], 0.0),
        )
        position = np.where(inside, (index - start + 0.5) / (stop - start), np.where(index < start, -1.0, 2.0))
        share = (cumulative_words[stop] - cumulative_words[start]) / cumulative_words[-1]
        segment += [inside, np.log1p(lines_to), np.log1p(words_to), position, np.full(n, share)]
    own = [X[:, names.index(name)] for name in STACK_OWN]
    return np.column_stack(
        [
            p, *smooth,
            _window_extreme(p, 2, np.maximum), _window_extreme(p, 2, np.minimum), _window_extreme(p, 5, np.maximum),
            previous_p, next_p, since, until, *segment,
            np.full(n, (p * words).sum() / words.sum()), np.full(n, (p >= CONFIDENT).mean()),
            X[:, names.index("doc_log_lines")], X[:, names.index("doc_log_words")],
            X[:, names.index("relative_position")],
            *own, X[:, names.index("rule_noise@+0")],
        ]
    ).astype(float)
