"""Stage 2: strip web noise, line by line, from plain text and from HTML.

`clean_document` is the stage's entry point: it splits a document into lines (extracting the main
content first when the input is HTML) and marks each line content, noise (with a reason) or blank.
"""

from classify.clean.options import CleanOptions
from classify.clean.stage import clean_document, clean_documents, split_lines

__all__ = ["CleanOptions", "clean_document", "clean_documents", "split_lines"]
