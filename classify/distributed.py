"""The Dask engine: the same run as `classify.pipeline.run`, with documents partitioned over workers.

The client reads the inputs (streaming) and hands them to the workers in partitions of whole
batches (the local engine's batches, so per-batch error handling and classification see the same
documents), a few partitions at a time. The steps:

1. per partition, on a worker, what the local engine's workers do (`prepare_in_worker`):
   cleaning, language identification, classification, the records' encoding, and the shingle
   sets and MinHash signatures of paragraphs and documents. The records go back to the client,
   which keeps them in a scratch file; the worker keeps only the sets, band keys and sketches,
   merged into shards of consecutive partitions (the shuffles' tasks grow with the shards);
2. exact copies: a shuffle on set fingerprints; in each fingerprint group the first item in
   input order is the original, and a later item is its copy when step 4 finds the sets equal;
3. near copies: a shuffle on LSH band keys of the items that are not copies; each bucket, sorted
   by input order, pairs an item with at most `bucket_cap` earliest items of the bucket before
   it; pairs failing the size bound ``J <= min(|A|,|B|) / max(|A|,|B|)`` are dropped, and each
   pair counts the bands it shares;
4. verification where the sets live: candidate pairs are routed to the shard holding the
   earlier item, which adds up their shared bands and joins its set and b-bit sketch to them, then
   to the shard of the later item, which applies the index's sketch filter and per-item
   candidate cap and computes the exact Jaccard (`pair_jaccard`) with its own set (sets never
   move whole: only those of the earlier items of candidate pairs travel, once per pair). The
   pairs are grouped by the later item's shard first and verified in waves of such shards, so
   the travelling sets are bounded per wave and an item's candidates are all in one wave;
5. the client receives only the verified edges and runs the index's union-find over them in input
   order: an item's canonical paragraph is its cluster's root when it is inserted, its similarity
   the exact Jaccard with that root (computed by step 4 when the root is not one of its edges);
6. the client flags the records of each partition and writes them in input order. With
   --drop-duplicates the classification depends on the flags: the flagged documents go back to
   the workers to be classified and encoded first.

Steps 2-5 apply, item for item, the rules of `classify.dedup.index.NearDuplicateIndex.match`
(fingerprint copies never enter buckets; the bucket cap counts earlier entries of the bucket, an
item's own second band with the same 32-bit key included), so the output equals the local one.
The shuffles are all-to-all exchanges of numpy tables through Dask futures (the map side splits
its table by destination, each destination gathers its pieces), so no node holds every signature.
"""

from __future__ import annotations

import math
import pickle
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from operator import getitem
from pathlib import Path
from typing import Any, BinaryIO

import dask
import numpy as np
from dask.sizeof import sizeof
from distributed import Client, LocalCluster, wait

from classify.clean.repetition import SourceLineCounts
from classify.dedup import Deduplicator, DedupOptions
from classify.dedup.index import ID_DTYPE, NearDuplicateIndex, _Forest, earlier_in_batch, pair_jaccard, set_fingerprints
from classify.dedup.minhash import MinHasher, band_keys
from classify.dedup.shingles import ShingleSets
from classify.dedup.stage import BatchMatches
from classify.document import Document, DuplicateRef, ErrorRecord
from classify.models import load_models
from classify.pipeline import (
    Batch, RunOptions, RunSummary, batched, count_batch_lines, counts_over_corpus, encodes_in_worker, excluding_run_files,
    finish_batch, prepare_in_worker, worker_models,
)
from classify.readers import JsonlSlice, ReadOptions, read_batches, read_documents
from classify.writers import EncodedRecord, JsonlWriter, open_writer, write_errors

PARAGRAPHS, DOCUMENTS = 0, 1  # the two indexes of the dedup stage ("kinds" of items)
KINDS = (PARAGRAPHS, DOCUMENTS)
PARTITION_BATCHES = 4  # batches per Dask partition: 1024 documents at the default batch size
# Partitions per dedup shard, at first. The shuffles' task count grows with the shards (shards x
# reducers pieces per exchange, shards x shards in the verification's second hop): per partition,
# a 1M-document run would make up to 977^2 pieces in one hop, under which Dask's scheduler
# stalled. The shard size doubles after every SHARDS_PER_SIZE shards, so the shards grow as the
# logarithm of the corpus: 47 at 1M documents, 137 at 10M (19k pieces in that hop, not 373k).
SHARD_PARTITIONS = 16
SHARDS_PER_SIZE = 32
# The LSH shuffle runs in rounds of at most about ROUND_BYTES of band entries per worker (an
# entry is 21 bytes in a table, held about three times over: split, gathered, sorted).
ROUND_BYTES = 256 << 20
BAND_ENTRY_BYTES = 3 * 21
# A candidate pair with the earlier item's shingle set and b-bit sketch attached: about 370 bytes
# on the scale corpus's paragraphs, rounded up for the copies made on the way.
VERIFY_PAIR_BYTES = 512


# --- tables: columns of numpy arrays, optionally with one shingle set per row -------------------


def concat_sets(parts: list[ShingleSets]) -> ShingleSets:
    """Rows of several `ShingleSets`, one after the other."""
    shifts = np.cumsum([0] + [len(p.hashes) for p in parts[:-1]])
    offsets = np.concatenate([np.zeros(1, dtype=np.int64)] + [p.offsets[1:] + s for p, s in zip(parts, shifts)])
    hashes = np.concatenate([np.zeros(0, dtype=np.uint32)] + [p.hashes for p in parts])
    return ShingleSets(offsets.astype(np.int64), hashes)


@dataclass(slots=True)
class Table:
    """What the shuffles move: equal-length columns, and optionally each row's shingle set."""

    columns: dict[str, np.ndarray]
    sets: ShingleSets | None = None

    def __len__(self) -> int:
        return len(next(iter(self.columns.values())))

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def take(self, rows: np.ndarray) -> Table:
        return Table({name: values[rows] for name, values in self.columns.items()}, None if self.sets is None else self.sets.select(rows))

    @classmethod
    def concat(cls, tables: Iterable[Table]) -> Table:
        tables = list(tables)
        columns = {name: np.concatenate([t.columns[name] for t in tables]) for name in tables[0].columns}
        return cls(columns, None if tables[0].sets is None else concat_sets([t.sets for t in tables]))


def split(table: Table, destination: np.ndarray, count: int) -> list[Table]:
    """The map side of a shuffle: `table`'s rows grouped by destination (0..count-1), order kept."""
    order = np.argsort(destination, kind="stable")
    bounds = np.searchsorted(destination[order], np.arange(count + 1))
    return [table.take(order[lo:hi]) for lo, hi in zip(bounds[:-1], bounds[1:])]


def _piece_sizes(pieces: list[Table]) -> list[int]:
    return [len(piece) for piece in pieces]


# --- per-partition work (runs on the workers) ----------------------------------------------------


@dataclass(slots=True)
class ItemSets:
    """The items of one index in one partition, in input order: sets, what the shuffles need of
    their signatures (the 32-bit LSH band keys and the b-bit sketch: each banded value's low byte,
    a third of the signature's size together), and where each item comes from: (batch, document
    in the batch, line's index in `doc.lines`, line number) for paragraphs, (batch, document in the
    batch) for documents."""

    sets: ShingleSets
    keys: np.ndarray  # (n, bands) uint32
    sketch: np.ndarray  # (n, bands * rows) uint8
    where: np.ndarray  # int64, one row per item

    @classmethod
    def of(cls, sets: ShingleSets, signatures: np.ndarray, rule: IndexRules, where: np.ndarray) -> ItemSets:
        keys = band_keys(signatures, rule.bands, rule.rows).astype(np.uint32)
        return cls(sets, keys, signatures[:, : rule.bands * rule.rows].astype(np.uint8), where)


@dataclass(slots=True)
class PartitionIndex:
    """What a worker keeps of a partition (then of a shard of consecutive partitions,
    `merge_indexes`) until the dedup flags are known: its paragraph and document items, and its
    documents' ids (per batch) to name canonical copies. The documents themselves go to the
    client as soon as they are done."""

    items: tuple[ItemSets, ItemSets]
    ids: list[list[str]]


# The scheduler places tasks and balances memory by their results' sizes: without these, it takes
# a shard of tens of MB for a few bytes (sys.getsizeof of a dataclass), and a 1M run's merges put
# 9 shards of 10 on one worker.
@sizeof.register(ShingleSets)
def _sizeof_sets(sets: ShingleSets) -> int:
    return sets.offsets.nbytes + sets.hashes.nbytes + (0 if sets.by_words is None else sets.by_words.nbytes)


@sizeof.register(Table)
def _sizeof_table(table: Table) -> int:
    return sum(values.nbytes for values in table.columns.values()) + (0 if table.sets is None else sizeof(table.sets))


@sizeof.register(ItemSets)
def _sizeof_items(items: ItemSets) -> int:
    return sizeof(items.sets) + items.keys.nbytes + items.sketch.nbytes + items.where.nbytes


@sizeof.register(PartitionIndex)
def _sizeof_index(index: PartitionIndex) -> int:
    return sum(sizeof(items) for items in index.items) + sizeof(index.ids)


@dataclass(slots=True)
class PreparedPartition:
    """What the client keeps (on disk) of a partition until its flags are known: per batch its
    records (or, with --drop-duplicates, its unclassified documents), errors and input item count,
    and where its items are, to apply the flags (`ItemSets.where` of both kinds)."""

    batches: list[tuple[list[EncodedRecord] | list[Document], list[ErrorRecord], int]]
    where: tuple[np.ndarray, np.ndarray] | None


def prepare_partition(
    batches: list[Batch | JsonlSlice],
    options: RunOptions,
    counts: SourceLineCounts | None = None,
    minhasher: MinHasher | None = None,
) -> tuple[PreparedPartition, PartitionIndex | None]:
    """Each batch's worker part, as the local engine's workers do it (`prepare_in_worker`), with
    the partition's dedup items split off for the shuffles."""
    prepared = [prepare_in_worker(batch, options, counts, minhasher) for batch in batches]
    done = [(returned, errors, n_items) for returned, errors, n_items, _ in prepared]
    if "dedup" not in options.stages:
        return PreparedPartition(done, None), None
    sketches = [(b, items) for b, (*_, items) in enumerate(prepared)]
    rules = index_rules(options.dedup)
    paragraphs = ItemSets.of(
        concat_sets([items.sets for _, items in sketches]),
        np.concatenate([items.signatures for _, items in sketches]),
        rules[PARAGRAPHS],
        np.concatenate([np.stack((np.full(len(items.doc_of), b), items.doc_of, items.position, items.line_number), axis=1)
                        for b, items in sketches]).astype(np.int64).reshape(-1, 4),
    )
    documents = ItemSets.of(
        concat_sets([items.doc_sets for _, items in sketches]),
        np.concatenate([items.doc_signatures for _, items in sketches]),
        rules[DOCUMENTS],
        np.concatenate([np.stack((np.full(len(items.with_text), b), items.with_text), axis=1)
                        for b, items in sketches]).astype(np.int64).reshape(-1, 2),
    )
    index = PartitionIndex((paragraphs, documents), [[x.id for x in returned] for returned, _, _ in done])
    return PreparedPartition(done, (paragraphs.where, documents.where)), index


def line_count_split(batches: list[Batch | JsonlSlice], parts: int, options: ReadOptions) -> list[SourceLineCounts]:
    """The map side of the line-count shuffle: the partition's source line counts, split by key."""
    return SourceLineCounts.merged(count_batch_lines(batch, options) for batch in batches).split(parts)


def repeated_lines(*pieces: SourceLineCounts, min_count: int) -> SourceLineCounts:
    """The reduce side: one key range's counts summed over the corpus, kept where they reach `min_count`."""
    return SourceLineCounts.merged(pieces).repeated(min_count)


def join_line_counts(*parts: SourceLineCounts) -> SourceLineCounts:
    """The corpus's repeated lines, all key ranges together (complete: cleaning only looks them up)."""
    return SourceLineCounts.merged(parts, complete=True)


def merge_indexes(*parts: PartitionIndex) -> PartitionIndex:
    """One shard's index: consecutive partitions' items one after the other (so item ids stay
    ranges), their batches renumbered as the shard's."""
    shifts = np.cumsum([0] + [len(p.ids) for p in parts[:-1]])
    merged = []
    for kind in KINDS:
        where = [p.items[kind].where.copy() for p in parts]
        for w, shift in zip(where, shifts):
            w[:, 0] += shift
        merged.append(ItemSets(
            concat_sets([p.items[kind].sets for p in parts]),
            np.concatenate([p.items[kind].keys for p in parts]),
            np.concatenate([p.items[kind].sketch for p in parts]),
            np.concatenate(where),
        ))
    return PartitionIndex((merged[0], merged[1]), [ids for p in parts for ids in p.ids])


def fingerprint_split(part: PartitionIndex, bases: tuple[int, int], count: int) -> list[Table]:
    """Map side of the exact-copy shuffle: (kind, set fingerprint, item id)."""
    tables = []
    for kind in KINDS:
        sets = part.items[kind].sets
        ids = bases[kind] + np.arange(len(sets), dtype=np.int64)
        tables.append(Table({"kind": np.full(len(sets), kind, dtype=np.int8), "key": set_fingerprints(sets), "owner": ids}))
    table = Table.concat(tables)
    return split(table, ((table["key"] + table["kind"].astype(np.uint64)) % np.uint64(count)).astype(np.int64), count)


def copy_candidates(*pieces: Table) -> Table:
    """Reduce side: in each (kind, fingerprint) group the first item in input order is the
    original, and every later item a copy candidate, a copy once its set proves equal (Jaccard 1;
    a fingerprint collision leaves the item fresh, as in the index)."""
    table = Table.concat(pieces)
    table = table.take(np.lexsort((table["owner"], table["key"], table["kind"])))
    kind, key, owner = table["kind"], table["key"], table["owner"]
    starts = np.ones(len(table), dtype=bool)
    starts[1:] = (kind[1:] != kind[:-1]) | (key[1:] != key[:-1])
    first = np.maximum.accumulate(np.where(starts, np.arange(len(table)), 0))
    later = np.flatnonzero(~starts)
    return Table({"kind": kind[later], "item": owner[later], "other": owner[first[later]], "bands": np.zeros(len(later), dtype=np.int64)})


@dataclass(frozen=True, slots=True)
class IndexRules:
    """The matching rules of one `NearDuplicateIndex` (read off the local engine's own indexes)."""

    threshold: float
    bands: int
    rows: int
    bucket_cap: int
    candidate_cap: int
    min_sketch_agreement: int

    @classmethod
    def of(cls, index: NearDuplicateIndex) -> IndexRules:
        return cls(index.threshold, index.bands, index.rows, index.bucket_cap, index.candidate_cap, index.min_sketch_agreement)


def index_rules(options: DedupOptions) -> tuple[IndexRules, IndexRules]:
    """The rules of the paragraph and the document index, read off an empty local `Deduplicator`."""
    local = Deduplicator(options)
    return IndexRules.of(local.paragraphs), IndexRules.of(local.documents)


def band_split(
    part: PartitionIndex, bases: tuple[int, int], copies: tuple[np.ndarray, np.ndarray],
    rules: tuple[IndexRules, IndexRules], count: int, rounds: int = 1, round: int = 0,
) -> list[Table]:
    """Map side of the LSH shuffle: (kind, 32-bit band key, item id, set size) of every band of
    every item that is not an exact copy (`copies`: local rows per kind), in round `round` of
    `rounds` those whose key's high byte falls to that round (a bucket is never split)."""
    tables = []
    for kind in KINDS:
        items, bands = part.items[kind], rules[kind].bands
        fresh = np.setdiff1d(np.arange(len(items.sets)), copies[kind])
        keys = items.keys[fresh].ravel()
        mine = np.flatnonzero((keys >> np.uint32(24)) % rounds == round)
        rows = fresh[mine // bands]  # the local row of each entry's item (keys are row-major)
        tables.append(Table({
            "kind": np.full(len(mine), kind, dtype=np.int8),
            "key": keys[mine],
            "owner": bases[kind] + rows,
            "size": items.sets.sizes[rows],
        }))
    table = Table.concat(tables)
    return split(table, ((table["key"].astype(np.int64) + table["kind"]) % count), count)


def _count_pairs(kind: int, item: np.ndarray, other: np.ndarray, weights: np.ndarray | None = None) -> Table:
    """Distinct (item, other) pairs with how many band entries produced them."""
    codes, inverse = np.unique((item << np.int64(32)) | other, return_inverse=True)
    bands = np.bincount(inverse.ravel(), weights=weights, minlength=len(codes)).astype(np.int64)
    return Table({"kind": np.full(len(codes), kind, dtype=np.int8), "item": codes >> np.int64(32),
                  "other": codes & np.int64(0xFFFFFFFF), "bands": bands})


def bucket_candidates(*pieces: Table, rules: tuple[IndexRules, IndexRules]) -> Table:
    """Reduce side: within each (kind, key) bucket in input order, an entry is paired with the
    first min(rank, bucket_cap) entries (`earlier_in_batch`, the index's own rule); pairs of an
    item with itself or outside the size bound are dropped; each pair counts its shared bands."""
    table = Table.concat(pieces)
    found = []
    for kind in KINDS:
        threshold = rules[kind].threshold
        rows = np.flatnonzero(table["kind"] == kind)
        rows = rows[np.argsort(table["owner"][rows], kind="stable")]
        keys, owners, sizes = table["key"][rows], table["owner"][rows], table["size"][rows]
        position, other = earlier_in_batch(keys, owners, np.full(len(keys), rules[kind].bucket_cap, dtype=np.int64))
        item, size_item = owners[position], sizes[position]
        known, first = np.unique(owners, return_index=True)
        size_other = sizes[first[np.searchsorted(known, other)]]
        keep = (item != other) & (np.minimum(size_item, size_other) >= threshold * np.maximum(size_item, size_other))
        found.append(_count_pairs(kind, item[keep], other[keep]))
    return Table.concat(found)


def shard_of(ids: np.ndarray, kinds: np.ndarray, offsets: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The shard holding each item (`offsets[kind]`: first id of every shard, then the total)."""
    out = np.empty(len(ids), dtype=np.int64)
    for kind in KINDS:
        rows = kinds == kind
        out[rows] = np.searchsorted(offsets[kind], ids[rows], "right") - 1
    return out


def route(table: Table, column: str, offsets: tuple[np.ndarray, np.ndarray]) -> list[Table]:
    """Map side of a shuffle to the shards holding the items named in `column`."""
    return split(table, shard_of(table[column], table["kind"], offsets), len(offsets[0]) - 1)


def attach_sets(part: PartitionIndex, bases: tuple[int, int], offsets: tuple[np.ndarray, np.ndarray], *pieces: Table) -> list[Table]:
    """First verification hop, at the shard of the earlier items: merge the pieces' pairs
    (adding up their shared bands), join the earlier item's set and b-bit sketch (the low byte of
    each signature value), then route the pairs to the shards of the later items."""
    table = Table.concat(pieces)
    joined = []
    for kind in KINDS:
        rows = np.flatnonzero(table["kind"] == kind)
        pairs = _count_pairs(kind, table["item"][rows], table["other"][rows], table["bands"][rows])
        local = pairs["other"] - bases[kind]
        pairs.columns["sketch"] = part.items[kind].sketch[local]
        pairs.sets = part.items[kind].sets.select(local)
        joined.append(pairs)
    return route(Table.concat(joined), "item", offsets)


def verify_pairs(part: PartitionIndex, bases: tuple[int, int], rules: tuple[IndexRules, IndexRules] | None, *pieces: Table) -> Table:
    """Second hop, at the shard of the later items. With `rules`, as the index does: drop
    pairs whose b-bit sketches agree too little, keep per item the `candidate_cap` pairs sharing
    the most bands (then the earliest), and keep those whose exact Jaccard reaches the threshold.
    Without, just the exact Jaccard of every pair. (The filters select rows of the columns; the
    travelling sets are read in place, never copied.)"""
    table = Table.concat(pieces)
    kinds, items, others, bands = table["kind"], table["item"], table["other"], table["bands"]
    verified = []
    for kind in KINDS:
        rows = np.flatnonzero(kinds == kind)
        if rules is not None:
            rule = rules[kind]
            agreement = (part.items[kind].sketch[items[rows] - bases[kind]] == table["sketch"][rows]).sum(axis=1)
            rows = rows[agreement >= rule.min_sketch_agreement]
            rows = rows[np.lexsort((others[rows], -bands[rows], items[rows]))]
            rank = np.arange(len(rows)) - np.searchsorted(items[rows], items[rows], "left")
            rows = rows[rank < rule.candidate_cap]
        jaccard = pair_jaccard(part.items[kind].sets, items[rows] - bases[kind], table.sets, rows)
        passed = jaccard >= (rules[kind].threshold if rules is not None else 0.0)
        keep = rows[passed]
        verified.append(Table({
            "kind": kinds[keep], "item": items[keep], "other": others[keep], "bands": bands[keep], "jaccard": jaccard[passed],
        }))
    return Table.concat(verified)


def lookup(part: PartitionIndex, bases: tuple[int, int], paragraphs: np.ndarray, documents: np.ndarray) -> tuple[list[str], np.ndarray, list[str]]:
    """Document ids and line numbers of paragraph items, and document ids of document items."""
    paragraph_where = part.items[PARAGRAPHS].where[paragraphs - bases[PARAGRAPHS]]
    document_where = part.items[DOCUMENTS].where[documents - bases[DOCUMENTS]]
    return (
        [part.ids[b][d] for b, d in paragraph_where[:, :2].tolist()],
        paragraph_where[:, 3],
        [part.ids[b][d] for b, d in document_where.tolist()],
    )


@dataclass(slots=True)
class Flags:
    """What the dedup stage decided for one partition's items (rows are local to the partition)."""

    paragraph_rows: np.ndarray
    paragraph_refs: list[DuplicateRef]
    document_rows: np.ndarray  # one entry per near-duplicate pair, in (item, other) order
    document_refs: list[dict[str, Any]]

    def apply(self, part: PreparedPartition) -> None:
        """Flag the partition's records (or documents), batch by batch, as the local engine's
        `BatchMatches` flags a batch."""
        paragraphs, documents = part.where[PARAGRAPHS][self.paragraph_rows], part.where[DOCUMENTS][self.document_rows]
        for b, (batch, _, _) in enumerate(part.batches):
            rows, near = np.flatnonzero(paragraphs[:, 0] == b), np.flatnonzero(documents[:, 0] == b)
            BatchMatches(
                paragraphs[rows, 1], paragraphs[rows, 2], paragraphs[rows, 3], [self.paragraph_refs[i] for i in rows],
                [(int(documents[i, 1]), self.document_refs[i]) for i in near],
            ).apply(batch)


def finish_partition(
    batches: list[tuple[list[Document], list[ErrorRecord], int]], options: RunOptions
) -> list[tuple[list[EncodedRecord], list[ErrorRecord], int]]:
    """With --drop-duplicates: classify and encode a partition's flagged documents (`finish_batch`)."""
    models = worker_models(options.models_dir) if "classify" in options.stages else None
    return [(finish_batch(docs, None, errors, None, models, options), errors, n_items) for docs, errors, n_items in batches]


# --- the client ----------------------------------------------------------------------------------


def _exchange(client: Any, splits: list[Any]) -> tuple[dict[int, list[Any]], dict[int, int]]:
    """All-to-all: `splits[i]` is a future of a list of pieces, one per destination; returns, for
    each destination that receives anything, futures of its non-empty pieces and their total rows."""
    sizes = client.gather([client.submit(_piece_sizes, s) for s in splits])
    routed: dict[int, list[Any]] = {}
    rows: dict[int, int] = {}
    for source, counts in zip(splits, sizes):
        for destination, count in enumerate(counts):
            if count:
                routed.setdefault(destination, []).append(client.submit(getitem, source, destination))
                rows[destination] = rows.get(destination, 0) + count
    return routed, rows


def _gather_table(client: Any, futures: list[Any], columns: tuple[str, ...]) -> Table:
    tables = [t for t in client.gather(futures) if len(t)]
    if not tables:
        return Table({name: np.zeros(0, dtype=np.int64) for name in columns})
    return Table.concat(tables)


def shard_size(number: int, first_size: int = SHARD_PARTITIONS, per_size: int = SHARDS_PER_SIZE) -> int:
    """Partitions in the `number`-th dedup shard: `per_size` shards of `first_size`, then
    `per_size` of twice that, and so on."""
    return first_size << (number // per_size)


def band_rounds(entries: int, workers: int) -> int:
    """Rounds of the LSH shuffle for `entries` band entries over `workers`: each round's share of
    a worker about ROUND_BYTES (rounds have a high byte of the keys each, hence at most 256)."""
    return max(1, min(256, math.ceil(entries * BAND_ENTRY_BYTES / (max(workers, 1) * ROUND_BYTES))))


def verify_waves(pairs: np.ndarray, workers: int) -> np.ndarray:
    """Where to cut consecutive shards (with `pairs` candidate pairs each) into verification
    waves of about ROUND_BYTES of travelling pairs per worker (`np.split` indices; a shard is
    never cut)."""
    total = int(pairs.sum())
    waves = min(len(pairs), math.ceil(total * VERIFY_PAIR_BYTES / (max(workers, 1) * ROUND_BYTES)))
    if waves <= 1:
        return np.zeros(0, dtype=np.int64)
    cuts = np.searchsorted(np.cumsum(pairs), np.arange(1, waves) * total / waves, "right")
    return np.unique(cuts.clip(1, len(pairs) - 1))


def _first_ids(offsets: tuple[np.ndarray, np.ndarray]) -> list[tuple[int, int]]:
    """Per partition or shard: the id of its first paragraph and of its first document item."""
    return list(zip(*(o[:-1].tolist() for o in offsets)))


class _Dedup:
    """The client's side of the distributed dedup stage over partitions held by the workers."""

    def __init__(self, client: Any, shards: list[Any], counts: np.ndarray, sizes: list[int], options: RunOptions) -> None:
        """shards: futures of the `PartitionIndex`es of consecutive partitions, `sizes[i]` in
        the i-th; counts: (partitions, 2) paragraph and document items per partition."""
        self.client, self.shards = client, shards
        self.rules = index_rules(options.dedup)
        # Items are numbered in input order: a partition's (and a shard's) items are one id range.
        self.partition_offsets = tuple(np.concatenate(([0], np.cumsum(counts[:, kind]))) for kind in KINDS)
        shard_starts = np.concatenate(([0], np.cumsum(sizes)))
        self.offsets = tuple(o[shard_starts] for o in self.partition_offsets)
        self.bases = _first_ids(self.offsets)
        self.workers = workers = max(1, len(client.scheduler_info().get("workers", {})))
        # A reducer gathers 1/reducers of the corpus's band entries: with sqrt(partitions)
        # reducers its task grows as the square root of the corpus.
        self.reducers = max(1, min(len(counts), max(2 * workers, math.isqrt(len(counts)))))
        self.band_rounds = band_rounds(sum(int(counts[:, kind].sum()) * rule.bands for kind, rule in zip(KINDS, self.rules)), workers)

    def _verify(self, pairs: list[Any], rules: tuple[IndexRules, IndexRules] | None) -> Table:
        """Verify candidate pairs (futures of tables of kind, item, other, bands) at the sets.

        The pairs are first grouped by the shard of their later item (`pairs` is emptied, so
        its futures are released), then verified in waves of consecutive such shards: a pair on
        its way carries the earlier item's set and sketch (`attach_sets`), so each wave's pairs
        are cut to about ROUND_BYTES of that per worker. An item's pairs are all in one wave, so
        the per-item candidate cap sees them all, as in the local index."""
        client, columns = self.client, ("kind", "item", "other", "bands", "jaccard")
        routed, rows = _exchange(client, [client.submit(route, t, "item", self.offsets) for t in pairs])
        by_item = {p: client.submit(Table.concat, pieces) for p, pieces in sorted(routed.items())}
        with client.as_current():
            wait(list(by_item.values()))
        pairs.clear()
        del routed
        shards = np.array(list(by_item), dtype=np.int64)
        waves = verify_waves(np.array([rows[p] for p in shards], dtype=np.int64), self.workers)
        edges = []
        for wave in np.split(shards, waves):
            routed, _ = _exchange(client, [client.submit(route, by_item.pop(p), "other", self.offsets) for p in wave.tolist()])
            attached = [client.submit(attach_sets, self.shards[q], self.bases[q], self.offsets, *pieces) for q, pieces in routed.items()]
            routed, _ = _exchange(client, attached)
            verified = [client.submit(verify_pairs, self.shards[p], self.bases[p], rules, *pieces) for p, pieces in routed.items()]
            edges.append(_gather_table(client, verified, columns))  # the wave's sets are released with its futures
            del routed, attached, verified
        return Table.concat(edges)  # np.split always yields a wave, so never empty

    def edges(self) -> Table:
        """Verified pairs (kind, item, other, bands, jaccard): exact copies, then near copies."""
        client, shards = self.client, self.shards
        splits = [client.submit(fingerprint_split, p, b, self.reducers) for p, b in zip(shards, self.bases)]
        candidates = [client.submit(copy_candidates, *pieces) for pieces in _exchange(client, splits)[0].values()]
        copies = self._verify(candidates, None)
        copies = copies.take(np.flatnonzero(copies["jaccard"] == 1.0))
        copy_shard = shard_of(copies["item"], copies["kind"], self.offsets)
        local_copies = [
            tuple(copies["item"][(copies["kind"] == kind) & (copy_shard == p)] - bases[kind] for kind in KINDS)
            for p, bases in enumerate(self.bases)
        ]
        # The band entries are the largest table of the run (items x bands rows): shuffled in
        # rounds, one round's at a time, so a worker holds 1/rounds of its share of them.
        candidates = []
        for round in range(self.band_rounds):
            splits = [
                client.submit(band_split, p, b, c, self.rules, self.reducers, self.band_rounds, round)
                for p, b, c in zip(shards, self.bases, local_copies)
            ]
            found = [client.submit(bucket_candidates, *pieces, rules=self.rules) for pieces in _exchange(client, splits)[0].values()]
            with client.as_current():  # this round's entries are released before the next round's are made
                wait(found)
            candidates += found
            del splits, found
        return Table.concat([copies, self._verify(candidates, self.rules)])

    def flags(self) -> list[Flags]:
        """Per partition (not shard): the duplicate flags of its paragraphs and near duplicates of its documents."""
        client, edges = self.client, self.edges()
        # The index's order: by item, then most shared bands, then earliest (a copy has one edge).
        edges = edges.take(np.lexsort((edges["other"], -edges["bands"], edges["item"], edges["kind"])))
        paragraph_edges = edges.take(np.flatnonzero(edges["kind"] == PARAGRAPHS))
        document_edges = edges.take(np.flatnonzero(edges["kind"] == DOCUMENTS))

        # Union-find in input order, as the paragraph index does: canonical = the cluster's root
        # when the item joins it, similarity = exact Jaccard with that root.
        forest = _Forest(np.zeros(0, dtype=ID_DTYPE))
        item, other, jaccard = paragraph_edges["item"], paragraph_edges["other"], paragraph_edges["jaccard"]
        bounds = np.append(np.flatnonzero(np.diff(item, prepend=-1)), len(item))  # [0] when no paragraph is flagged
        flagged, canonical, similarity = item[bounds[:-1]], np.zeros(len(bounds) - 1, dtype=np.int64), np.zeros(len(bounds) - 1)
        for n, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
            canonical[n] = root = forest.union(int(item[lo]), other[lo:hi].tolist())
            match = np.flatnonzero(other[lo:hi] == root)
            similarity[n] = jaccard[lo + match[0]] if len(match) else np.nan
        missing = np.flatnonzero(np.isnan(similarity))
        if len(missing):
            pairs = Table({"kind": np.full(len(missing), PARAGRAPHS, dtype=np.int8), "item": flagged[missing],
                           "other": canonical[missing], "bands": np.zeros(len(missing), dtype=np.int64)})
            roots = self._verify([client.scatter(pairs)], None)
            roots = roots.take(np.argsort(roots["item"]))
            similarity[missing] = roots["jaccard"][np.searchsorted(roots["item"], flagged[missing])]

        # Names of the referenced items, asked of the partitions that hold them.
        wanted = (np.unique(canonical), np.unique(document_edges["other"]))
        where = [shard_of(ids, np.full(len(ids), kind), self.offsets) for kind, ids in zip(KINDS, wanted)]
        asked = {
            p: client.submit(lookup, self.shards[p], self.bases[p], wanted[0][where[0] == p], wanted[1][where[1] == p])
            for p in np.union1d(where[0], where[1]).tolist()
        }
        paragraph_name: dict[int, tuple[str, int]] = {}
        document_name: dict[int, str] = {}
        for p, (paragraph_docs, lines, document_docs) in zip(asked, client.gather(list(asked.values()))):
            paragraph_name.update(zip(wanted[0][where[0] == p].tolist(), zip(paragraph_docs, lines.tolist())))
            document_name.update(zip(wanted[1][where[1] == p].tolist(), document_docs))

        # Items are numbered partition by partition, so each partition's share is one slice.
        paragraph_cut = np.searchsorted(flagged, self.partition_offsets[PARAGRAPHS])
        document_cut = np.searchsorted(document_edges["item"], self.partition_offsets[DOCUMENTS])
        flags = []
        for p, bases in enumerate(_first_ids(self.partition_offsets)):
            mine = slice(paragraph_cut[p], paragraph_cut[p + 1])
            refs = [
                DuplicateRef(*paragraph_name[int(c)], similarity=round(float(s), 4))
                for c, s in zip(canonical[mine], similarity[mine])
            ]
            near = slice(document_cut[p], document_cut[p + 1])
            near_refs = [
                {"doc_id": document_name[int(o)], "jaccard": round(float(j), 4)}
                for o, j in zip(document_edges["other"][near], document_edges["jaccard"][near])
            ]
            flags.append(Flags(flagged[mine] - bases[PARAGRAPHS], refs, document_edges["item"][near] - bases[DOCUMENTS], near_refs))
        return flags


def _stream(client: Any, partitions: Iterable[list[Batch | JsonlSlice]], task: Callable[[list[Any]], Any], window: int) -> Iterator[Any]:
    """`task`'s futures over the partitions, in order, each partition's batches scattered to the
    cluster just before its task is submitted: the caller waits on each future it is given, and
    no more than `window` partitions are on the cluster at a time, whatever the corpus size."""
    in_flight: deque[Any] = deque()
    for batches in partitions:
        # Unique keys (no hashing of the data): partitions of two runs on one scheduler never alias.
        in_flight.append(task(client.scatter(batches, hash=False)))
        if len(in_flight) >= window:
            yield in_flight.popleft()
    yield from in_flight


def _corpus_line_counts(client: Any, partitions: Callable[[], Iterator[list[Batch | JsonlSlice]]], inputs: list[str], options: RunOptions, window: int) -> Any:
    """A future of the corpus's repeated lines (as `classify.pipeline.count_corpus_lines` finds
    them, in a first pass over the inputs, through a shuffle on line keys: no node holds every
    line's count), or None when repetition is counted per batch or stdin cannot be read twice."""
    if not counts_over_corpus(inputs, options):
        return None
    reducers = 2 * window
    splits = []
    count = partial(client.submit, line_count_split, parts=reducers, options=options.read, pure=False)
    for future in _stream(client, partitions(), count, window):
        # Wait without fetching the result, which stays on its worker (Future.exception blocks until done).
        if (error := future.exception()) is not None:
            raise error
        splits.append(future)
    if not splits:
        return None
    pieces, _ = _exchange(client, splits)
    min_count = options.clean.min_source_repeats
    return client.submit(join_line_counts, *[client.submit(repeated_lines, *p, min_count=min_count) for p in pieces.values()])


def run_dask(
    inputs: Iterable[str | Path],
    output: Path | str,
    errors_output: Path | str,
    options: RunOptions,
    fmt: str = "jsonl",
    scheduler: str | None = None,
    workers: int = 2,
    on_batch: Callable[[list[EncodedRecord], list[ErrorRecord]], None] | None = None,
    partition_batches: int = PARTITION_BATCHES,
    shard_partitions: int = SHARD_PARTITIONS,
    shards_per_size: int = SHARDS_PER_SIZE,
) -> RunSummary:
    """`classify.pipeline.run` on a Dask cluster, with the same output.

    scheduler: address of a running scheduler; None starts a `LocalCluster` of `workers`
    single-threaded worker processes for the run. partition_batches: batches of
    `options.batch_size` documents per Dask partition. shard_partitions, shards_per_size:
    consecutive partitions whose dedup items the shuffles handle as one (merged on a worker), at
    first, and how many shards of each size before the size doubles (`shard_size`). Not supported here: a
    persistent dedup index (`options.index_path`) and resuming (the run is one Dask computation).

    Memory stays bounded but for the dedup items: the inputs stream to the cluster a few
    partitions at a time (twice when repetition is counted over the corpus: once to count, once
    to process), and each partition's records come back to a scratch file of this process
    (in the temporary directory, $TMPDIR) as soon as its workers are done with them; the records
    are flagged and written, in input order, once the dedup shuffles have run.
    """
    if options.index_path is not None:
        raise ValueError("the Dask engine does not use a persistent dedup index; run with the local engine")
    inputs = [str(item) for item in inputs]
    options = excluding_run_files(inputs, output, errors_output, options)
    if "classify" in options.stages:
        load_models(options.models_dir)  # fail fast, as the local engine does, before any worker starts
    with _client(scheduler, workers) as client, tempfile.TemporaryFile(prefix="classify-dask-") as scratch:
        addresses = list(client.scheduler_info().get("workers", {}))
        window = 2 * max(1, len(addresses))  # partitions on the cluster at a time

        def partitions() -> Iterator[list[Batch | JsonlSlice]]:
            # The workers of our own LocalCluster see this machine's files: as the local engine's
            # workers, they read plain JSONL batches themselves (`JsonlSlice`s), so this process
            # neither parses nor ships those documents. A remote cluster's workers are sent documents.
            if scheduler is None:
                return batched(read_batches(inputs, options.read, options.batch_size), partition_batches)
            return batched(batched(read_documents(inputs, options.read), options.batch_size), partition_batches)

        counts = _corpus_line_counts(client, partitions, inputs, options, window)
        offsets, item_counts, shards, shard_sizes = _prepare_partitions(
            client, partitions(), counts, options, scratch, addresses, (shard_partitions, shards_per_size)
        )
        del counts  # the workers' copy of the line counts
        flags = [None] * len(offsets)
        if shards:
            flags = _Dedup(client, shards, np.array(item_counts, dtype=np.int64), shard_sizes, options).flags()
        del shards  # the workers' dedup items

        def flagged() -> Iterator[PreparedPartition]:
            for offset, partition_flags in zip(offsets, flags):
                scratch.seek(offset)
                part = pickle.load(scratch)
                if partition_flags is not None:
                    partition_flags.apply(part)
                yield part

        if encodes_in_worker(options):
            finished = (part.batches for part in flagged())
        else:  # the documents go back to the workers to be classified and encoded
            finish = partial(client.submit, finish_partition, options=options, pure=False)
            finished = (future.result() for future in _stream(client, (part.batches for part in flagged()), finish, window))
        return _write(finished, output, errors_output, fmt, on_batch)


@contextmanager
def _client(scheduler: str | None, workers: int) -> Iterator[Client]:
    """A client of the scheduler at `scheduler`, or of a `LocalCluster` of `workers` single-threaded
    worker processes started for the run and closed with it."""
    cluster = None
    if scheduler is None:
        # Our own cluster lives for one batch run: no dashboard profiles, whose stack sampling
        # every 10 ms cost the workers about a tenth of their time.
        with dask.config.set({"distributed.worker.profile.enabled": False}):
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=":0")
    client = Client(scheduler or cluster, set_as_default=False)
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _prepare_partitions(
    client: Client,
    partitions: Iterable[list[Batch | JsonlSlice]],
    counts: Any,
    options: RunOptions,
    scratch: BinaryIO,
    addresses: list[str],
    sizes: tuple[int, int],
) -> tuple[list[int], list[tuple[int, int]], list[Any], list[int]]:
    """The map side: every partition prepared on the cluster (`prepare_partition`), two per
    worker at a time, its records pickled to `scratch` as it comes back and its dedup items left
    on the workers, merged into shards of consecutive partitions (`shard_size` with `sizes`).
    Returns each partition's offset in `scratch` and its numbers of paragraph and document items,
    and the shards' futures and sizes."""
    minhasher = MinHasher(options.dedup.num_perm, options.dedup.seed) if "dedup" in options.stages else None
    prepare = partial(client.submit, prepare_partition, options=options, counts=counts, minhasher=minhasher, pure=False)
    offsets, item_counts, shards, shard_sizes, shard = [], [], [], [], []

    def merge() -> None:
        # Shards go round the workers (a preference, not a rule: a lost worker's shards are
        # recomputed elsewhere), so the shuffles' map side and its memory are shared evenly.
        preferred = [addresses[len(shards) % len(addresses)]] if addresses else None
        shards.append(client.submit(merge_indexes, *shard, workers=preferred, allow_other_workers=True))
        shard_sizes.append(len(shard))
        shard.clear()

    for future in _stream(client, partitions, prepare, 2 * max(1, len(addresses))):
        part = client.submit(getitem, future, 0).result()
        offsets.append(scratch.tell())
        pickle.dump(part, scratch, protocol=pickle.HIGHEST_PROTOCOL)
        if part.where is not None:
            item_counts.append((len(part.where[PARAGRAPHS]), len(part.where[DOCUMENTS])))
            shard.append(client.submit(getitem, future, 1))
            if len(shard) == shard_size(len(shards), *sizes):
                merge()
    if shard:
        merge()
    return offsets, item_counts, shards, shard_sizes


def _write(
    finished: Iterable[list[tuple[list[EncodedRecord], list[ErrorRecord], int]]],
    output: Path | str,
    errors_output: Path | str,
    fmt: str,
    on_batch: Callable[[list[EncodedRecord], list[ErrorRecord]], None] | None,
) -> RunSummary:
    """Write the partitions' records and errors, in input order, and sum them up."""
    summary = RunSummary()
    with open_writer(output, fmt) as documents, JsonlWriter(errors_output) as errors:
        for batches in finished:
            for records, batch_errors, _ in batches:
                summary.add(records, batch_errors)
                documents.write(records)
                write_errors(errors, batch_errors)
                if on_batch:
                    on_batch(records, batch_errors)
    return summary
