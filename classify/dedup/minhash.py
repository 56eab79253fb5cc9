"""Vectorised MinHash signatures and LSH band keys, bit-compatible with datasketch.

Signatures follow datasketch's default ``"affine32"`` scheme (Broder 1997, "On the resemblance and
containment of documents"; datasketch >= 2.0): a shingle's 64-bit hash is truncated to 32 bits,
pre-mixed by MurmurHash3's ``fmix32``, and permutation k maps it to ``a_k * h + b_k mod 2^32``
(``a_k`` odd, so each permutation is a bijection). The signature is the element-wise minimum over
the shingle set, and ``Pr[sig_k(A) == sig_k(B)] ~= J(A, B)``. The parameters ``(a, b)`` are taken
from ``datasketch.MinHash(num_perm, seed)`` itself, so ``datasketch.MinHash(num_perm, seed,
hashfunc=lambda s: shingle_hash(s) & 0xFFFFFFFF)`` updated with the same shingles has exactly our
hash values; `lean_minhash` wraps a row as a ``LeanMinHash``.

All permutations of all shingles are applied in one (shingles x num_perm) uint32 array per chunk
and reduced per paragraph with ``np.minimum.reduceat``.

LSH banding (Indyk & Motwani 1998; Leskovec, Rajaraman & Ullman, *Mining of Massive Datasets*,
ch. 3.4): the signature is cut into b bands of r rows; two items become candidates when any band
is equal, which happens with probability ``1 - (1 - J^r)^b``. `band_keys` is a pure function of
a signature, so a distributed run can shuffle items by band key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from classify.dedup.shingles import ShingleSets, fmix64

if TYPE_CHECKING:
    from datasketch import LeanMinHash, MinHashLSH

SCHEME = "affine32"
EMPTY = np.uint32(0xFFFFFFFF)  # datasketch's value for a permutation that saw no shingle
_BAND_BASE = 0x9FB21C651E98DF25
_BAND_SALT = 0xBF58476D1CE4E5B9
_CHUNK_ELEMENTS = 1 << 20  # shingles x permutations per chunk: 4 MB of uint32, cache-friendly


def fmix32(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser (datasketch's pre-mix for the affine32 scheme)."""
    x = values ^ (values >> np.uint32(16))
    x *= np.uint32(0x85EBCA6B)
    x ^= x >> np.uint32(13)
    x *= np.uint32(0xC2B2AE35)
    x ^= x >> np.uint32(16)
    return x


class MinHasher:
    """Computes MinHash signatures of many shingle sets at once.

    num_perm: number of permutations (signature length); seed: datasketch's permutation seed.
    datasketch is imported only here and in the datasketch adapters below: importing it pulls in
    scipy.integrate (0.7 s), so a worker process that receives a pickled MinHasher never pays it.
    """

    def __init__(self, num_perm: int = 128, seed: int = 1) -> None:
        from datasketch import MinHash

        self.num_perm = num_perm
        self.seed = seed
        a, b = MinHash(num_perm=num_perm, seed=seed, scheme=SCHEME).permutations
        self.a = np.asarray(a, dtype=np.uint32)
        self.b = np.asarray(b, dtype=np.uint32)

    def signatures(self, sets: ShingleSets) -> np.ndarray:
        """(n, num_perm) uint32 signatures; a paragraph without shingles gets the empty signature.

        Work is done in (num_perm x shingles) chunks of about `_CHUNK_ELEMENTS` in one reused
        buffer, reduced along the contiguous axis: both keep the chunk in cache.
        """
        out = np.full((self.num_perm, len(sets)), EMPTY, dtype=np.uint32)
        premixed = fmix32(sets.hashes.astype(np.uint32))  # astype keeps the low 32 bits
        rows = np.flatnonzero(sets.sizes > 0)
        starts = sets.offsets[rows]
        per_chunk = max(1, _CHUNK_ELEMENTS // self.num_perm)
        bounds = np.unique(np.append(np.searchsorted(starts, np.arange(0, len(premixed), per_chunk)), len(rows)))
        chunk_sizes = sets.offsets[rows[bounds[1:] - 1] + 1] - starts[bounds[:-1]]
        buffer = np.empty(self.num_perm * int(chunk_sizes.max(initial=1)), dtype=np.uint32)
        a, b = self.a[:, None], self.b[:, None]
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            first, last = starts[lo], sets.offsets[rows[hi - 1] + 1]
            permuted = buffer[: self.num_perm * (last - first)].reshape(self.num_perm, last - first)
            np.multiply(a, premixed[None, first:last], out=permuted)
            permuted += b
            out[:, rows[lo:hi]] = np.minimum.reduceat(permuted, starts[lo:hi] - first, axis=1)
        return np.ascontiguousarray(out.T)

    def lean_minhash(self, signature: np.ndarray) -> LeanMinHash:
        """One signature as a datasketch ``LeanMinHash`` (for datasketch's LSH, serialisation, ...)."""
        from datasketch import LeanMinHash

        return LeanMinHash(seed=self.seed, hashvalues=signature, scheme=SCHEME)


def lsh_params(threshold: float, num_perm: int, recall: float) -> tuple[int, int]:
    """Bands b and rows r: the largest r (fewest spurious candidates) with b = num_perm // r such
    that a pair at exactly `threshold` is a candidate with probability ``1 - (1 - t^r)^b >= recall``.

    Unlike datasketch's `_optimal_param` (which balances false positives against false negatives),
    this bounds only the false-negative rate: candidates are verified exactly afterwards.
    """
    best = (num_perm, 1)
    for rows in range(1, num_perm + 1):
        bands = num_perm // rows
        if 1.0 - (1.0 - threshold**rows) ** bands >= recall:
            best = (bands, rows)
    return best


def datasketch_lsh(threshold: float, num_perm: int, recall: float) -> MinHashLSH:
    """A datasketch ``MinHashLSH`` with our banding, which accepts `MinHasher.lean_minhash` values."""
    from datasketch import MinHashLSH

    return MinHashLSH(num_perm=num_perm, params=lsh_params(threshold, num_perm, recall))


def band_keys(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """(n, bands) uint64 keys: a hash of each band's rows salted with the band's index.

    Equal keys <=> equal bands (up to 64-bit collisions); a pure function of the signature.
    """
    n = len(signatures)
    cut = signatures[:, : bands * rows].reshape(n, bands, rows).astype(np.uint64)
    acc = cut[:, :, 0].copy()
    for j in range(1, rows):
        acc *= np.uint64(_BAND_BASE)
        acc += cut[:, :, j]
    acc ^= fmix64(np.arange(bands, dtype=np.uint64) + np.uint64(_BAND_SALT))
    return fmix64(acc)
