"""Render an HTML page into text blocks with the DOM evidence a content classifier needs.

One pass over the lexbor tree (selectolax) cuts the page's text at block-level elements and <br>,
so paragraph boundaries survive, and records for every block what its ancestors say about it:
link characters, class/id hints ("comment", "share" vs "article", "content"), structural tags
(nav, footer, aside, article, main) and the text density of its parent containers, following the
block features of Kohlschütter et al., "Boilerplate Detection using Shallow Text Features" (WSDM
2010) and the paragraph scoring of Arc90 Readability (each paragraph adds 1 + commas + length/100,
capped at 3, to its parent and half of that to its grandparent; the best container's score is
damped by its link density).

Nothing is pruned here: the block classifier (`classify.clean.blocks`) decides what is content.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from selectolax.lexbor import LexborHTMLParser, LexborNode

# Elements whose text is never page content: code, styling, embedded objects, form controls.
SKIP_TAGS = frozenset(
    "script style noscript template svg math iframe head select option textarea button input "
    "canvas object embed video audio map area datalist meta link title".split()
)
# Elements that start a new block of text (HTML's block-level and table elements).
BLOCK_TAGS = frozenset(
    "address article aside blockquote center dd details dialog div dl dt fieldset figcaption figure "
    "footer form h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section summary table tbody thead "
    "tfoot td th tr ul caption body html menu".split()
)
HEADING_TAGS = frozenset("h1 h2 h3 h4 h5 h6".split())
# Structural elements that are furniture in almost every layout.
FURNITURE_TAGS = frozenset("nav footer aside header menu form".split())
# Furniture so rarely holding article text (0.1% of the benchmark's content words) that its
# subtree can be set aside unscored, as one line each: this halves the blocks to classify.
PRUNED_TAGS = frozenset("nav footer aside menu".split())

# Class/id hints, lower-cased first (much faster than re.I on a long alternation). The
# alternatives are grouped by first letter so that every one starts with a literal: then sre
# skips positions by first character and tries one branch, not all of them (4x faster).
NEGATIVE_HINT = re.compile(
    r"a(?:(?<=\ba)ds?\b|d-|dvert|uthor-bio)|b(?:anner|readcrumb|yline)"
    r"|c(?:aption|o(?:mment|nsent|okie|pyright)|redit)|disqus|foot|h(?:eader|idden)|login"
    r"|m(?:asthead|e(?:nu|ta)|odal|o(?:re-?stories|st-?popular))|n(?:av|ewsletter)|outbrain"
    r"|p(?:aywall|opup|romo)|re(?:ad-?more|commend|lated)|s(?:har(?:e|ing)|ide-?bar|ignup|ocial|ubscri)"
    r"|t(?:(?<=\bt)ags?\b|aboola|oolbar|rending)|widget"
)  # nav, menu, footer, sidebar, share, related, comment, ads, tags, byline, paywall, trending...
POSITIVE_HINT = re.compile(r"article|b(?:ody|log)|content|entry|main|news|p(?:aragraph|ost|rose)|rich-?text|story|text")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
# A class or id token that names a comment section ("comments", "comment-list", "commentsContainer",
# "disqus_thread"): readers' comments are never the article. Whole tokens only, so an opinion
# article's "commentary" or "content--comment" is not one.
COMMENT_SECTION = re.compile(
    r"(?:comments?|commentlist|disqus_thread)(?:[-_]?(?:area|section|wrapper|container|block|list|thread|box|holder))?"
)


@dataclass(slots=True)
class Elements:
    """The block-level elements of a page in document order (so a parent precedes its children),
    as columns: their aggregates over their subtrees."""

    tag: list[str]
    parent: np.ndarray  # index of the parent element, -1 for the root
    depth: np.ndarray
    chars: np.ndarray  # text characters in the subtree
    link_chars: np.ndarray  # ... of which inside <a>
    blocks: np.ndarray  # non-empty text blocks in the subtree
    score: np.ndarray  # Readability paragraph score collected from children

    def __len__(self) -> int:
        return len(self.tag)


@dataclass(slots=True)
class Block:
    """A run of text between block boundaries, with the DOM evidence about it."""

    text: str
    tag: str  # the innermost block-level element that owns the text
    element: int  # index of that element
    link_chars: int
    negative_hint: int  # how many ancestors' class/id look like furniture
    positive_hint: int  # how many ancestors' class/id look like an article body
    in_furniture: bool  # inside nav/footer/aside/header/menu/form
    in_article: bool  # inside <article> or <main>
    in_list: bool
    in_table: bool
    in_quote: bool
    in_figure: bool
    in_heading: bool
    in_link_block: bool  # the whole block is a single link
    depth: int


@dataclass(slots=True)
class PrunedBlock:
    """The whole text of a pruned furniture element, and where it sat among the blocks."""

    position: int  # number of blocks before it
    tag: str
    text: str


@dataclass(slots=True)
class Page:
    """A rendered page: its blocks in reading order, the element aggregates, its title, and
    the furniture set aside unscored (empty unless rendered with prune=True)."""

    blocks: list[Block]
    elements: Elements
    title: str
    pruned: list[PrunedBlock]


def _clean(text: str) -> str:
    return " ".join(text.split())


def _hidden(attrs: dict[str, str | None]) -> bool:
    if "hidden" in attrs or attrs.get("aria-hidden") == "true":
        return True
    style = attrs.get("style")
    return bool(style and _HIDDEN_STYLE.search(style))


def _comment_section(attrs: dict[str, str | None]) -> str | None:
    """'class=TOKEN' or 'id=TOKEN' when an element's class or id names a comment section."""
    for name in ("id", "class"):
        for token in (attrs.get(name) or "").lower().split():
            if COMMENT_SECTION.fullmatch(token):
                return f"{name}={token}"
    return None


def render_page(html: str, prune: bool = False) -> Page:
    """Walk the page once and return its text blocks with their DOM evidence. With `prune`,
    nav/footer/aside/menu subtrees and comment sections are not walked: each becomes one
    PrunedBlock."""
    tree = LexborHTMLParser(html)
    title_node = tree.css_first("title")
    title = _clean(title_node.text()) if title_node is not None else ""
    root = tree.body or tree.root
    page = _PageBuilder(prune)
    # Depth-first walk over lexbor's child iterators: one frame per element being walked, with the
    # link depth of its children and whether leaving it ends a block; a skipped subtree is simply
    # not entered.
    frames: list[tuple[Iterator[LexborNode], int, bool]] = [(iter((root,)), 0, False)] if root is not None else []
    while frames:
        children, link_depth, ends_block = frames[-1]
        for node in children:
            tag = node.tag
            if tag == "-text":
                page.add_text(node.text_content, link_depth > 0)
            elif tag == "br":
                page.flush()
            elif tag in SKIP_TAGS or tag == "-comment":
                continue
            elif prune and tag in PRUNED_TAGS:
                page.set_aside(node, tag)
            elif tag not in BLOCK_TAGS or page.open_block(node, tag):
                frames.append((node.iter(include_text=True), link_depth + (tag == "a"), tag in BLOCK_TAGS))
                break
        else:
            frames.pop()
            if ends_block:
                page.close_block()
    page.flush()
    return page.page(title)


class _PageBuilder:
    """What one walk of `render_page` has built so far: the blocks, the pruned furniture, the
    element columns (see `Elements`, filled in document order), and the text of the block being read."""

    def __init__(self, prune: bool) -> None:
        self.prune = prune
        self.blocks: list[Block] = []
        self.pruned: list[PrunedBlock] = []
        self.tags: list[str] = []
        self.parents: list[int] = []
        self.depths: list[int] = []
        self.chars: list[int] = []
        self.link_chars: list[int] = []
        self.block_counts: list[int] = []
        self.buffer: list[str] = []
        self.buffer_link = 0  # characters of the buffer that sit inside <a>
        # Context of the innermost open block: (element index, tag, inherited flags tuple).
        self.context: list[tuple[int, str, tuple]] = []
        # class/id strings repeat a lot within a page: (negative hint, positive hint, comment section)
        self.hints: dict[str, tuple[bool, bool, str | None]] = {}

    def add_text(self, text: str, in_link: bool) -> None:
        if not text:
            return
        if text.isspace():
            # Inter-element whitespace only separates words; it never starts a block.
            if self.buffer:
                self.buffer.append(" ")
            return
        self.buffer.append(text)
        if in_link:
            self.buffer_link += len(text.strip())

    def flush(self) -> None:
        """The text read since the last block boundary becomes a block of the innermost open element."""
        if not self.buffer:
            return
        text = _clean("".join(self.buffer))
        link = min(self.buffer_link, len(text))
        self.buffer.clear()
        self.buffer_link = 0
        if not text or not self.context:
            return
        element, tag, inherited = self.context[-1]
        neg, pos, furn, art, lst, tbl, quote, fig, head = inherited
        # Positional arguments, in Block's field order: noticeably cheaper than keywords here.
        self.blocks.append(
            Block(text, tag, element, link, neg, pos, furn, art, lst, tbl, quote, fig, head, link >= len(text) * 0.9, self.depths[element])
        )
        # Credit the text to its owning element; ancestors get their totals after the walk.
        self.chars[element] += len(text)
        self.link_chars[element] += link
        self.block_counts[element] += 1

    def set_aside(self, node: LexborNode, label: str) -> None:
        """A pruned subtree: its whole text becomes one PrunedBlock, not walked."""
        self.flush()
        text = _clean(node.text(separator=" "))
        if text:
            self.pruned.append(PrunedBlock(len(self.blocks), label, text))

    def open_block(self, node: LexborNode, tag: str) -> bool:
        """Enter a block-level element: a new element row and block context. False: the element
        is hidden, or a comment section set aside, and is not to be walked."""
        # Only block elements are checked for hiding: reading every inline element's
        # attributes costs more than the rare hidden <span> is worth.
        attrs = node.attributes if tag != "body" else {}
        if attrs and _hidden(attrs):
            return False
        self.flush()
        hints = f"{attrs.get('class') or ''} {attrs.get('id') or ''} {attrs.get('role') or ''}"
        if hints not in self.hints:
            lower = hints.lower()
            self.hints[hints] = (
                bool(NEGATIVE_HINT.search(lower)),
                bool(POSITIVE_HINT.search(lower)),
                _comment_section(attrs) if "comment" in lower or "disqus" in lower else None,
            )
        own_negative, own_positive, comments = self.hints[hints]
        if self.prune and comments:
            self.set_aside(node, f"{tag} {comments}")
            return False
        parent = self.context[-1] if self.context else None
        neg, pos, furn, art, lst, tbl, quote, fig, head = parent[2] if parent else (0, 0) + (False,) * 7
        # Hints are counted along the path: one furniture-looking class far up says little.
        inherited = (
            neg + own_negative,
            pos + own_positive,
            furn or tag in FURNITURE_TAGS,
            art or tag in ("article", "main"),
            lst or tag in ("li", "ul", "ol", "dl", "dd", "dt"),
            tbl or tag in ("table", "td", "th", "tr"),
            quote or tag == "blockquote",
            fig or tag in ("figure", "figcaption"),
            head or tag in HEADING_TAGS,
        )
        parent_index = parent[0] if parent else -1
        self.context.append((len(self.tags), tag, inherited))
        self.tags.append(tag)
        self.parents.append(parent_index)
        self.depths.append(self.depths[parent_index] + 1 if parent else 0)
        self.chars.append(0)
        self.link_chars.append(0)
        self.block_counts.append(0)
        return True

    def close_block(self) -> None:
        """Leave a block element: its pending text is a block of its own."""
        self.flush()
        self.context.pop()

    def page(self, title: str) -> Page:
        elements = _elements(self.tags, self.parents, self.depths, self.chars, self.link_chars, self.block_counts, self.blocks)
        return Page(self.blocks, elements, title, self.pruned)


def _elements(
    tags: list[str], parents: list[int], depths: list[int], chars: list[int], link_chars: list[int],
    block_counts: list[int], blocks: list[Block],
) -> Elements:
    """The element columns with each element's own counts summed over its subtree, and the
    Readability scores of the blocks' containers."""
    # Elements are numbered in document order, so every child comes after its parent.
    for index in range(len(tags) - 1, 0, -1):
        parent = parents[index]
        if parent >= 0:
            chars[parent] += chars[index]
            link_chars[parent] += link_chars[index]
            block_counts[parent] += block_counts[index]
    return Elements(
        tags, np.array(parents, dtype=np.int64), np.array(depths, dtype=np.int64), np.array(chars, dtype=np.int64),
        np.array(link_chars, dtype=np.int64), np.array(block_counts, dtype=np.int64),
        _score_paragraphs(blocks, parents),
    )


def _score_paragraphs(blocks: list[Block], parents: list[int]) -> np.ndarray:
    """Readability's content score: paragraphs vote for their parent (1x) and grandparent (0.5x)."""
    score = [0.0] * len(parents)
    for block in blocks:
        if len(block.text) < 25 or block.in_link_block:
            continue
        vote = 1.0 + block.text.count(",") + min(len(block.text) / 100.0, 3.0)
        parent = parents[block.element]
        # The paragraph's own element is usually the <p>; its container is what we want to score.
        target = parent if block.tag in ("p", "pre", "blockquote") or block.tag in HEADING_TAGS else block.element
        if target >= 0:
            score[target] += vote
            grand = parents[target]
            if grand >= 0:
                score[grand] += vote / 2.0
    return np.array(score)


def best_container(elements: Elements) -> int:
    """Index of the element with the highest link-damped Readability score (-1 if none)."""
    damped = elements.score * (1.0 - elements.link_chars / np.maximum(elements.chars, 1))
    damped[elements.score <= 0] = 0.0
    best = int(np.argmax(damped)) if len(damped) else -1
    return best if best >= 0 and damped[best] > 0 else -1


def headline_block(page: Page) -> int | None:
    """Index of the page's headline: its first <h1>, or of several the one sharing most words
    with the <title>."""
    title_words = set(page.title.lower().split())
    candidates = [i for i, block in enumerate(page.blocks) if block.tag == "h1"]
    if not candidates:
        return None
    return max(candidates, key=lambda i: (len(title_words & set(page.blocks[i].text.lower().split())), -i))
