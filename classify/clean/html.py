"""Main-content extraction from HTML with selectolax (lexbor engine).

Page furniture is pruned by tag (script, nav, footer, ...) and by class/id hints (menu, share,
related, ...); the remaining block elements become one line each, so paragraph boundaries survive
and the line cleaner can refine the result.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser

_DROP_TAGS = (
    "script", "style", "noscript", "template", "svg", "canvas", "iframe", "form", "button",
    "nav", "footer", "aside", "header", "select", "input", "figure figcaption",
)
_HINT = re.compile(
    r"(?:^|[\s_-])(?:nav|menu|footer|sidebar|share|social|related|comment|advert|ads?|promo|banner"
    r"|breadcrumb|subscribe|newsletter|cookie|popup|modal|widget|tags?)(?:$|[\s_-])",
    re.I,
)
_BLOCKS = "h1, h2, h3, h4, h5, h6, p, li, blockquote, pre, td, dd, dt"


def html_to_lines(html: str) -> list[str]:
    """Return the page's main text as a list of lines, one per block element."""
    tree = LexborHTMLParser(html)
    root = tree.body or tree.root
    if root is None:
        return []
    for node in root.css(", ".join(_DROP_TAGS)):
        node.decompose()
    for node in root.css("[class], [id]"):
        hints = f"{node.attributes.get('class') or ''} {node.attributes.get('id') or ''}"
        if _HINT.search(hints) and node.tag not in ("body", "html", "main", "article"):
            node.decompose()
    container = root.css_first("article") or root.css_first("main") or root
    lines: list[str] = []
    for node in container.css(_BLOCKS):
        # Nested blocks (a <p> inside an <li>) are emitted by the innermost one only.
        if node.css_first(_BLOCKS):
            continue
        text = " ".join(node.text(separator=" ").split())
        if text:
            lines.append(text)
    if not lines:
        lines = [" ".join(t.split()) for t in container.text(separator="\n").splitlines() if t.strip()]
    return lines
