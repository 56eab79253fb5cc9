"""The deduplication stage: flags duplicated paragraphs and near-duplicate documents.

`Deduplicator.process` is called once per batch, batches in input order; its state (two
`NearDuplicateIndex`es, one of paragraphs and one of documents, plus where each paragraph came
from) survives across calls, so a later batch is checked against every earlier one, and can be
saved to and loaded from disk (`classify.dedup.storage`).
"""

from __future__ import annotations

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
        self, threshold: float, store: HashSetStore | UnionSetStore, state: dict[str, np.ndarray] | None = None
    ) -> NearDuplicateIndex:
        """An index with this deduplicator's LSH banding over `store`, empty or restored from `state`."""
        bands, rows = lsh_params(threshold, self.options.num_perm, self.options.lsh_recall)
        caps = (self.options.bucket_cap, self.options.candidate_cap)
        if state is None:
            return NearDuplicateIndex(threshold, bands, rows, *caps, store)
        return NearDuplicateIndex.from_state(state, threshold, bands, rows, *caps, store)

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

    def process(self, docs: list[Document]) -> list[Document]:
        """Set `line.duplicate_of` and `doc.near_duplicates` on a batch; returns the same documents.

        Both indexes are matched before either is committed, so a failure leaves the state unchanged
        (the pipeline may then retry the batch document by document).
        """
        lines = [(d, line) for d, doc in enumerate(docs) for line in doc.lines if line.status == CONTENT]
        shingles = shingle_paragraphs([line.text for _, line in lines], self.options).unique()
        compared = np.flatnonzero(shingles.sizes > 0)
        sets = shingles.select(compared)
        signatures = self.minhasher.signatures(sets)
        doc_of = np.array([d for d, _ in lines], dtype=np.int64)[compared]
        line_numbers = np.array([lines[i][1].number for i in compared], dtype=np.int64)

        # Documents are items of their own index: the set is the union of their paragraph sets,
        # the signature the element-wise minimum of theirs (the MinHash of a union). Short
        # (character-shingled) paragraphs count only in documents without a long one: their many
        # character shingles would let a caption or a signature line outweigh the article.
        with_text, bounds = np.unique(doc_of, return_index=True)
        has_long = np.logical_or.reduceat(sets.by_words, bounds) if len(bounds) else np.zeros(0, dtype=bool)
        in_doc_set = sets.by_words | ~has_long[np.searchsorted(with_text, doc_of)]
        members = np.flatnonzero(in_doc_set)
        doc_bounds = np.searchsorted(doc_of[members], with_text)
        member_sets = sets.select(members)
        doc_sets = ShingleSets(member_sets.offsets[np.append(doc_bounds, len(members))], member_sets.hashes).unique()
        doc_signatures = np.minimum.reduceat(signatures[members], doc_bounds, axis=0) if len(members) else signatures
        paragraph_matches = self.paragraphs.match(sets, signatures)
        member_rows = paragraph_matches.pending.set_row[members]  # the rows these paragraphs will have
        member_offsets = np.append(doc_bounds, len(members)).astype(np.int64)
        document_matches = self.documents.match(doc_sets, doc_signatures, ShingleSets(member_offsets, member_rows))

        first_doc = len(self.document_ids)
        self.paragraphs.commit(paragraph_matches)
        self.documents.commit(document_matches)
        self.document_ids.extend(doc.id for doc in docs)
        self.paragraph_doc.append(first_doc + doc_of)
        self.paragraph_line.append(line_numbers)
        self.document_item_doc.append(first_doc + with_text)

        paragraph_doc, paragraph_line = self.paragraph_doc.values, self.paragraph_line.values
        for i in np.flatnonzero(paragraph_matches.canonical >= 0):
            canonical = int(paragraph_matches.canonical[i])
            lines[compared[i]][1].duplicate_of = DuplicateRef(
                doc_id=self.document_ids[int(paragraph_doc[canonical])],
                line=int(paragraph_line[canonical]),
                similarity=round(float(paragraph_matches.similarity[i]), 4),
            )
        item_doc = self.document_item_doc.values
        for item, other, jaccard in zip(document_matches.item, document_matches.other, document_matches.jaccard):
            docs[int(item_doc[item]) - first_doc].near_duplicates.append(
                {"doc_id": self.document_ids[int(item_doc[other])], "jaccard": round(float(jaccard), 4)}
            )
        return docs


def _clusters(index: NearDuplicateIndex) -> list[np.ndarray]:
    """Item ids of every cluster with at least two items, each in input order."""
    roots = index.clusters()
    order = np.argsort(roots, kind="stable")  # by root (its first item), then by item
    bounds = np.flatnonzero(np.diff(roots[order], prepend=-1, append=-1))
    groups = [order[lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:])]
    return [group for group in groups if len(group) > 1]
