"""Lines that recur across the documents of one source: slogans, signatures, reprint notices.

A line that looks like a sentence can still be boilerplate when the same site or channel prints it
under many of its documents ("Подписывайтесь на наш канал", a reprint notice, a ticker caption).
The evidence is a document frequency per source: for each source, how many distinct documents
contain each normalised line. Normalisation (case-folding, digits to 0, punctuation and emoji
dropped) makes a ticker line with today's rates and one with yesterday's the same line.

Copies of one document (an article served under several URLs, a story posted twice) count as
one document, or their paragraphs would look like the source's slogans (`SourceLineCounts`).

`SourceLineCounts` holds these frequencies for a whole corpus in numpy arrays (12 bytes per
distinct line of a source, and 12 per document while counting), can be filled in parallel parts
and merged, and is saved as `.npz` beside a persistent dedup index, so successive runs see each
other's repetitions.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from classify.clean.html import render_page
from classify.clean.memo import memoised_short_lines
from classify.document import Document

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
_DIGITS = re.compile(r"\d")
_FLUSH_KEYS = 1 << 20  # buffered (key, count) pairs merged into the sorted arrays at once
_FLUSH_PARTS = 1 << 15  # ... or buffered arrays: one per document added, a few keys each
_FORMAT = "classify-source-line-counts/2"
_FORMAT_WITHOUT_COPIES = "classify-source-line-counts/1"  # written before copies were counted


def _hash64(data: str | bytes) -> int:
    data = data.encode("utf-8") if isinstance(data, str) else data
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


@memoised_short_lines(maxsize=1 << 16)  # keyed twice per run (counting, cleaning), and most lines are repeats
def line_key(text: str) -> int:
    """A 64-bit key of a line's normalised form (case, digits, punctuation ignored); 0 for a line
    with neither letters nor digits, which is never counted."""
    normal = _NON_WORD.sub(" ", _DIGITS.sub("0", text.casefold())).strip()
    return _hash64(normal) or 1 if normal else 0


def source_key(source: str) -> np.uint64:
    """The key a source's line keys are XOR-ed with, so one array holds every source's lines."""
    return np.uint64(_hash64("source\x00" + source))


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


def document_line_texts(doc: Document) -> list[str]:
    """The lines the cleaner will judge: the text's own lines, or an HTML page's blocks and pruned
    furniture (rendered, not scored: counting needs only their text)."""
    if doc.lines:
        return [line.text for line in doc.lines]
    if doc.format != "html":
        return doc.text.splitlines()
    page = render_page(doc.text, prune=True)
    return [block.text for block in page.blocks] + [pruned.text for pruned in page.pruned]


def _sum_by_key(keys: np.ndarray, counts: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The distinct `keys` in ascending order and the sum of `counts` (default: 1 each) per key.
    A sort and a segmented sum: what np.unique(return_inverse=True) and a bincount give, at a
    fraction of their fixed cost, which dominated for one document's few lines."""
    if not len(keys):
        return keys, np.zeros(0, dtype=np.uint32)
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    starts = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]]))
    weights = np.ones(len(keys), dtype=np.uint32) if counts is None else counts[order].astype(np.uint32)
    return ordered[starts], np.add.reduceat(weights, starts, dtype=np.uint32)


class _KeyCounts:
    """A multiset of uint64 keys: one sorted key array and a uint32 count per key. Additions are
    buffered and merged into the sorted arrays in bulk (a searchsorted merge, linear in the array
    size), so counting a corpus costs O(n log n) in numpy, not a Python dict entry per key."""

    def __init__(self) -> None:
        self.keys_ = np.zeros(0, dtype=np.uint64)
        self.counts_ = np.zeros(0, dtype=np.uint32)
        self._pending: list[tuple[np.ndarray, np.ndarray]] = []
        self._pending_size = 0

    def __len__(self) -> int:
        self.flush()
        return len(self.keys_)

    def add(self, keys: np.ndarray, counts: np.ndarray) -> None:
        self._pending.append((keys, counts))
        self._pending_size += len(keys)
        if self._pending_size >= _FLUSH_KEYS or len(self._pending) >= _FLUSH_PARTS:
            self.flush()

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """The count of each key (0 for a key never added)."""
        self.flush()
        if not len(self.keys_):
            return np.zeros(len(keys), dtype=np.int64)
        where = np.minimum(np.searchsorted(self.keys_, keys), len(self.keys_) - 1)
        return np.where(self.keys_[where] == keys, self.counts_[where], 0).astype(np.int64)

    def subset(self, keep: np.ndarray) -> _KeyCounts:
        """A copy holding the keys where `keep` (a mask over the flushed keys) is true."""
        self.flush()
        copy = _KeyCounts()
        copy.keys_, copy.counts_ = self.keys_[keep], self.counts_[keep]
        return copy

    def flush(self) -> None:
        if not self._pending:
            return
        keys, counts = _sum_by_key(
            np.concatenate([k for k, _ in self._pending]), np.concatenate([c for _, c in self._pending])
        )
        self._pending, self._pending_size = [], 0
        if not len(self.keys_):  # the first batch (and a one-document clean): nothing to merge into
            self.keys_, self.counts_ = keys, counts
            return
        where = np.searchsorted(self.keys_, keys)
        hit = where < len(self.keys_)
        hit[hit] = self.keys_[where[hit]] == keys[hit]
        self.counts_[where[hit]] += counts[hit]
        self.keys_ = np.insert(self.keys_, where[~hit], keys[~hit])
        self.counts_ = np.insert(self.counts_, where[~hit], counts[~hit])


def _distinct_lines(keys: Iterable[int]) -> np.ndarray:
    """A document's distinct line keys in ascending order, without the uncounted key 0."""
    distinct, _ = _sum_by_key(np.fromiter(keys, dtype=np.uint64))
    return distinct[distinct != 0]


def _copy_key(distinct: np.ndarray, source: str) -> np.uint64:
    """The key of a document's exact content: a hash of its sorted distinct line keys, per source."""
    return np.uint64(_hash64(b"copy\x00" + distinct.astype("<u8").tobytes())) ^ source_key(source)


class SourceLineCounts:
    """Per source: the number of documents seen, in how many of them each line occurs, and how
    many copies of each document there are.

    Line counts are held as pair keys, key(source, line) = line_key(line) XOR source_key(source),
    with their document counts, in one `_KeyCounts`: every source's lines in one array.

    Copies: a site that serves one article under several URLs, or a channel that posts a story
    again, gives each of its lines as many documents as there are copies, and its paragraphs would
    read as the source's slogans. So the counts also keep, per source, how many documents have
    exactly the same set of lines (a copy key, see `_copy_key`), and `counts_for` reads a line of
    a document that has m copies as occurring in c - (min(m, k) - 1) documents: up to k copies
    count as one. The correction is exact for lines whose other occurrences are in documents
    without copies; it never lowers a count below 1. k is small (the cleaner's default: 3, a page
    fetched under a few URLs) because a source that posts the same text many times over (a
    channel's recurring promo) is repeating its boilerplate. Copies that differ in a line are
    not copies here (a view counter that changed is still the same line: digits are normalised);
    the dedup stage finds those.

    complete: the counts already cover every document that will be cleaned with them (built by
        a counting pass over the whole corpus), so the cleaner looks them up without adding its
        batch again. Incomplete counts are updated with each batch as it is cleaned.
    """

    def __init__(self, complete: bool = False) -> None:
        self.complete = complete
        self.documents: Counter = Counter()
        self.lines = _KeyCounts()
        self.copies = _KeyCounts()

    def __len__(self) -> int:
        return len(self.lines)

    def add(self, source: str, keys: Iterable[int]) -> None:
        """Count one document's lines, given as `line_key`s."""
        distinct = _distinct_lines(keys)
        self.documents[source] += 1
        self.lines.add(distinct ^ source_key(source), np.ones(len(distinct), dtype=np.uint32))
        if len(distinct):
            self.copies.add(np.array([_copy_key(distinct, source)]), np.ones(1, dtype=np.uint32))

    def add_documents(self, docs: Iterable[Document]) -> SourceLineCounts:
        """Count the lines of `docs` (see `document_line_texts`); returns self."""
        for doc in docs:
            self.add(document_source(doc), (line_key(text) for text in document_line_texts(doc)))
        return self

    def update(self, other: SourceLineCounts) -> SourceLineCounts:
        """Add another part's counts (from another batch, worker or run); returns self."""
        self.documents.update(other.documents)
        for mine, theirs in ((self.lines, other.lines), (self.copies, other.copies)):
            theirs.flush()
            mine.add(theirs.keys_, theirs.counts_)
        return self

    @classmethod
    def merged(cls, parts: Iterable[SourceLineCounts], complete: bool = False) -> SourceLineCounts:
        """The sum of several parts' counts (batches, workers, key ranges or runs)."""
        counts = cls(complete=complete)
        for part in parts:
            counts.update(part)
        return counts

    def counts_for(self, source: str, keys: Iterable[int], copies_counted_once: int = 1) -> np.ndarray:
        """For each `line_key` of one document, in how many documents of `source` that line
        occurs, up to `copies_counted_once` copies of the document counted as one."""
        keys = np.fromiter(keys, dtype=np.uint64)
        counts = self.lines.lookup(keys ^ source_key(source))
        counts[keys == 0] = 0
        distinct = _distinct_lines(keys)
        copies = int(self.copies.lookup(np.array([_copy_key(distinct, source)]))[0]) if len(distinct) else 0
        extra = min(copies, copies_counted_once) - 1
        if extra > 0:
            counts = np.where(counts > 0, np.maximum(counts - extra, 1), 0)
        return counts

    def threshold(self, source: str, min_repeats: int, min_share: float) -> int:
        """How many documents of `source` a line must occur in to be its boilerplate:
        max(min_repeats, ceil(min_share x documents of the source))."""
        return max(min_repeats, math.ceil(min_share * self.documents[source]))

    def count(self, source: str, key: int) -> int:
        """In how many documents of `source` the line with this `line_key` occurs (copies of a
        document each counted)."""
        return int(self.lines.lookup(np.array([key], dtype=np.uint64) ^ source_key(source))[0])

    def repeated(self, min_count: int) -> SourceLineCounts:
        """A copy holding only lines seen in >= `min_count` documents and documents with copies:
        all the cleaner needs to look up, and small enough to ship to every worker."""
        self.lines.flush()
        self.copies.flush()
        copy = SourceLineCounts(complete=self.complete)
        copy.documents = Counter(self.documents)
        copy.lines = self.lines.subset(self.lines.counts_ >= min_count)
        copy.copies = self.copies.subset(self.copies.counts_ >= 2)
        return copy

    def split(self, parts: int) -> list[SourceLineCounts]:
        """The counts partitioned by key (key mod `parts`): the map side of a shuffle whose
        reducers each sum one part (the document totals go with part 0)."""
        shards = []
        for store in (self.lines, self.copies):
            store.flush()
            shards.append((store.keys_ % np.uint64(parts)).astype(np.int64))
        pieces = []
        for part in range(parts):
            piece = SourceLineCounts(complete=self.complete)
            if part == 0:
                piece.documents = Counter(self.documents)
            piece.lines = self.lines.subset(shards[0] == part)
            piece.copies = self.copies.subset(shards[1] == part)
            pieces.append(piece)
        return pieces

    def save(self, path: str | Path) -> None:
        """Write the counts to `path` (an `.npz` of arrays and a JSON header; no pickle)."""
        for store in (self.lines, self.copies):
            store.flush()
        header = {"format": _FORMAT, "documents": dict(self.documents), "complete": self.complete}
        with open(path, "wb") as out:
            np.savez(out, header=np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8),
                     keys=self.lines.keys_, counts=self.lines.counts_,
                     copy_keys=self.copies.keys_, copy_counts=self.copies.counts_)

    @classmethod
    def load(cls, path: str | Path) -> SourceLineCounts:
        """Read counts that `save` wrote (files of the first format, without copies, too)."""
        with np.load(path, allow_pickle=False) as arrays:
            header = json.loads(arrays["header"].tobytes().decode("utf-8"))
            if header.get("format") not in (_FORMAT, _FORMAT_WITHOUT_COPIES):
                raise ValueError(f"{path} is not a {_FORMAT} file")
            counts = cls(complete=header.get("complete", False))
            counts.documents.update(header["documents"])
            counts.lines.keys_, counts.lines.counts_ = arrays["keys"], arrays["counts"]
            if "copy_keys" in arrays:
                counts.copies.keys_, counts.copies.counts_ = arrays["copy_keys"], arrays["copy_counts"]
        return counts
