"""The incremental near-duplicate index: exact fingerprints, LSH buckets, exact verification, clusters.

Items (paragraphs, or documents) arrive in batches, in input order, and get consecutive ids. Each
new item is compared only with *earlier* items, so processing a corpus in one batch or in many
gives the same answer (a batch is processed as if its items were inserted one by one):

1. exact copies: an item whose shingle set equals an earlier one's (found by a 64-bit set
   fingerprint, then checked element by element) joins that item's cluster with similarity 1.
   Copies never enter the LSH buckets (an earlier identical set already stands for them), which
   keeps a paragraph repeated 10^5 times from turning its buckets into a quadratic hot spot;
2. near copies: candidates are the earlier items sharing an LSH band key (at most `bucket_cap`
   earliest per bucket), filtered by the size bound ``J(A, B) <= min(|A|,|B|) / max(|A|,|B|)``
   and by a b-bit sketch (the low 8 bits of each signature value, Li & König 2010, "b-Bit
   Minwise Hashing"): values agree with probability ``J + (1 - J) / 256``, and a pair agreeing
   less often than a pair at the threshold would in 99.99% of cases is dropped; then at most
   `candidate_cap` per item, those sharing the most bands first (a pair at Jaccard J shares
   b * J^r bands on average), are verified by the exact Jaccard of the stored sets;
3. clusters: union-find over verified pairs (Tarjan 1975), the root being the smallest id, i.e.
   the first occurrence in input order, which is the canonical item.

Sets live in a `HashSetStore` (paragraphs: their hashes) or a `UnionSetStore` (documents: the
rows of their paragraphs' sets, so no hash is stored twice). Bucket keys and fingerprints live in
`SortedRuns`, a log-structured multimap (O'Neil et al. 1996, "The LSM-tree"):
sorted numpy runs whose sizes shrink geometrically, merged pairwise, so an insert costs
O(log n) amortised and a lookup one binary search per run.
"""

from __future__ import annotations

from dataclasses import dataclass

import math

import numpy as np

from classify.dedup.minhash import band_keys
from classify.dedup.shingles import ShingleSets, concatenated_ranges, fmix64, sort_within_groups

_FINGERPRINT_SALT = np.uint64(0x94D049BB133111EB)
# Stored ids and rows are int32 (up to 2^31 - 1 items per index): a third less index memory.
ID_DTYPE = np.int32
ID_LIMIT = np.iinfo(ID_DTYPE).max
_PAIR_CHUNK_ELEMENTS = 1 << 22  # set elements sorted at once when verifying pairs
_SKETCH_MISS_RATE = 1e-4  # chance that the b-bit filter drops a pair right at the threshold



def binomial_quantile(q: float, n: int, p: float) -> int:
    """Smallest k with P(Binomial(n, p) <= k) >= q, from the log-pmf
    log C(n, k) + k log p + (n - k) log(1 - p) (exact summation; n is a few hundred at most)."""
    total = 0.0
    for k in range(n + 1):
        total += math.exp(
            math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * math.log(p) + (n - k) * math.log1p(-p)
        )
        if total >= q:
            return k
    return n

class GrowableArray:
    """A 1-d numpy array with amortised O(1) append: capacity grows by half, so a full array
    holds at most 50% slack and growing it briefly needs 2.5x its size (3x when doubling)."""

    def __init__(self, dtype: type, values: np.ndarray | None = None) -> None:
        self._data = np.zeros(16, dtype=dtype) if values is None else np.array(values, dtype=dtype)
        self._size = 0 if values is None else len(values)

    def append(self, values: np.ndarray) -> None:
        need = self._size + len(values)
        if need > len(self._data):
            grown = np.empty(max(need, len(self._data) * 3 // 2), dtype=self._data.dtype)
            grown[: self._size] = self._data[: self._size]
            self._data = grown
        self._data[self._size : need] = values
        self._size = need

    @property
    def values(self) -> np.ndarray:
        """A view of the used part (writes go through)."""
        return self._data[: self._size]

    def __len__(self) -> int:
        return self._size


def merge_sorted(older: tuple[np.ndarray, np.ndarray], newer: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Two key-sorted (keys, owners) runs as one, a newer pair after the older pairs of its key.

    A linear merge: each newer pair's place is its rank among the older keys (one binary search
    per newer key) plus its own rank, so no argsort of the union and no index array over it.
    """
    (old_keys, old_owners), (new_keys, new_owners) = older, newer
    total = len(old_keys) + len(new_keys)
    new_place = np.searchsorted(old_keys, new_keys, "right") + np.arange(len(new_keys))
    is_old = np.ones(total, dtype=bool)
    is_old[new_place] = False
    keys = np.empty(total, dtype=old_keys.dtype)
    owners = np.empty(total, dtype=old_owners.dtype)
    keys[new_place], owners[new_place] = new_keys, new_owners
    keys[is_old], owners[is_old] = old_keys, old_owners
    return keys, owners


class SortedRuns:
    """Multimap from integer key to owner id (stored as `ID_DTYPE`), owners inserted in increasing order."""

    def __init__(self, runs: list[tuple[np.ndarray, np.ndarray]] | None = None) -> None:
        self._runs: list[tuple[np.ndarray, np.ndarray]] = [(k, o) for k, o in runs or [] if len(k)]

    def add(self, keys: np.ndarray, owners: np.ndarray) -> None:
        """Insert pairs whose owners are all larger than every owner already stored."""
        if not len(keys):
            return
        order = np.argsort(keys, kind="stable")  # stable: owners stay increasing within a key
        self._runs.append((keys[order], owners[order].astype(ID_DTYPE)))
        while len(self._runs) > 1 and len(self._runs[-2][0]) <= 2 * len(self._runs[-1][0]):
            newer = self._runs.pop()
            self._runs[-1] = merge_sorted(self._runs[-1], newer)

    def earliest(self, queries: np.ndarray, cap: int | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each query key, up to `cap` of its smallest owners: (query index, owner) arrays.

        Older runs hold smaller owners, so runs are read oldest first until the cap is filled.
        """
        remaining = np.broadcast_to(np.asarray(cap, dtype=np.int64), queries.shape).copy()
        found_query, found_owner = [], []
        by_key = np.argsort(queries)  # sorted needles: the binary searches walk memory in order
        sorted_queries = queries[by_key]
        for keys, owners in self._runs:
            left = np.searchsorted(keys, sorted_queries, "left")
            hit = np.flatnonzero(keys[np.minimum(left, len(keys) - 1)] == sorted_queries)
            left = left[hit]
            matched = by_key[hit]
            take = np.minimum(np.searchsorted(keys, sorted_queries[hit], "right") - left, remaining[matched])
            remaining[matched] -= take
            found_query.append(np.repeat(matched, take))
            found_owner.append(owners[concatenated_ranges(left, take)].astype(np.int64))
        if not found_query:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.concatenate(found_query), np.concatenate(found_owner)

    @property
    def runs(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """The sorted (keys, owners) runs, oldest first (saved as they are: no merged copy)."""
        return list(self._runs)

    @property
    def nbytes(self) -> int:
        return sum(k.nbytes + o.nbytes for k, o in self._runs)


class HashSetStore:
    """Shingle sets kept as they are: uint32 hashes in CSR layout, one row per stored set."""

    def __init__(self, offsets: np.ndarray | None = None, hashes: np.ndarray | None = None) -> None:
        self._offsets = GrowableArray(np.int64, np.zeros(1, dtype=np.int64) if offsets is None else offsets)
        self._hashes = GrowableArray(np.uint32, hashes)

    def __len__(self) -> int:
        return len(self._offsets) - 1

    @property
    def nbytes(self) -> int:
        return self._offsets.values.nbytes + self._hashes.values.nbytes

    def sizes(self, rows: np.ndarray) -> np.ndarray:
        offsets = self._offsets.values
        return offsets[rows + 1] - offsets[rows]

    def take(self, rows: np.ndarray) -> ShingleSets:
        return ShingleSets(self._offsets.values, self._hashes.values).select(rows)

    def append(self, sets: ShingleSets, members: ShingleSets | None = None) -> None:
        self._offsets.append(sets.offsets[1:] + self._offsets.values[-1])
        self._hashes.append(sets.hashes)

    def state(self) -> dict[str, np.ndarray]:
        return {"offsets": self._offsets.values, "hashes": self._hashes.values}

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray]) -> HashSetStore:
        return cls(state["offsets"], state["hashes"])


class UnionSetStore:
    """Sets kept as unions of rows of another store (a document as its paragraphs' rows), so no
    hash is stored twice; a set is rebuilt only when a candidate pair needs it."""

    def __init__(self, parts: HashSetStore, state: dict[str, np.ndarray] | None = None) -> None:
        self.parts = parts
        state = state or {}
        self._member_offsets = GrowableArray(np.int64, state.get("member_offsets", np.zeros(1, dtype=np.int64)))
        self._members = GrowableArray(ID_DTYPE, state.get("members"))  # rows of `parts`
        self._sizes = GrowableArray(ID_DTYPE, state.get("sizes"))  # size of each union

    def __len__(self) -> int:
        return len(self._sizes)

    @property
    def nbytes(self) -> int:
        return self._member_offsets.values.nbytes + self._members.values.nbytes + self._sizes.values.nbytes

    def sizes(self, rows: np.ndarray) -> np.ndarray:
        return self._sizes.values[rows].astype(np.int64)

    def take(self, rows: np.ndarray) -> ShingleSets:
        offsets = self._member_offsets.values
        counts = offsets[rows + 1] - offsets[rows]
        parts = self.parts.take(self._members.values[concatenated_ranges(offsets[rows], counts)])
        hash_counts = np.bincount(np.repeat(np.arange(len(rows)), counts), weights=parts.sizes, minlength=len(rows))
        grouped = np.concatenate(([0], np.cumsum(hash_counts))).astype(np.int64)
        return ShingleSets(grouped, parts.hashes).unique()

    def append(self, sets: ShingleSets, members: ShingleSets | None = None) -> None:
        """Store `sets` as the unions of `members` (CSR whose values are rows of `parts`)."""
        if members is None:
            raise ValueError("a union store needs each set's member rows")
        self._member_offsets.append(members.offsets[1:] + self._member_offsets.values[-1])
        self._members.append(members.hashes)
        self._sizes.append(sets.sizes)

    def state(self) -> dict[str, np.ndarray]:
        return {"member_offsets": self._member_offsets.values, "members": self._members.values, "sizes": self._sizes.values}


def earlier_in_batch(keys: np.ndarray, owners: np.ndarray, cap: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each position i, up to cap[i] smallest owners among positions with the same key and a
    smaller owner: (position, owner) arrays. `owners` must be non-decreasing."""
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    group_start = np.searchsorted(sorted_keys, sorted_keys, "left")
    rank = np.arange(len(keys)) - group_start  # equal keys before this one, all with smaller owners
    take = np.minimum(rank, cap[order])
    picked = order[concatenated_ranges(group_start, take)]
    return np.repeat(order, take), owners[picked]


def set_fingerprints(sets: ShingleSets) -> np.ndarray:
    """Order-independent 64-bit fingerprint of each set: ``sum_h fmix64(h ^ salt) mod 2^64``."""
    out = np.zeros(len(sets), dtype=np.uint64)
    nonempty = sets.sizes > 0
    if nonempty.any():
        mixed = fmix64(sets.hashes.astype(np.uint64) ^ _FINGERPRINT_SALT)
        out[nonempty] = np.add.reduceat(mixed, sets.offsets[:-1][nonempty])
    return out


def pair_jaccard(left: ShingleSets, left_rows: np.ndarray, right: ShingleSets, right_rows: np.ndarray) -> np.ndarray:
    """Exact Jaccard ``|A & B| / |A | B|`` of the pairs (A = left row, B = right row), rows being
    sorted duplicate-free sets: the two sets of a pair are sorted together, and an element of the
    intersection is a hash that appears twice in a row."""
    out = np.zeros(len(left_rows), dtype=np.float64)
    sizes_a, sizes_b = left.sizes[left_rows], right.sizes[right_rows]
    chunk_end = np.cumsum(sizes_a + sizes_b)
    start = 0
    while start < len(left_rows):
        base = chunk_end[start - 1] if start else 0
        stop = max(start + 1, int(np.searchsorted(chunk_end, base + _PAIR_CHUNK_ELEMENTS, "right")))
        a, b = left_rows[start:stop], right_rows[start:stop]
        la, lb = sizes_a[start:stop], sizes_b[start:stop]
        pair = np.arange(len(a), dtype=np.int64)
        hashes = np.concatenate(
            (left.hashes[concatenated_ranges(left.offsets[a], la)], right.hashes[concatenated_ranges(right.offsets[b], lb)])
        )
        owners = np.concatenate((np.repeat(pair, la), np.repeat(pair, lb)))
        order = sort_within_groups(hashes, owners)
        hashes, owners = hashes[order], owners[order]
        twice = (hashes[1:] == hashes[:-1]) & (owners[1:] == owners[:-1])
        inter = np.bincount(owners[1:][twice], minlength=len(a))
        out[start:stop] = inter / np.maximum(la + lb - inter, 1)
        start = stop
    return out


@dataclass(slots=True)
class IndexMatches:
    """What `NearDuplicateIndex.add` found for a batch of new items (ids are global)."""

    ids: np.ndarray  # the new items' ids
    canonical: np.ndarray  # per new item: its cluster's first item, or -1 when it matched nothing
    similarity: np.ndarray  # per new item: exact Jaccard with the canonical item (nan if none)
    item: np.ndarray  # verified pairs (item, earlier item, exact Jaccard), sorted by item
    other: np.ndarray
    jaccard: np.ndarray
    pending: _Pending  # what `NearDuplicateIndex.commit` stores


@dataclass(slots=True)
class _Pending:
    sets: ShingleSets  # sets of the fresh items (exact copies share an earlier row)
    set_row: np.ndarray
    fresh_ids: np.ndarray
    fingerprints: np.ndarray  # of fresh items
    members: ShingleSets | None  # for a union store: member rows of the fresh items
    sketches: np.ndarray  # b-bit sketches of the fresh items, flattened
    keys: np.ndarray  # LSH band keys of fresh items, flattened, with their owners
    key_owner: np.ndarray
    forest: _Forest


class NearDuplicateIndex:
    """Incremental index of shingle sets with exact-copy, LSH and union-find cluster search.

    threshold: minimum exact Jaccard of a duplicate pair; bands, rows: the LSH banding of the
    signatures; bucket_cap: earliest items per bucket compared with a new item; candidate_cap:
    candidates verified per new item; store: where the sets live (default: a new `HashSetStore`).
    """

    def __init__(
        self,
        threshold: float,
        bands: int,
        rows: int,
        bucket_cap: int,
        candidate_cap: int,
        store: HashSetStore | UnionSetStore | None = None,
    ) -> None:
        self.threshold = threshold
        self.bands = bands
        self.rows = rows
        self.bucket_cap = bucket_cap
        self.candidate_cap = candidate_cap
        self.num_perm = bands * rows  # signature values the sketch keeps (the banded ones)
        agree_at_threshold = threshold + (1.0 - threshold) / 256
        self.min_sketch_agreement = binomial_quantile(_SKETCH_MISS_RATE, self.num_perm, agree_at_threshold)
        self._sketches = GrowableArray(np.uint8)  # per set row: the low byte of its signature values
        self.store = store if store is not None else HashSetStore()
        self._set_row = GrowableArray(ID_DTYPE)  # item -> row of its set (copies share a row)
        self._parent = GrowableArray(ID_DTYPE)  # union-find forest over item ids
        self._fingerprints = SortedRuns()  # set fingerprint -> first item with that set
        # LSH band key (its low 32 bits: a collision only adds a candidate that verification
        # rejects) -> items (exact copies excluded).
        self._buckets = SortedRuns()

    def __len__(self) -> int:
        return len(self._parent)

    @property
    def nbytes(self) -> int:
        """Bytes of index state in use (what grows with the corpus)."""
        arrays = (self._set_row, self._parent, self._sketches)
        return sum(a.values.nbytes for a in arrays) + self.store.nbytes + self._fingerprints.nbytes + self._buckets.nbytes

    def _set_sizes(self, batch: ShingleSets, ids: np.ndarray) -> np.ndarray:
        """Set sizes of items given by id, earlier (stored) or in the current batch."""
        base = len(self)
        old = ids < base
        sizes = np.empty(len(ids), dtype=np.int64)
        sizes[old] = self.store.sizes(self._set_row.values[ids[old]])
        sizes[~old] = batch.sizes[ids[~old] - base]
        return sizes

    def _jaccard(self, batch: ShingleSets, items: np.ndarray, others: np.ndarray) -> np.ndarray:
        """Exact Jaccard of (batch item, earlier or batch item) pairs given by id."""
        base = len(self)
        old = others < base
        out = np.empty(len(items), dtype=np.float64)
        earlier = self.store.take(self._set_row.values[others[old]])
        out[old] = pair_jaccard(batch, items[old] - base, earlier, np.arange(len(earlier)))
        out[~old] = pair_jaccard(batch, items[~old] - base, batch, others[~old] - base)
        return out

    def add(self, sets: ShingleSets, signatures: np.ndarray, members: ShingleSets | None = None) -> IndexMatches:
        """Insert a batch: `match` then `commit`."""
        matches = self.match(sets, signatures, members)
        self.commit(matches)
        return matches

    def match(self, sets: ShingleSets, signatures: np.ndarray, members: ShingleSets | None = None) -> IndexMatches:
        """Compare a batch of non-empty sets (sorted, duplicate-free rows) with their MinHash
        signatures against all earlier items and each other, without changing the index; the
        batch's items get ids from ``len(self)`` on, valid once `commit`ted. `members`: for a
        `UnionSetStore`, each set's rows in the parts' store."""
        n = len(sets)
        base = len(self)
        if base + n > ID_LIMIT:
            raise OverflowError(f"an index holds at most {ID_LIMIT} items; shard the corpus")
        ids = base + np.arange(n, dtype=np.int64)

        # 1. Exact copies: earliest earlier item with the same fingerprint, then checked exactly.
        fingerprints = set_fingerprints(sets)
        copy_of = np.full(n, -1, dtype=np.int64)
        query, owner = self._fingerprints.earliest(fingerprints, 1)
        copy_of[query] = owner
        query, owner = earlier_in_batch(fingerprints, ids, (copy_of < 0).astype(np.int64))
        copy_of[query] = owner
        copies = np.flatnonzero(copy_of >= 0)
        same = self._jaccard(sets, ids[copies], copy_of[copies]) == 1.0
        copy_of[copies[~same]] = -1  # a fingerprint collision: treat as a new set
        copies = copies[same]
        fresh = np.flatnonzero(copy_of < 0)

        # 2. Near copies of fresh items: LSH candidates, size bound, b-bit sketch, candidate cap, exact Jaccard.
        keys = band_keys(signatures[fresh], self.bands, self.rows).ravel().astype(np.uint32)
        key_owner = np.repeat(ids[fresh], self.bands)
        query, other = self._buckets.earliest(keys, self.bucket_cap)
        remaining = self.bucket_cap - np.bincount(query, minlength=len(keys))
        in_batch_query, in_batch_other = earlier_in_batch(keys, key_owner, remaining)
        item = key_owner[np.concatenate((query, in_batch_query))]
        other = np.concatenate((other, in_batch_other))
        pair_code, shared_bands = np.unique(item * (base + n) + other, return_counts=True)
        item, other = pair_code // (base + n), pair_code % (base + n)
        size_item, size_other = sets.sizes[item - base], self._set_sizes(sets, other)
        keep = (item != other) & (np.minimum(size_item, size_other) >= self.threshold * np.maximum(size_item, size_other))
        item, other, shared_bands = item[keep], other[keep], shared_bands[keep]
        sketches = signatures[:, : self.num_perm].astype(np.uint8)
        keep = self._sketch_agreement(sketches, item, other) >= self.min_sketch_agreement
        item, other, shared_bands = item[keep], other[keep], shared_bands[keep]
        by_evidence = np.lexsort((other, -shared_bands, item))  # per item: most shared bands, then earliest
        item, other = item[by_evidence], other[by_evidence]
        rank = np.arange(len(item)) - np.searchsorted(item, item, "left")
        item, other = item[rank < self.candidate_cap], other[rank < self.candidate_cap]
        jaccard = self._jaccard(sets, item, other)
        verified = jaccard >= self.threshold
        item = np.concatenate((ids[copies], item[verified]))
        other = np.concatenate((copy_of[copies], other[verified]))
        jaccard = np.concatenate((np.ones(len(copies)), jaccard[verified]))
        order = np.argsort(item, kind="stable")
        item, other, jaccard = item[order], other[order], jaccard[order]

        # 3. Clusters, in input order: a new item's root is the smallest root among its matches.
        # Parent changes go to an overlay first and reach the forest only in `commit`.
        forest = _Forest(self._parent.values)
        canonical = np.full(n, -1, dtype=np.int64)
        bounds = np.flatnonzero(np.diff(item, prepend=-1, append=-1))
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            canonical[item[lo] - base] = forest.union(int(item[lo]), other[lo:hi].tolist())
        flagged = np.flatnonzero(canonical >= 0)
        similarity = np.full(n, np.nan)
        similarity[flagged] = self._jaccard(sets, ids[flagged], canonical[flagged])

        set_row = np.empty(n, dtype=np.int64)
        set_row[fresh] = len(self.store) + np.arange(len(fresh))
        set_row[copies] = self._set_row_of(copy_of[copies], set_row, base)
        pending = _Pending(
            sets.select(fresh), set_row, ids[fresh], fingerprints[fresh], None if members is None else members.select(fresh),
            sketches[fresh].ravel(), keys, key_owner, forest,
        )
        return IndexMatches(ids, canonical, similarity, item, other, jaccard, pending)

    def commit(self, matches: IndexMatches) -> None:
        """Store a matched batch: parents, then sets, fingerprints and bucket keys of fresh items."""
        if len(matches.ids) and matches.ids[0] != len(self):
            raise ValueError("the index changed since this batch was matched")
        pending = matches.pending
        self._parent.append(matches.ids)
        pending.forest.write_to(self._parent.values)
        self.store.append(pending.sets, pending.members)
        self._sketches.append(pending.sketches)
        self._set_row.append(pending.set_row)
        self._fingerprints.add(pending.fingerprints, pending.fresh_ids)
        self._buckets.add(pending.keys, pending.key_owner)

    def _sketch_agreement(self, batch_sketches: np.ndarray, items: np.ndarray, others: np.ndarray) -> np.ndarray:
        """How many of the b-bit sketch values of each (batch item, earlier item) pair agree."""
        base = len(self)
        stored = self._sketches.values.reshape(-1, self.num_perm)
        agreement = np.empty(len(items), dtype=np.int64)
        step = max(1, _PAIR_CHUNK_ELEMENTS // self.num_perm)
        for lo in range(0, len(items), step):
            chunk_items, chunk_others = items[lo : lo + step], others[lo : lo + step]
            old = chunk_others < base
            theirs = np.empty((len(chunk_items), self.num_perm), dtype=np.uint8)
            theirs[old] = stored[self._set_row.values[chunk_others[old]]]
            theirs[~old] = batch_sketches[chunk_others[~old] - base]
            agreement[lo : lo + step] = (batch_sketches[chunk_items - base] == theirs).sum(axis=1)
        return agreement

    def _set_row_of(self, items: np.ndarray, batch_rows: np.ndarray, base: int) -> np.ndarray:
        """Set rows of items given by id, earlier (stored) or in the current batch."""
        rows = np.empty(len(items), dtype=np.int64)
        old = items < base
        rows[old] = self._set_row.values[items[old]]
        rows[~old] = batch_rows[items[~old] - base]
        return rows

    def clusters(self) -> np.ndarray:
        """The canonical (first) item of every item's cluster, by pointer jumping over the forest."""
        roots = self._parent.values.copy()
        while not np.array_equal(jumped := roots[roots], roots):
            roots = jumped
        return roots

    def state(self) -> dict[str, np.ndarray]:
        """The arrays that describe the index besides its multimaps (`runs`), as views: nothing is
        copied. `from_state` rebuilds the index from both."""
        return {
            **self.store.state(),
            "sketches": self._sketches.values,
            "set_row": self._set_row.values,
            "parent": self._parent.values,
        }

    def runs(self) -> dict[str, list[tuple[np.ndarray, np.ndarray]]]:
        """Each multimap's sorted (keys, owners) runs, oldest first. A run never changes once
        built (a merge builds a new one), so a saver can write each run once."""
        return {"fingerprint": self._fingerprints.runs, "bucket": self._buckets.runs}

    @classmethod
    def from_state(
        cls,
        state: dict[str, np.ndarray],
        runs: dict[str, list[tuple[np.ndarray, np.ndarray]]],
        threshold: float,
        bands: int,
        rows: int,
        bucket_cap: int,
        candidate_cap: int,
        store: HashSetStore | UnionSetStore,
    ) -> NearDuplicateIndex:
        """An index restored from `state` and `runs`; `store` must already hold the state's sets."""
        index = cls(threshold, bands, rows, bucket_cap, candidate_cap, store)
        index._sketches = GrowableArray(np.uint8, state["sketches"])
        index._set_row = GrowableArray(ID_DTYPE, state["set_row"])
        index._parent = GrowableArray(ID_DTYPE, state["parent"])
        index._fingerprints = SortedRuns(runs.get("fingerprint"))
        index._buckets = SortedRuns(runs.get("bucket"))
        return index


class _Forest:
    """Union-find over item ids with the root of a tree being its smallest id (Tarjan 1975):
    new parents are kept in an overlay until `write_to`, and new items start as their own roots."""

    def __init__(self, parent: np.ndarray) -> None:
        self._parent = parent
        self._changes: dict[int, int] = {}

    def _get(self, x: int) -> int:
        if x in self._changes:
            return self._changes[x]
        return int(self._parent[x]) if x < len(self._parent) else x

    def find(self, x: int) -> int:
        while (up := self._get(x)) != x:
            self._changes[x] = self._get(up)  # path halving
            x = up
        return x

    def union(self, item: int, others: list[int]) -> int:
        """Join `item` with `others` (all earlier); returns the cluster's root, its first item."""
        roots = {self.find(other) for other in others}
        root = min(roots)
        for r in roots | {item}:
            if r != root:
                self._changes[r] = root
        return root

    def write_to(self, parent: np.ndarray) -> None:
        for x, up in self._changes.items():
            parent[x] = up
