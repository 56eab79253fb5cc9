"""The cleaning stage over a batch of `Document`s (the pipeline's entry point)."""

from __future__ import annotations

from collections import Counter

from classify.clean.blocks import ScoredPage, block_threshold, score_html
from classify.clean.lines import classify_lines, score_unscored_lines
from classify.clean.options import CleanOptions
from classify.clean.repetition import SourceLineCounts, document_source, line_key
from classify.clean.rules import is_prose
from classify.document import BLANK, CONTENT, NOISE, Document, Line

FURNITURE_REASON = "page furniture (inside <{tag}>, not scored)"
HEADLINE_REASON = "page headline (kept although the block classifier scored it {score:.2f})"
PROSE_REASON = "kept: the page's only prose (the block classifier kept no prose block)"
BESIDE_PROSE_REASON = "kept: prose beside kept prose in the same container (the block classifier scored it {score:.2f})"
BLOCK_SCORER = "HTML block classifier"  # the reason of a block dropped for its score opens with it


def _dropped_by_block_model(line: Line) -> bool:
    """Noise only because of its block score (no repetition or rule said so)."""
    return line.status == NOISE and line.reason.startswith(BLOCK_SCORER)


def _keep_prose_beside_kept_prose(lines: list[Line], containers: list[int]) -> None:
    """A paragraph of an article sits beside the article's other paragraphs: a prose block the
    block classifier dropped is kept when the scored block next to it (before or after) is kept
    prose in the same container. The block model, trained on long articles in full pages,
    scores a short article's lede or last paragraph low; its neighbour's verdict is firmer."""
    scored = [i for i, container in enumerate(containers) if container >= 0 and lines[i].status != BLANK]
    # A sweep each way carries the verdict along a run of prose blocks in either direction.
    for order in (scored, scored[::-1]):
        for previous, i in zip(order, order[1:]):
            line, neighbour = lines[i], lines[previous]
            if (
                _dropped_by_block_model(line) and neighbour.kept
                and containers[previous] == containers[i] and is_prose(line.text) and is_prose(neighbour.text)
            ):
                line.status, line.reason = CONTENT, BESIDE_PROSE_REASON.format(score=line.score)


def _keep_prose_when_none_kept(lines: list[Line]) -> None:
    """A page is rarely all furniture: when the block classifier (trained on other sites' layouts)
    keeps no prose block (at most a headline or labels), the prose blocks are kept, since losing
    an article is worse than keeping a stray paragraph."""
    if any(line.kept and is_prose(line.text) for line in lines):
        return
    for line in lines:
        if _dropped_by_block_model(line) and is_prose(line.text):
            line.status, line.reason = CONTENT, PROSE_REASON


def _split(doc: Document, models_dir: str | None = None) -> tuple[list[Line], ScoredPage | None]:
    """The document's lines and, for HTML, the scored page they come from (headline, furniture
    tags and containers of its lines)."""
    if doc.format != "html":
        return [Line(number=i, text=text) for i, text in enumerate(doc.text.splitlines(), start=1)], None
    scored = score_html(doc.text, models_dir)
    lines = [
        Line(number=i, text=text, score=float(score))
        for i, (text, score) in enumerate(zip(scored.texts, scored.scores), start=1)
    ]
    return lines, scored


def split_lines(doc: Document, options: CleanOptions | None = None) -> list[Line]:
    """The document's lines, numbered from 1: the text's own lines, or the blocks of an HTML page
    (each already carrying the block classifier's content probability as `score`)."""
    return _split(doc, (options or CleanOptions()).models_dir)[0]


def clean_documents(
    docs: list[Document],
    options: CleanOptions | None = None,
    counts: SourceLineCounts | None = None,
) -> list[Document]:
    """Mark every line of every document content / noise (with a reason) / blank.

    Documents without lines are split first (HTML: main-content blocks scored by the block model).
    Lines found in >= options.min_source_repeats documents of the same source are noise. The
    evidence is `counts`: by default the batch alone is counted; counts carried over several
    batches are updated with this batch first, unless they are `complete` (a counting pass over
    the whole corpus already included it; see `classify.pipeline`).
    """
    options = options or CleanOptions()
    # With no evidence but the batch, a line can only be repeated in as many documents as its
    # source has here: below the threshold (one page cleaned alone), there is nothing to count.
    sources = [document_source(doc) for doc in docs]
    counted = counts is not None or max(Counter(sources).values(), default=0) >= options.min_source_repeats
    counts = counts if counts is not None else SourceLineCounts()
    pages: list[ScoredPage | None] = []  # the scored page of each HTML document split here
    keys: list[list[int]] = []
    for doc, source in zip(docs, sources):
        page = None
        if not doc.lines:
            doc.lines, page = _split(doc, options.models_dir)
        pages.append(page)
        keys.append([line_key(line.text) for line in doc.lines] if counted else [])
        if counted and not counts.complete:
            counts.add(source, keys[-1])
    score_unscored_lines([doc.lines for doc in docs], options.models_dir)
    for doc, source, page, doc_keys in zip(docs, sources, pages, keys):
        is_html = doc.format == "html"
        classify_lines(
            doc.lines,
            options,
            repeats=counts.counts_for(source, doc_keys, options.copies_counted_once).tolist() if counted else None,
            threshold=block_threshold(options.favor, options.models_dir) if is_html else None,
            scorer=BLOCK_SCORER if is_html else "line classifier",
            min_repeats=counts.threshold(source, options.min_source_repeats, options.min_source_share),
        )
        if page is not None:  # split here: its furniture tags and containers are known
            for line, tag in zip(doc.lines, page.furniture):
                if tag is not None and _dropped_by_block_model(line):
                    line.reason = FURNITURE_REASON.format(tag=tag)
            _keep_prose_beside_kept_prose(doc.lines, page.containers)
        if is_html:
            _keep_prose_when_none_kept(doc.lines)
        if options.keep_title and page is not None and page.headline is not None and not doc.lines[page.headline].kept:
            line = doc.lines[page.headline]
            line.status, line.reason = CONTENT, HEADLINE_REASON.format(score=line.score)
    return docs


def clean_document(
    doc: Document, options: CleanOptions | None = None, counts: SourceLineCounts | None = None
) -> Document:
    """Clean one document (a batch of one: repetition evidence only from `counts`, if given)."""
    return clean_documents([doc], options, counts)[0]
