"""Stage 3: flag duplicated paragraphs and near-duplicate documents with MinHash + exact Jaccard.

`Deduplicator(DedupOptions(...), index_path=None).process(docs)` is the stage's entry point; see
`classify.dedup.index` for the algorithm and `classify.dedup.minhash` for datasketch compatibility.
"""

from classify.dedup.options import DedupOptions
from classify.dedup.stage import Deduplicator

__all__ = ["DedupOptions", "Deduplicator"]
