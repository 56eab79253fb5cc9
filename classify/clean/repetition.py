"""Lines that recur across the documents of one source: slogans, signatures, reprint notices.

A line that looks like a sentence can still be boilerplate when the same site or channel prints it
under many of its documents ("Подписывайтесь на наш канал", a reprint notice, a ticker caption).
The evidence is a document frequency per source: for each source, how many distinct documents
contain each normalised line. Normalisation (case-folding, digits to 0, punctuation and emoji
dropped) makes a ticker line with today's rates and one with yesterday's the same line.

`SourceLineCounts` is the persistent form: it can be updated batch after batch and saved as JSON,
so a corpus processed in pieces still sees its repetitions.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import urlparse

from classify.document import Document

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
_DIGITS = re.compile(r"\d")


def line_key(text: str) -> str:
    """A short stable key of a line's normalised form (case, digits, punctuation ignored)."""
    normal = _NON_WORD.sub(" ", _DIGITS.sub("0", text.casefold())).strip()
    return hashlib.blake2b(normal.encode("utf-8"), digest_size=8).hexdigest() if normal else ""


def document_source(doc: Document) -> str:
    """The source a document's repetitions are counted in: the reader's `source` metadata, else
    the site of a `url` in the metadata, else the directory of the input path."""
    source = doc.metadata.get("source")
    if source:
        return str(source)
    url = doc.metadata.get("url")
    if url:
        host = urlparse(str(url)).netloc.lower()
        return host[4:] if host.startswith("www.") else host
    path = doc.source.rsplit(":", 1)[0] if doc.source != "-" else "-"
    return str(Path(path).parent)


class SourceLineCounts:
    """Per source: number of documents seen, and in how many of them each line key occurs."""

    def __init__(self) -> None:
        self.documents: Counter = Counter()
        self.lines: dict[str, Counter] = defaultdict(Counter)

    def add(self, source: str, keys: list[str]) -> None:
        """Count one document's lines, given as `line_key`s (each distinct line once)."""
        self.documents[source] += 1
        self.lines[source].update(set(keys) - {""})

    def count(self, source: str, key: str) -> int:
        """In how many documents of `source` the line with this `line_key` occurs."""
        return self.lines[source][key] if key and source in self.lines else 0

    def save(self, path: str | Path) -> None:
        data = {"documents": dict(self.documents), "lines": {s: dict(c) for s, c in self.lines.items()}}
        Path(path).write_text(json.dumps(data))

    @classmethod
    def load(cls, path: str | Path) -> SourceLineCounts:
        data = json.loads(Path(path).read_text())
        counts = cls()
        counts.documents.update(data["documents"])
        for source, lines in data["lines"].items():
            counts.lines[source].update(lines)
        return counts
