"""The cleaning stage over one `Document`."""

from __future__ import annotations

from classify.clean.html import html_to_lines
from classify.clean.lines import classify_lines
from classify.clean.options import CleanOptions
from classify.document import Document, Line


def split_lines(doc: Document) -> list[Line]:
    """The document's lines, numbered from 1: the text's own lines, or the blocks of an HTML page."""
    raw = html_to_lines(doc.text) if doc.format == "html" else doc.text.splitlines()
    return [Line(number=i, text=text) for i, text in enumerate(raw, start=1)]


def clean_document(doc: Document, options: CleanOptions | None = None) -> Document:
    """Split `doc` into lines (unless a reader already did) and mark every line content/noise/blank."""
    if not doc.lines:
        doc.lines = split_lines(doc)
    classify_lines(doc.lines, options or CleanOptions())
    return doc


def clean_documents(docs: list[Document], options: CleanOptions | None = None) -> list[Document]:
    """Clean a batch of documents (the pipeline's entry point; batch-level evidence lives here)."""
    options = options or CleanOptions()
    return [clean_document(doc, options) for doc in docs]
