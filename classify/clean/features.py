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
from dataclasses import dataclass
from functools import lru_cache
from itertools import repeat

import numpy as np

from classify.clean.html import HEADING_TAGS, Page, best_container
from classify.clean.rules import rule_reason
from classify.language import STOPWORDS

# Unicode code point ranges of letters and upper-case letters in the scripts news comes in
# (Latin with its extensions, Greek, Cyrillic with Kazakh, Arabic, Hebrew, CJK, kana, Hangul).
_LETTER_RANGES = (
    (0x41, 0x5A), (0x61, 0x7A), (0xC0, 0xD6), (0xD8, 0xF6), (0xF8, 0x24F), (0x370, 0x3FF),
    (0x400, 0x52F), (0x5D0, 0x5EA), (0x620, 0x64A), (0x3040, 0x30FF), (0x4E00, 0x9FFF), (0xAC00, 0xD7AF),
)
_UPPER_RANGES = ((0x41, 0x5A), (0xC0, 0xD6), (0xD8, 0xDE), (0x400, 0x42F))  # all inside _LETTER_RANGES
_KAZAKH_UPPER = [ord(c) for c in "ӘҒҚҢӨҰҮҺІ"]
_PLAIN_PUNCTUATION = [ord(c) for c in " .,;:!?()\"'«»“”’-–—/%_"]
_SENTENCE_END = re.compile(r"[.!?…:;][\"»”’)\]]*\s*$")
_SENTENCE_INSIDE = re.compile(r"[.!?…]\s+[A-ZА-ЯЁ\"«“]")
# A line is URL-like when its lower-cased text has a scheme, "www." or a word character followed
# by a common top-level domain ("\w\.(?:com|...)\b"); the patterns start with literals, so
# re finds candidates by a fast substring search instead of trying every position.
_URL_CUES = (re.compile(r"https?://"), re.compile(r"www\."))
_DOMAIN_END = re.compile(r"\.(?:com|net|org|ru|kz|fr|uk|io|info|by|ua|me|tv)\b")
_BULLETISH = re.compile(r"^\s*(?:[\d]+[.)]?\s*|[•·▪►▶➤→*#|>-]\s*)")
# word -> bit mask of the languages it is a stop word of (bit k: the k-th of STOPWORDS).
_STOPWORD_LANGUAGES: dict[str, int] = {}
for _index, _words_of_language in enumerate(STOPWORDS.values()):
    for _word in _words_of_language:
        _STOPWORD_LANGUAGES[_word] = _STOPWORD_LANGUAGES.get(_word, 0) | (1 << _index)
_WORD = re.compile(r"[^\W_]+")  # a word, as `_scan` finds them (runs of letters and digits)
# A document's lines are scanned as one string, joined by this character: no pattern or class
# used here matches it, so each line's words and matches are those it has on its own.
_SEPARATOR = "\x00"

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


# Character categories counted per line (disjoint): the letter ranges split into upper and other,
# ASCII digits, commas, plain punctuation and spaces, and symbols (everything else: emoji, arrows,
# bullets, pipes, and the code points above the Basic Multilingual Plane).
_OTHER, _LOWER, _UPPER, _DIGIT, _COMMA, _SYMBOL = range(6)


def _characters(codes: np.ndarray) -> np.ndarray:
    """Code points (uint32) as an array of one-character strings, for numpy's str predicates
    (np.char.isalpha etc. apply Python's own Unicode tests; in C since numpy 2)."""
    return np.ascontiguousarray(codes, dtype=np.uint32).view("<U1")


def _category_table() -> np.ndarray:
    """The category of every code point of the Basic Multilingual Plane."""
    category = np.full(0x10000, _SYMBOL, dtype=np.int64)
    for low, high in _LETTER_RANGES:
        category[low : high + 1] = _LOWER
    for low, high in _UPPER_RANGES:
        category[low : high + 1] = _UPPER
    category[_KAZAKH_UPPER] = _UPPER
    category[0x30:0x3A] = _DIGIT
    category[_PLAIN_PUNCTUATION] = _OTHER
    category[ord(",")] = _COMMA
    return category


# One table lookup per character instead of a regex or a comparison per range: the categories,
# and whether a character is a word character of [^\W_] (str.isalnum, the test re uses).
_CATEGORY = _category_table()
_IS_WORD = np.char.isalnum(_characters(np.arange(0x10000)))
for _table in (_CATEGORY, _IS_WORD):
    _table.flags.writeable = False


def _line_starts(lines: list[str]) -> np.ndarray:
    """Offset of each line in the lines joined by _SEPARATOR, with one after each line."""
    return np.concatenate([[0], np.cumsum([len(line) + 1 for line in lines])[:-1]]).astype(np.int64)


def _match_lines(pattern: re.Pattern, joined: str, line_start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start offsets of the non-overlapping matches of `pattern` in `joined` (lines joined by
    _SEPARATOR, which no pattern here matches), and the line of each."""
    starts = np.array([m.start() for m in pattern.finditer(joined)], dtype=np.int64)
    return starts, np.searchsorted(line_start, starts, side="right") - 1


@dataclass(slots=True)
class _Scan:
    """A document's whitespace-normalised lines, scanned once.

    counts: per line, the characters of each category (columns _OTHER ... _SYMBOL), then words,
    the best stop-word count of one language, characters in words, words starting with a
    letter, and of those, words starting upper-case.
    """

    lines: list[str]
    joined: str  # the lines, each followed by _SEPARATOR
    codes: np.ndarray  # code points of `joined`
    line_start: np.ndarray  # offset of each line in `joined`
    lengths: np.ndarray
    counts: np.ndarray
    lowered_words: list[str]  # the lines' words ([^\W_]+ runs), lower-cased, in reading order
    word_line: np.ndarray  # the line of each word

    @property
    def words_per_line(self) -> np.ndarray:
        return self.counts[:, _SYMBOL + 1]


def _scan(stripped: list[str]) -> _Scan:
    """Character categories, words, stop words and word shapes of every line, from whole-document
    array operations and one lower-casing of all words, instead of a regex and a loop per line."""
    n = len(stripped)
    lengths = np.array([len(t) for t in stripped], dtype=np.int64)
    line_start = _line_starts(stripped)
    joined = _SEPARATOR.join(stripped) + _SEPARATOR
    codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
    bmp = np.minimum(codes, 0xFFFF)
    category = _CATEGORY[bmp]  # a fresh array
    category[line_start + lengths] = _OTHER  # the separators are no symbols
    is_word = _IS_WORD[bmp]
    astral = np.flatnonzero(codes > 0xFFFF)
    if len(astral):  # emoji, historic scripts, mathematical letters
        is_word[astral] = np.char.isalnum(_characters(codes[astral]))
    line_of_char = np.repeat(np.arange(n), lengths + 1)
    categories = np.bincount(line_of_char * 6 + category, minlength=n * 6).reshape(n, 6)
    # Words are the maximal runs of word characters: with every other character made a space,
    # str.split yields them all at once, and one lower-casing serves every word (spaces keep
    # each word's own case context, e.g. for a final sigma).
    edges = np.diff(np.concatenate([[0], is_word.view(np.int8), [0]]))
    word_start, word_end = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    words_only = np.where(is_word, codes, ord(" ")).astype(np.uint32).tobytes().decode("utf-32-le")
    lowered = words_only.lower().split()
    word_line = line_of_char[word_start]
    # Per line, sums over its words: each language's stop words (the best language counts), the
    # word lengths, the words starting with a letter and those starting upper-case. Bincounts of
    # integer weights, so exact.
    first = codes[word_start]
    is_alpha = np.char.isalpha(_characters(first))
    languages = np.fromiter(map(_STOPWORD_LANGUAGES.get, lowered, repeat(0)), dtype=np.int64, count=len(lowered))

    def per_line(weights: np.ndarray | None = None) -> np.ndarray:
        return np.bincount(word_line, weights=weights, minlength=n)

    stopwords = np.max([per_line((languages >> k) & 1) for k in range(len(STOPWORDS))], axis=0, initial=0)
    word_counts = np.column_stack(
        [
            per_line(), stopwords, per_line(word_end - word_start), per_line(is_alpha),
            per_line(is_alpha & np.char.isupper(_characters(first))),
        ]
    )
    return _Scan(
        stripped, joined, codes, line_start, lengths, np.hstack([categories, word_counts]).astype(float), lowered,
        word_line,
    )


def _url_like(scan: _Scan) -> np.ndarray:
    """Whether each line, lower-cased, has a URL cue: a scheme, "www." or a word character
    followed by a common top-level domain."""
    lowered, line_start = scan.joined.lower(), scan.line_start
    if len(lowered) != len(scan.joined):  # a character lower-cases to two: offsets shift
        lines = [line.lower() for line in scan.lines]
        lowered, line_start = _SEPARATOR.join(lines) + _SEPARATOR, _line_starts(lines)
    found = np.zeros(len(scan.lines), dtype=bool)
    for pattern in _URL_CUES:
        found[_match_lines(pattern, lowered, line_start)[1]] = True
    starts, lines = _match_lines(_DOMAIN_END, lowered, line_start)
    for start, line in zip(starts.tolist(), lines.tolist()):
        before = lowered[start - 1] if start else _SEPARATOR
        found[line] |= before.isalnum() or before == "_"  # the \w before the dot
    return found


def text_features(texts: list[str]) -> np.ndarray:
    """OWN_TEXT_FEATURES of each line (one row per line, columns in that order)."""
    return _text_features(_scan([" ".join(text.split()) for text in texts]))


def _text_features(scan: _Scan) -> np.ndarray:
    counts, lengths, n = scan.counts, scan.lengths, len(scan.lines)
    letters = counts[:, _LOWER] + counts[:, _UPPER]
    n_words, stopwords, word_chars, alpha_words, title_case = counts[:, _SYMBOL + 1 :].T
    some_words = np.maximum(n_words, 1.0)
    safe_chars = np.maximum(lengths, 1.0)
    non_empty = lengths > 0
    return np.column_stack(
        [
            np.log1p(lengths.astype(float)),
            np.log1p(n_words),
            [m is not None for m in map(_SENTENCE_END.search, [t[-6:] for t in scan.lines])],
            np.where(n_words > 0, stopwords / some_words, 0.0),
            letters / safe_chars,
            counts[:, _COMMA] / some_words,
            np.where(n_words > 0, word_chars / some_words, 0.0),
            counts[:, _DIGIT] / safe_chars,
            counts[:, _UPPER] / np.maximum(letters, 1.0),
            np.where(alpha_words > 0, title_case / np.maximum(alpha_words, 1.0), 0.0),
            counts[:, _SYMBOL] / safe_chars,
            np.bincount(_match_lines(_SENTENCE_INSIDE, scan.joined, scan.line_start)[1], minlength=n),
            _url_like(scan),
            [m is not None for m in map(_BULLETISH.match, scan.lines)],
            non_empty & (scan.codes[scan.line_start + lengths - 1] == ord(":")),
            non_empty & np.char.islower(_characters(scan.codes[scan.line_start])),
        ]
    ).reshape(n, len(OWN_TEXT_FEATURES)).astype(float)


def _shifted_rows(values: np.ndarray, offsets: tuple[int, ...], edge_flag: bool = False) -> np.ndarray:
    """For each offset in turn, the columns of `values` (n, k) with row i taken from row i + offset:
    zeros beyond the document's edges, and with `edge_flag` one more column, 1 there. All offsets
    are slices of one zero-padded copy."""
    n, k = values.shape
    pad = max(abs(offset) for offset in offsets)
    padded = np.zeros((n + 2 * pad, k + edge_flag))
    padded[pad : pad + n, :k] = values
    if edge_flag:
        padded[:pad, k] = padded[pad + n :, k] = 1.0
    return np.hstack([padded[pad + offset : pad + offset + n] for offset in offsets])


def _context(own: np.ndarray, n_core: int) -> np.ndarray:
    """Neighbours' core features at CONTEXT_OFFSETS (zeros and a flag beyond the document's edges)."""
    return _shifted_rows(own[:, :n_core], CONTEXT_OFFSETS, edge_flag=True)


def _position(word_counts: np.ndarray) -> np.ndarray:
    n = len(word_counts)
    index = np.arange(n)
    total = max(word_counts.sum(), 1.0)
    window = _window_means(word_counts, (3,))[0] * 7  # about the words within three lines either side
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


def _window_means(values: np.ndarray, radii: tuple[int, ...]) -> list[np.ndarray]:
    """For each radius, the mean of `values` (one per line, or one column per quantity) over the
    lines within that radius either side, clipped at the edges: differences of one running sum."""
    n = len(values)
    columns = values[:, None] if values.ndim == 1 else values
    cumulative = np.zeros((n + 1, columns.shape[1]))
    np.cumsum(columns, axis=0, out=cumulative[1:])
    index = np.arange(n)
    means = []
    for radius in radii:
        low, high = np.maximum(index - radius, 0), np.minimum(index + radius + 1, n)
        means.append(((cumulative[high] - cumulative[low]) / (high - low)[:, None]).reshape(values.shape))
    return means


def _rules_and_windows(own: np.ndarray, texts: list[str]) -> np.ndarray:
    """Whether the explicit rules call the line and its neighbours noise, and windowed means of
    length, sentence endings, stop words and rule noise (the neighbourhood's character)."""
    rule = np.array([rule_reason(t) is not None for t in texts], dtype=float)
    sources = np.column_stack([own[:, [OWN_TEXT_FEATURES.index(name) for name in WINDOW_FEATURES[:-1]]], rule])
    return np.hstack(
        [_shifted_rows(rule[:, None], RULE_OFFSETS), *_window_means(sources, WINDOW_RADII)]
    )


@lru_cache(maxsize=1)
def _line_feature_columns() -> dict[str, int]:
    """Column of each line feature by name (asked per document by the second stage)."""
    return {name: i for i, name in enumerate(line_feature_names())}


def line_feature_names() -> list[str]:
    context = [
        f"{name}@{offset:+d}" for offset in CONTEXT_OFFSETS for name in (*CORE_TEXT_FEATURES, "edge")
    ]
    rules = [f"rule_noise@{offset:+d}" for offset in RULE_OFFSETS]
    windows = [f"mean_{name}@{radius}" for radius in WINDOW_RADII for name in WINDOW_FEATURES]
    return [*OWN_TEXT_FEATURES, *context, *POSITION_FEATURES, *rules, *windows]


def line_features(texts: list[str]) -> np.ndarray:
    """Feature matrix (one row per non-blank line of a document, in order)."""
    return line_features_documents([texts])[0]


def line_features_documents(documents: list[list[str]]) -> list[np.ndarray]:
    """`line_features` of each document. The lines' own text features come from one scan of
    all the documents' lines (they depend on the line alone); context, position and windows
    are then made document by document."""
    texts = [text for lines in documents for text in lines]
    own = _text_features(_scan([" ".join(text.split()) for text in texts]))
    features, start = [], 0
    for lines in documents:
        features.append(_document_features(lines, own[start : start + len(lines)]))
        start += len(lines)
    return features


def _document_features(texts: list[str], own: np.ndarray) -> np.ndarray:
    """A document's line features from its lines' own text features (`_text_features`)."""
    if not texts:
        return np.zeros((0, len(line_feature_names())))
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
# Tag -> its column among the tag_* features (headings share one; unlisted tags are span_other).
_TAG_GROUP = {
    **{tag: BLOCK_TAG_GROUPS.index(tag) for tag in BLOCK_TAG_GROUPS},
    **{tag: BLOCK_TAG_GROUPS.index("heading") for tag in HEADING_TAGS},
}
_OTHER_TAG = BLOCK_TAG_GROUPS.index("span_other")


def block_feature_names() -> list[str]:
    context = [f"{name}@{offset:+d}" for offset in CONTEXT_OFFSETS for name in DOM_CONTEXT]
    return [*line_feature_names(), *DOM_FEATURES, *context]


def _log1p_counts(counts: np.ndarray) -> np.ndarray:
    """log(1 + n) of non-negative integer counts as `math.log1p` gives it. numpy's vectorised
    log1p may differ from it in the last bit, and the block model's trees split exactly at
    frequent values such as log(3), so the features keep the function they were trained with;
    small counts come from a table of its values."""
    counts = np.asarray(counts)
    if counts.size and counts.max() < len(_LOG1P_TABLE):
        return _LOG1P_TABLE[counts]
    return np.array([math.log1p(n) for n in counts.ravel().tolist()]).reshape(counts.shape)


_LOG1P_TABLE = np.array([math.log1p(n) for n in range(4096)])
_LOG1P_TABLE.flags.writeable = False


def block_features(page: Page) -> np.ndarray:
    """Feature matrix for the blocks of a rendered page: text features plus DOM evidence."""
    blocks, elements = page.blocks, page.elements
    if not blocks:
        return np.zeros((0, len(block_feature_names())))
    texts = [b.text for b in blocks]
    scan = _scan([" ".join(text.split()) for text in texts])
    text_part = _document_features(texts, _text_features(scan))
    # Columns of the blocks and of the elements, so the DOM features are whole-array operations.
    own = np.array(
        [
            (b.element, b.link_chars, len(b.text), b.in_link_block, b.negative_hint, b.positive_hint,
             b.in_furniture, b.in_article, b.in_list, b.in_table, b.in_quote, b.in_figure, b.in_heading,
             b.depth, _TAG_GROUP.get(b.tag, _OTHER_TAG))
            for b in blocks
        ],
        dtype=np.int64,
    )
    element, link_chars, chars = own[:, 0], own[:, 1], own[:, 2]
    depth_of, score_of = elements.depth, elements.score
    parent_of, chars_of, link_of, blocks_of = elements.parent, elements.chars, elements.link_chars, elements.blocks
    parent = np.where(parent_of[element] >= 0, parent_of[element], element)
    grand = np.where(parent_of[parent] >= 0, parent_of[parent], parent)
    best = best_container(elements)
    if best >= 0:
        # Elements are numbered in document order, so the best container's subtree is the run
        # of elements after it that are deeper than it.
        after = np.flatnonzero(depth_of[best + 1 :] <= depth_of[best])
        subtree_end = best + 1 + (int(after[0]) if len(after) else len(elements) - best - 1)
        in_best = (element >= best) & (element < subtree_end)
        distance = np.where(in_best, _log1p_counts(np.maximum(depth_of[element] - depth_of[best], 0)), -1.0)
        score_share = np.maximum(score_of[parent], score_of[element]) / score_of[best]
        best_share = chars_of[best] / max(int(chars.sum()), 1)
    else:
        in_best = np.zeros(len(blocks), dtype=bool)
        distance = np.full(len(blocks), -1.0)
        score_share = np.maximum(score_of[parent], score_of[element])
        best_share = 0.0
    title_words = {word.lower() for word in _WORD.findall(page.title)}  # as _scan's words
    in_title = np.fromiter(map(title_words.__contains__, scan.lowered_words), dtype=bool, count=len(scan.lowered_words))
    title_hits = np.bincount(scan.word_line, weights=in_title, minlength=len(blocks))
    dom = np.column_stack(
        [
            link_chars / np.maximum(chars, 1),
            own[:, 3],
            _log1p_counts(own[:, 4:6]),
            own[:, 6:13],
            _log1p_counts(own[:, 13]),
            _log1p_counts(chars_of[parent]),
            link_of[parent] / np.maximum(chars_of[parent], 1),
            _log1p_counts(blocks_of[parent]),
            _log1p_counts(chars_of[grand]),
            link_of[grand] / np.maximum(chars_of[grand], 1),
            _log1p_counts(blocks_of[grand]),
            in_best,
            distance,
            score_share,
            np.full(len(blocks), best_share),
            np.where(scan.words_per_line > 0, title_hits / np.maximum(scan.words_per_line, 1), 0.0),
            own[:, 14:15] == np.arange(len(BLOCK_TAG_GROUPS)),
        ]
    ).astype(float)
    context = dom[:, [DOM_FEATURES.index(name) for name in DOM_CONTEXT]]
    return np.hstack([text_part, dom, _shifted_rows(context, CONTEXT_OFFSETS)])


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
    """max or min (`reduce`) of `values` over the lines within `radius` either side: the 2r + 1
    shifted copies of the padded values reduced pairwise."""
    n = len(values)
    fill = -np.inf if reduce is np.maximum else np.inf
    padded = np.concatenate([np.full(radius, fill), values, np.full(radius, fill)])
    result = padded[:n].copy()
    for shift in range(1, 2 * radius + 1):
        reduce(result, padded[shift : shift + n], out=result)
    return result


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
    column = _line_feature_columns()
    words = np.expm1(X[:, column["log_words"]]) + 1.0
    smooth = []
    for means in _window_means(np.column_stack([p, p * words, words]), STACK_RADII):
        mean_p, mean_pw, mean_words = means.T
        smooth += [mean_p, mean_pw / mean_words]
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
    own = [X[:, column[name]] for name in STACK_OWN]
    return np.column_stack(
        [
            p, *smooth,
            _window_extreme(p, 2, np.maximum), _window_extreme(p, 2, np.minimum), _window_extreme(p, 5, np.maximum),
            previous_p, next_p, since, until, *segment,
            np.full(n, (p * words).sum() / words.sum()), np.full(n, (p >= CONFIDENT).mean()),
            X[:, column["doc_log_lines"]], X[:, column["doc_log_words"]], X[:, column["relative_position"]],
            *own, X[:, column["rule_noise@+0"]],
        ]
    ).astype(float)
