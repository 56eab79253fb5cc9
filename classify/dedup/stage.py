"""The deduplication stage: flags duplicated paragraphs and near-duplicate documents.

`Deduplicator.process` is called once per batch, batches in input order; its state (two
`NearDuplicateIndex`es, one of paragraphs and one of documents, plus where each paragraph came
from) survives across calls, so a later batch is checked against every earlier one, and can be
saved to and loaded from disk (`classify.dedup.storage`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from classify.dedup.index import ID_DTYPE, GrowableArray, HashSetStore, NearDuplicateIndex, UnionSetStore
from classify.dedup.minhash import MinHasher, lsh_params
from classify.dedup.options import DedupOptions
from classify.dedup.shingles import ShingleSets, shingle_paragraphs
from classify.dedup.storage import load_state, save_state
from classify.document import CONTENT, Document, DuplicateRef


class Deduplicator:
    """Flags each paragraph (content line) that duplicates an earlier one, and each document that
    nearly duplicates an earlier one, in input order across all batches.

    options: what counts as a duplicate (`DedupOptions`); index_path: where the index is loaded from
    (when the file exists) and saved to by `save()`; None keeps the index in memory only.
    """

    def __init__(self, options: DedupOptions | None = None, index_path: str | Path | None = None) -> None:
        self.options = options or DedupOptions()
        self.index_path = Path(index_path) if index_path is not None else None
        self.minhasher = MinHasher(self.options.num_perm, self.options.seed)
        if self.index_path is not None and self.index_path.exists():
            load_state(self, self.index_path)
        else:
            self.paragraphs = self._new_index(self.options.threshold, HashSetStore())
            # A document's set is stored as the rows of its paragraphs' sets.
            self.documents = self._new_index(self.options.document_threshold, UnionSetStore(self.paragraphs.store))
            self.paragraph_doc = GrowableArray(ID_DTYPE)  # paragraph id -> document id number
            self.paragraph_line = GrowableArray(ID_DTYPE)  # paragraph id -> line number
            self.document_item_doc = GrowableArray(ID_DTYPE)  # document item id -> document id number
            self.document_ids: list[str] = []  # document id number -> Document.id

    def _new_index(
        self,
        threshold: float,
        store: HashSetStore | UnionSetStore,
        state: dict[str, np.ndarray] | None = None,
        runs: dict[str, list[tuple[np.ndarray, np.ndarray]]] | None = None,
    ) -> NearDuplicateIndex:
        """An index with this deduplicator's LSH banding over `store`, empty or restored from
        `state` and `runs` (see `NearDuplicateIndex.from_state`)."""
        bands, rows = lsh_params(threshold, self.options.num_perm, self.options.lsh_recall)
        caps = (self.options.bucket_cap, self.options.candidate_cap)
        if state is None:
            return NearDuplicateIndex(threshold, bands, rows, *caps, store)
        return NearDuplicateIndex.from_state(state, runs or {}, threshold, bands, rows, *caps, store)

    def save(self, path: str | Path | None = None) -> Path:
        """Write the index atomically to `path` (default: `index_path`); returns where it went."""
        target = Path(path) if path is not None else self.index_path
        if target is None:
            raise ValueError("no index path: pass one to save() or to Deduplicator(index_path=...)")
        save_state(self, target)
        return target

    @property
    def nbytes(self) -> int:
        """Bytes of index state (grows linearly with the number of paragraphs)."""
        return (
            self.paragraphs.nbytes
            + self.documents.nbytes
            + self.paragraph_doc.values.nbytes
            + self.paragraph_line.values.nbytes
            + self.document_item_doc.values.nbytes
        )

    def paragraph_clusters(self) -> list[list[tuple[str, int]]]:
        """Every cluster of duplicated paragraphs seen so far, as (document id, line number) in
        input order, the first being canonical; clusters in the order of their first paragraph."""
        doc, line = self.paragraph_doc.values, self.paragraph_line.values
        return [[(self.document_ids[doc[i]], int(line[i])) for i in members] for members in _clusters(self.paragraphs)]

    def document_clusters(self) -> list[list[str]]:
        """Every cluster of near-duplicate documents seen so far, as document ids in input order."""
        item_doc = self.document_item_doc.values
        return [[self.document_ids[item_doc[i]] for i in members] for members in _clusters(self.documents)]

    def sketch(self, docs: list[Document]) -> BatchItems:
        """The batch's dedup items (pure: no state read or written), for `process(docs, items)`;
        a worker process can compute them beside the cleaning."""
        return batch_items(docs, self.options, self.minhasher)

    def process(self, docs: list[Document], items: BatchItems | None = None) -> list[Document]:
        """Set `line.duplicate_of` and `doc.near_duplicates` on a batch; returns the same documents.
        `items`: the batch's `sketch`, when it was computed elsewhere."""
        items = items if items is not None else self.sketch(docs)
        self.match(items, [doc.id for doc in docs]).apply(docs)
        return docs

    def match(self, items: BatchItems, doc_ids: list[str]) -> BatchMatches:
        """Match a batch's items (its documents' ids: `doc_ids`) against the index, then add them.

        Both indexes are matched before either is committed, so a failure leaves the state unchanged
        (the pipeline may then retry the batch document by document).
        """
        paragraph_matches = self.paragraphs.match(items.sets, items.signatures)
        member_rows = paragraph_matches.pending.set_row[items.members]  # the rows these paragraphs will have
        member_offsets = np.append(items.doc_bounds, len(items.members)).astype(np.int64)
        document_matches = self.documents.match(
            items.doc_sets, items.doc_signatures, ShingleSets(member_offsets, member_rows)
        )

        first_doc = len(self.document_ids)
        self.paragraphs.commit(paragraph_matches)
        self.documents.commit(document_matches)
        self.document_ids.extend(doc_ids)
        self.paragraph_doc.append(first_doc + items.doc_of)
        self.paragraph_line.append(items.line_number)
        self.document_item_doc.append(first_doc + items.with_text)

        paragraph_doc, paragraph_line = self.paragraph_doc.values, self.paragraph_line.values
        duplicated = np.flatnonzero(paragraph_matches.canonical >= 0)
        refs = []
        for i in duplicated:
            canonical = int(paragraph_matches.canonical[i])
            refs.append(
                DuplicateRef(
                    doc_id=self.document_ids[int(paragraph_doc[canonical])],
                    line=int(paragraph_line[canonical]),
                    similarity=round(float(paragraph_matches.similarity[i]), 4),
                )
            )
        item_doc = self.document_item_doc.values
        near = [
            (int(item_doc[item]) - first_doc, {"doc_id": self.document_ids[int(item_doc[other])], "jaccard": round(float(jaccard), 4)})
            for item, other, jaccard in zip(document_matches.item, document_matches.other, document_matches.jaccard)
        ]
        return BatchMatches(items.doc_of[duplicated], items.position[duplicated], items.line_number[duplicated], refs, near)


@dataclass(slots=True)
class BatchMatches:
    """What the dedup stage found in a batch: the paragraphs that duplicate an earlier one (their
    document's index in the batch `doc_of`, their line's index in `doc.lines` `position` and its
    `Line.number` `line_number`), `refs` saying where each earlier copy is, and the near-duplicate
    document pairs as (document's index in the batch, {"doc_id": earlier document, "jaccard": ...})."""

    doc_of: np.ndarray
    position: np.ndarray
    line_number: np.ndarray
    refs: list[DuplicateRef]
    near: list[tuple[int, dict]]

    def apply(self, batch: list) -> None:
        """Flag the batch: on documents `line.duplicate_of` and `doc.near_duplicates`; on output
        records (`classify.writers.EncodedRecord`) their `duplicates` (`DuplicateRef.to_record`)
        and `near_duplicates`."""
        for d, k, line, ref in zip(self.doc_of.tolist(), self.position.tolist(), self.line_number.tolist(), self.refs):
            if isinstance(batch[d], Document):
                batch[d].lines[k].duplicate_of = ref
            else:
                batch[d].duplicates.append(ref.to_record(line))
        for d, pair in self.near:
            batch[d].near_duplicates.append(pair)


@dataclass(slots=True)
class BatchItems:
    """A batch's paragraphs and documents as dedup items: shingle sets and MinHash signatures.

    Paragraph items are the content lines with a non-empty shingle set, in input order
    (`doc_of`: the document's index in the batch, `position`: the line's index in `doc.lines`,
    `line_number`: its `Line.number`).
    Document items are the documents with at least one such paragraph (`with_text`); a document's
    set is the union of its `members` paragraphs' sets and its signature the element-wise minimum
    of theirs (the MinHash of a union); `doc_bounds` are where each document's members start.
    """

    sets: ShingleSets
    signatures: np.ndarray
    doc_of: np.ndarray
    position: np.ndarray
    line_number: np.ndarray
    with_text: np.ndarray
    members: np.ndarray
    doc_bounds: np.ndarray
    doc_sets: ShingleSets
    doc_signatures: np.ndarray

    def of_document(self, d: int) -> BatchItems:
        """The items of the batch's document `d` alone, as `batch_items` makes them for that document."""
        rows = np.flatnonzero(self.doc_of == d)
        document = np.flatnonzero(self.with_text == d)  # its document item, if it has one
        members = np.searchsorted(rows, self.members[self.doc_of[self.members] == d])
        first = np.zeros(len(document), dtype=np.int64)
        return BatchItems(
            self.sets.select(rows), self.signatures[rows], np.zeros(len(rows), dtype=np.int64), self.position[rows],
            self.line_number[rows], first, members, first, self.doc_sets.select(document), self.doc_signatures[document],
        )


def batch_items(docs: list[Document], options: DedupOptions, minhasher: MinHasher) -> BatchItems:
    """Shingle and sign a batch's paragraphs and documents (see `BatchItems`)."""
    lines = [(d, k) for d, doc in enumerate(docs) for k, line in enumerate(doc.lines) if line.status == CONTENT]
    shingles = shingle_paragraphs([docs[d].lines[k].text for d, k in lines], options).unique()
    compared = np.flatnonzero(shingles.sizes > 0)
    sets = shingles.select(compared)
    signatures = minhasher.signatures(sets)
    where = np.array(lines, dtype=np.int64).reshape(-1, 2)[compared]
    doc_of, position = where[:, 0], where[:, 1]
    line_number = np.array([docs[d].lines[k].number for d, k in zip(doc_of.tolist(), position.tolist())], dtype=np.int64)

    # Short (character-shingled) paragraphs count in a document's set only when it has no long
    # one: their many character shingles would let a caption or a signature line outweigh the article.
    with_text, bounds = np.unique(doc_of, return_index=True)
    has_long = np.logical_or.reduceat(sets.by_words, bounds) if len(bounds) else np.zeros(0, dtype=bool)
    in_doc_set = sets.by_words | ~has_long[np.searchsorted(with_text, doc_of)]
    members = np.flatnonzero(in_doc_set)
    doc_bounds = np.searchsorted(doc_of[members], with_text)
    member_sets = sets.select(members)
    doc_sets = ShingleSets(member_sets.offsets[np.append(doc_bounds, len(members))], member_sets.hashes).unique()
    doc_signatures = np.minimum.reduceat(signatures[members], doc_bounds, axis=0) if len(members) else signatures
    return BatchItems(sets, signatures, doc_of, position, line_number, with_text, members, doc_bounds, doc_sets, doc_signatures)


def _clusters(index: NearDuplicateIndex) -> list[np.ndarray]:
    """Item ids of every cluster with at least two items, each in input order."""
    roots = index.clusters()
    order = np.argsort(roots, kind="stable")  # by root (its first item), then by item
    bounds = np.flatnonzero(np.diff(roots[order], prepend=-1, append=-1))
    groups = [order[lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:])]
    return [group for group in groups if len(group) > 1]
