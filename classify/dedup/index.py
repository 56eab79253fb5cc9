"""The incremental near-duplicate index: exact fingerprints, LSH buckets, exact verification, clusters.

Items (paragraphs, or documents) arrive in batches, in input order, and get consecutive ids. Each
new item is compared only with *earlier* items, so processing a corpus in one batch or in many
gives the same answer (a batch is processed as if its items were inserted one by one):

1. exact copies: an item whose shingle set equals an earlier one's (found by a 64-bit set
   fingerprint, then checked element by element) joins that item's cluster with similarity 1.
   Copies never enter the LSH buckets (an earlier identical set already stands for them), which
   keeps a paragraph repeated 10^5 times from turning its buckets into a quadratic hot spot;
2. near copies: candidates are the earlier items sharing an LSH band key (at most `bucket_cap`
   earliest per bucket), filtered by the size bound ``J(A, B) <= min(|A|,|B|) / max(|A|,|B|)``,
   then verified by the exact Jaccard of the stored shingle sets;
3. clusters: union-find over verified pairs (Tarjan 1975), the root being the smallest id, i.e.
   the first occurrence in input order, which is the canonical item.

Bucket keys live in `SortedRuns`, a log-structured multimap (O'Neil et al. 1996, "The LSM-tree"):
sorted numpy runs whose sizes shrink geometrically, merged pairwise, so an insert costs
O(log n) amortised and a lookup one binary search per run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from classify.dedup.minhash import band_keys
from classify.dedup.shingles import ShingleSets, concatenated_ranges, fmix64

_FINGERPRINT_SALT = np.uint64(0x94D049BB133111EB)
_PAIR_CHUNK_ELEMENTS = 1 << 22  # set elements sorted at once when verifying pairs


class GrowableArray:
    """A 1-d numpy array with amortised O(1) append (capacity doubles)."""

    def __init__(self, dtype: type, values: np.ndarray | None = None) -> None:
        self._data = np.zeros(16, dtype=dtype) if values is None else np.array(values, dtype=dtype)
        self._size = 0 if values is None else len(values)

    def append(self, values: np.ndarray) -> None:
        need = self._size + len(values)
        if need > len(self._data):
            grown = np.zeros(max(need, 2 * len(self._data)), dtype=self._data.dtype)
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


class SortedRuns:
    """Multimap from uint64 key to int64 owner id, owners inserted in increasing order."""

    def __init__(self, keys: np.ndarray | None = None, owners: np.ndarray | None = None) -> None:
        self._runs: list[tuple[np.ndarray, np.ndarray]] = []
        if keys is not None and owners is not None and len(keys):
            self._runs.append((keys, owners))

    def add(self, keys: np.ndarray, owners: np.ndarray) -> None:
        """Insert pairs whose owners are all larger than every owner already stored."""
        if not len(keys):
            return
        order = np.argsort(keys, kind="stable")  # stable: owners stay increasing within a key
        self._runs.append((keys[order], owners[order]))
        while len(self._runs) > 1 and len(self._runs[-2][0]) <= 2 * len(self._runs[-1][0]):
            (old_keys, old_owners), (new_keys, new_owners) = self._runs[-2:]
            keys_all = np.concatenate((old_keys, new_keys))
            merged = np.argsort(keys_all, kind="stable")
            self._runs[-2:] = [(keys_all[merged], np.concatenate((old_owners, new_owners))[merged])]

    def earliest(self, queries: np.ndarray, cap: int | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each query key, up to `cap` of its smallest owners: (query index, owner) arrays.

        Older runs hold smaller owners, so runs are read oldest first until the cap is filled.
        """
        remaining = np.broadcast_to(np.asarray(cap, dtype=np.int64), queries.shape).copy()
        found_query, found_owner = [], []
        for keys, owners in self._runs:
            left = np.searchsorted(keys, queries, "left")
            take = np.minimum(np.searchsorted(keys, queries, "right") - left, remaining)
            remaining -= take
            found_query.append(np.repeat(np.arange(len(queries), dtype=np.int64), take))
            found_owner.append(owners[concatenated_ranges(left, take)])
        if not found_query:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.concatenate(found_query), np.concatenate(found_owner)

    def merged(self) -> tuple[np.ndarray, np.ndarray]:
        """All pairs as one sorted run (for saving)."""
        if not self._runs:
            return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
        keys = np.concatenate([k for k, _ in self._runs])
        owners = np.concatenate([o for _, o in self._runs])
        order = np.argsort(keys, kind="stable")
        return keys[order], owners[order]

    @property
    def nbytes(self) -> int:
        return sum(k.nbytes + o.nbytes for k, o in self._runs)


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
        mixed = fmix64(sets.hashes ^ _FINGERPRINT_SALT)
        out[nonempty] = np.add.reduceat(mixed, sets.offsets[:-1][nonempty])
    return out


def pair_jaccard(sets: ShingleSets, rows_a: np.ndarray, rows_b: np.ndarray) -> np.ndarray:
    """Exact Jaccard ``|A & B| / |A | B|`` of the set pairs (rows_a[i], rows_b[i]) of `sets`
    (sorted, duplicate-free rows): both sets of a pair are sorted together, and an intersection
    element is a hash appearing twice in a row."""
    out = np.zeros(len(rows_a), dtype=np.float64)
    sizes_a, sizes_b = sets.sizes[rows_a], sets.sizes[rows_b]
    chunk_end = np.cumsum(sizes_a + sizes_b)
    start = 0
    while start < len(rows_a):
        base = chunk_end[start - 1] if start else 0
        stop = max(start + 1, int(np.searchsorted(chunk_end, base + _PAIR_CHUNK_ELEMENTS, "right")))
        a, b = rows_a[start:stop], rows_b[start:stop]
        la, lb = sizes_a[start:stop], sizes_b[start:stop]
        pair = np.arange(len(a), dtype=np.int64)
        hashes = np.concatenate(
            (sets.hashes[concatenated_ranges(sets.offsets[a], la)], sets.hashes[concatenated_ranges(sets.offsets[b], lb)])
        )
        owners = np.concatenate((np.repeat(pair, la), np.repeat(pair, lb)))
        order = np.lexsort((hashes, owners))
        hashes, owners = hashes[order], owners[order]
        twice = (hashes[1:] == hashes[:-1]) & (owners[1:] == owners[:-1])
        inter = np.bincount(owners[1:][twice], minlength=len(a))
        out[start:stop] = inter / np.maximum(la + lb - inter, 1)
        start = stop
    return out


@dataclass(slots=True)
class BatchMatches:
    """What `NearDuplicateIndex.add` found for a batch of new items (ids are global)."""

    ids: np.ndarray  # the new items' ids
    canonical: np.ndarray  # per new item: its cluster's first item, or -1 when it matched nothing
    similarity: np.ndarray  # per new item: exact Jaccard with the canonical item (nan if none)
    item: np.ndarray  # verified pairs (item, earlier item, exact Jaccard), sorted by item
    other: np.ndarray
    jaccard: np.ndarray


class NearDuplicateIndex:
    """Incremental index of shingle sets with exact-copy, LSH and union-find cluster search.

    threshold: minimum exact Jaccard of a duplicate pair; bands, rows: the LSH banding of the
    signatures; bucket_cap: earliest items per bucket compared with a new item.
    """

    def __init__(self, threshold: float, bands: int, rows: int, bucket_cap: int) -> None:
        self.threshold = threshold
        self.bands = bands
        self.rows = rows
        self.bucket_cap = bucket_cap
        self._offsets = GrowableArray(np.int64, np.zeros(1, dtype=np.int64))
        self._hashes = GrowableArray(np.uint64)
        self._set_row = GrowableArray(np.int64)  # item -> row of its set (copies share a row)
        self._parent = GrowableArray(np.int64)  # union-find forest over item ids
        self._fingerprints = SortedRuns()  # set fingerprint -> first item with that set
        self._buckets = SortedRuns()  # LSH band key -> items (exact copies excluded)

    def __len__(self) -> int:
        return len(self._parent)

    @property
    def nbytes(self) -> int:
        """Bytes of index state in use (what grows with the corpus)."""
        arrays = (self._offsets, self._hashes, self._set_row, self._parent)
        return sum(a.values.nbytes for a in arrays) + self._fingerprints.nbytes + self._buckets.nbytes

    def _stored_sets(self) -> ShingleSets:
        return ShingleSets(self._offsets.values, self._hashes.values)

    def _append_sets(self, sets: ShingleSets) -> None:
        self._offsets.append(sets.offsets[1:] + self._offsets.values[-1])
        self._hashes.append(sets.hashes)

    def _truncate_sets(self, rows: int) -> None:
        self._offsets = GrowableArray(np.int64, self._offsets.values[: rows + 1])
        self._hashes = GrowableArray(np.uint64, self._hashes.values[: self._offsets.values[-1]])

    def add(self, sets: ShingleSets, signatures: np.ndarray) -> BatchMatches:
        """Insert a batch of non-empty sets (sorted, duplicate-free rows) with their MinHash
        signatures, comparing every item with all earlier ones; returns the verified matches."""
        n = len(sets)
        base = len(self)
        ids = base + np.arange(n, dtype=np.int64)
        first_row = len(self._offsets) - 1
        self._append_sets(sets)  # temporarily, so that pair_jaccard sees old and new sets alike
        stored = self._stored_sets()
        row_of = np.concatenate((self._set_row.values, first_row + np.arange(n, dtype=np.int64)))

        # 1. Exact copies: earliest earlier item with the same fingerprint, then checked exactly.
        fingerprints = set_fingerprints(sets)
        copy_of = np.full(n, -1, dtype=np.int64)
        query, owner = self._fingerprints.earliest(fingerprints, 1)
        copy_of[query] = owner
        query, owner = earlier_in_batch(fingerprints, ids, (copy_of < 0).astype(np.int64))
        copy_of[query] = owner
        copies = np.flatnonzero(copy_of >= 0)
        same = pair_jaccard(stored, row_of[ids[copies]], row_of[copy_of[copies]]) == 1.0
        copy_of[copies[~same]] = -1  # a fingerprint collision: treat as a new set
        copies = copies[same]
        fresh = np.flatnonzero(copy_of < 0)

        # 2. Near copies of fresh items: LSH candidates, size bound, exact Jaccard.
        keys = band_keys(signatures[fresh], self.bands, self.rows).ravel()
        key_owner = np.repeat(ids[fresh], self.bands)
        query, other = self._buckets.earliest(keys, self.bucket_cap)
        remaining = self.bucket_cap - np.bincount(query, minlength=len(keys))
        in_batch_query, in_batch_other = earlier_in_batch(keys, key_owner, remaining)
        item = key_owner[np.concatenate((query, in_batch_query))]
        other = np.concatenate((other, in_batch_other))
        pair_code = np.unique(item * (base + n) + other)
        item, other = pair_code // (base + n), pair_code % (base + n)
        keep = item != other
        size_item, size_other = stored.sizes[row_of[item]], stored.sizes[row_of[other]]
        keep &= np.minimum(size_item, size_other) >= self.threshold * np.maximum(size_item, size_other)
        item, other = item[keep], other[keep]
        jaccard = pair_jaccard(stored, row_of[item], row_of[other])
        verified = jaccard >= self.threshold
        item = np.concatenate((ids[copies], item[verified]))
        other = np.concatenate((copy_of[copies], other[verified]))
        jaccard = np.concatenate((np.ones(len(copies)), jaccard[verified]))
        order = np.argsort(item, kind="stable")
        item, other, jaccard = item[order], other[order], jaccard[order]

        # 3. Clusters, in input order: a new item's root is the smallest root among its matches.
        self._parent.append(ids)
        parent = self._parent.values
        canonical = np.full(n, -1, dtype=np.int64)
        starts = np.flatnonzero(np.concatenate(([True], item[1:] != item[:-1]))) if len(item) else []
        bounds = list(starts) + [len(item)]
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            roots = {_find(parent, int(y)) for y in other[lo:hi]}
            root = min(roots)
            for r in roots:
                parent[r] = root
            x = int(item[lo])
            parent[x] = root
            canonical[x - base] = root
        flagged = np.flatnonzero(canonical >= 0)
        similarity = np.full(n, np.nan)
        similarity[flagged] = pair_jaccard(stored, row_of[ids[flagged]], row_of[canonical[flagged]])

        # 4. Keep the sets, fingerprints and bucket keys of fresh items only.
        self._truncate_sets(first_row)
        self._append_sets(sets.select(fresh))
        new_rows = np.full(n, -1, dtype=np.int64)
        new_rows[fresh] = first_row + np.arange(len(fresh))
        new_rows[copies] = row_of[copy_of[copies]]
        in_batch = copies[copy_of[copies] >= base]
        new_rows[in_batch] = new_rows[copy_of[in_batch] - base]
        self._set_row.append(new_rows)
        self._fingerprints.add(fingerprints[fresh], ids[fresh])
        self._buckets.add(keys, key_owner)
        return BatchMatches(ids, canonical, similarity, item, other, jaccard)

    def clusters(self) -> np.ndarray:
        """The canonical (first) item of every item's cluster."""
        parent = self._parent.values
        return np.array([_find(parent, i) for i in range(len(parent))], dtype=np.int64)

    def state(self) -> dict[str, np.ndarray]:
        """Arrays that fully describe the index (see `from_state`)."""
        fingerprint_keys, fingerprint_owners = self._fingerprints.merged()
        bucket_keys, bucket_owners = self._buckets.merged()
        return {
            "offsets": self._offsets.values,
            "hashes": self._hashes.values,
            "set_row": self._set_row.values,
            "parent": self._parent.values,
            "fingerprint_keys": fingerprint_keys,
            "fingerprint_owners": fingerprint_owners,
            "bucket_keys": bucket_keys,
            "bucket_owners": bucket_owners,
        }

    @classmethod
    def from_state(
        cls, state: dict[str, np.ndarray], threshold: float, bands: int, rows: int, bucket_cap: int
    ) -> NearDuplicateIndex:
        index = cls(threshold, bands, rows, bucket_cap)
        index._offsets = GrowableArray(np.int64, state["offsets"])
        index._hashes = GrowableArray(np.uint64, state["hashes"])
        index._set_row = GrowableArray(np.int64, state["set_row"])
        index._parent = GrowableArray(np.int64, state["parent"])
        index._fingerprints = SortedRuns(state["fingerprint_keys"], state["fingerprint_owners"])
        index._buckets = SortedRuns(state["bucket_keys"], state["bucket_owners"])
        return index


def _find(parent: np.ndarray, x: int) -> int:
    """Root of x, halving the path on the way (Tarjan & van Leeuwen 1984)."""
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = int(parent[x])
    return x
