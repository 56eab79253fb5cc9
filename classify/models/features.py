"""Stateless hashed n-gram features, computed for a whole batch at once with numpy.

`HashedNgrams` maps each text to a sparse vector over `n_features` buckets from four families of
n-grams of its normalised text (lower case, every run of non-word characters -> one space):

- word unigrams, and word prefixes of `stem_length` characters ("truncation stemming": a fixed-length
  prefix stands in for a lemma in inflected languages, Ru/Kk/Fr; Kraaij & Pohlmann 1996, and
  Bondarenko et al. 2022 for Russian show prefix-5 close to a real stemmer), plus stem bigrams;
- character n-grams of lengths `char_ngrams` across the normalised string (as scikit-learn's
  analyzer="char").

No n-gram crosses a sentence boundary: a text's counts are the sum of its sentences' counts
(`classify.models.sentences`), taken over the leading sentences that fit in `max_chars`. So a
document's vector can be summed from the same sentence counts the stance model reads.

Hashing (Weinberger et al. 2009, "Feature hashing for large scale multitask learning") keeps nothing
but the bucket count, so a model is only its coefficient arrays. Every n-gram is hashed with a
polynomial rolling hash modulo 2**64 over Unicode code points,

    H[i] = sum_{j<i} c[j] * P**(i-1-j),     hash(text[a:b]) = H[b] - H[a] * P**(b-a)   (mod 2**64)

(Karp & Rabin 1987), which numpy evaluates for every substring of a batch with a handful of
vectorised passes, then salted per family and mixed with the splitmix64 finaliser (Steele et al.
2014) before taking the bucket. Counts are damped as 1 + log(count) (sublinear tf) and multiplied by
an optional idf vector; rows are L2-normalised (Salton & Buckley 1988).
"""

from __future__ import annotations

import re

import numpy as np
import scipy.sparse as sp

from classify.models.sentences import SENTENCE_CHARS, leading_count, split_sentences

_NON_WORD = re.compile(r"[\W_]+")
_BMP = 0x10000
_BASE = np.uint64(0x100000001B3)  # odd, so invertible modulo 2**64
_SALTS = {"word": 0x9E3779B97F4A7C15, "stem": 0xC2B2AE3D27D4EB4F, "bigram": 0x165667B19E3779F9}


def normalise(text: str, max_chars: int | None = None) -> str:
    """Lower case, non-word runs (punctuation, '_' of joined collocations) -> single spaces."""
    if max_chars is not None:
        text = text[:max_chars]
    return " " + _NON_WORD.sub(" ", text.lower()).strip() + " "


def _word_table() -> np.ndarray:
    """is_word[c] for every code point c of the Basic Multilingual Plane: what the regex class
    [^\\W_] matches (str.isalnum, as `re` defines \\w for str, less "_")."""
    global _WORD_TABLE
    if _WORD_TABLE is None:
        _WORD_TABLE = np.array([chr(c).isalnum() for c in range(_BMP)], dtype=bool)
    return _WORD_TABLE


_WORD_TABLE: np.ndarray | None = None


def _normalised_codes(text: str) -> np.ndarray:
    """Code points (uint64) of `text` with every run of non-word characters other than "\\n" made
    one space: re.sub(r"(?:[^\\w\\n]|_)+", " ", text), as a table lookup instead of a regex scan."""
    points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    table = _word_table()
    keep = np.zeros(points.size, dtype=bool)
    in_bmp = points < _BMP
    keep[in_bmp] = table[points[in_bmp]]
    if not in_bmp.all():  # emoji and other astral characters: few, looked up one by one
        astral = np.flatnonzero(~in_bmp)
        unique, inverse = np.unique(points[astral], return_inverse=True)
        keep[astral] = np.array([chr(c).isalnum() for c in unique], dtype=bool)[inverse]
    keep |= points == 10
    run_start = ~keep & np.concatenate(([True], keep[:-1]))
    return np.where(keep, points, 32)[keep | run_start].astype(np.uint64)


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: spreads the rolling hash's low-entropy bits over all 64."""
    h = h ^ (h >> np.uint64(30))
    h = h * np.uint64(0xBF58476D1CE4E5B9)
    h = h ^ (h >> np.uint64(27))
    h = h * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


class HashedNgrams:
    """Hashed word/stem/stem-bigram/char n-gram tf features (stateless; idf optional).

    Parameters
    ----------
    n_features : number of hash buckets (a power of two keeps the modulo unbiased).
    char_ngrams : character n-gram lengths, e.g. (3, 4, 5); () for none.
    stem_length : prefix length used as a stem; 0 disables stems and stem bigrams.
    max_chars : only the leading sentences that fit in this many characters count (speed; the
        lead carries the topic); None for all.
    """

    def __init__(
        self,
        n_features: int = 2**18,
        char_ngrams: tuple[int, ...] = (3, 4, 5),
        stem_length: int = 5,
        max_chars: int | None = 3000,
    ) -> None:
        self.n_features = n_features
        self.char_ngrams = tuple(char_ngrams)
        self.stem_length = stem_length
        self.max_chars = max_chars

    def get_params(self) -> dict:
        return {
            "n_features": self.n_features,
            "char_ngrams": list(self.char_ngrams),
            "stem_length": self.stem_length,
            "max_chars": self.max_chars,
        }

    def same_ngrams(self, other: HashedNgrams) -> bool:
        """Whether `other` hashes every sentence to the same counts (`max_chars` may differ)."""
        return (self.n_features, self.char_ngrams, self.stem_length) == (
            other.n_features,
            other.char_ngrams,
            other.stem_length,
        )

    def counts(self, texts: list[str]) -> sp.csr_matrix:
        """Raw n-gram counts, one row per text: the sum over its leading sentences (float32 CSR)."""
        pieces, owners = [], []
        for row, text in enumerate(texts):
            sentences = split_sentences(text)
            sentences = sentences[: leading_count(sentences, self.max_chars)]
            pieces.extend(sentences)
            owners.extend([row] * len(sentences))
        return self.sentence_counts(pieces, np.asarray(owners, dtype=np.int64), len(texts))

    def sentence_counts(self, sentences: list[str], owners: np.ndarray, n_rows: int) -> sp.csr_matrix:
        """Counts of each sentence's n-grams added into row `owners[i]` of an `n_rows` matrix.

        Sentences are cut at `SENTENCE_CHARS`; rows are processed in blocks small enough for the
        (row, bucket) keys to fit 32 bits, which halves the cost of the counting sort.
        """
        block = max(1, (2**32 - 1) // self.n_features)
        if n_rows <= block:
            return self._block_counts(sentences, owners, n_rows)
        parts = []
        for first in range(0, n_rows, block):
            picked = np.flatnonzero((owners >= first) & (owners < first + block))
            parts.append(
                self._block_counts([sentences[i] for i in picked], owners[picked] - first, min(block, n_rows - first))
            )
        return sp.vstack(parts, format="csr")

    def _block_counts(self, sentences: list[str], owners: np.ndarray, n_rows: int) -> sp.csr_matrix:
        if not sentences:
            return sp.csr_matrix((n_rows, self.n_features), dtype=np.float32)
        # One string for the batch, normalised in one pass; "\n" survives only as the boundary.
        # Every sentence ends up as " words " with exactly one space either side of each "\n".
        raw = " \n ".join(t[:SENTENCE_CHARS].replace("\n", " ") for t in sentences)
        codes = _normalised_codes(f" {raw.lower()} ")
        n = codes.size
        piece_of_pos = np.cumsum(codes == 10)
        row_of_pos = np.asarray(owners, dtype=np.int64)[piece_of_pos]

        # Prefix hashes: H[i] = sum_{j<i} c[j] P^(i-1-j) = P^(i-1) * sum_{j<i} c[j] P^-j (mod 2^64).
        powers = np.cumprod(np.full(n + 1, _BASE, dtype=np.uint64))
        powers = np.concatenate(([np.uint64(1)], powers[:-1]))  # P^0 .. P^n
        inverse_powers = np.cumprod(np.full(n, _INV_BASE, dtype=np.uint64))
        inverse_powers = np.concatenate(([np.uint64(1)], inverse_powers[:-1]))  # P^0 .. P^-(n-1)
        prefix = np.zeros(n + 1, dtype=np.uint64)
        prefix[1:] = np.cumsum(codes * inverse_powers) * powers[:n]

        def substring_hash(a: np.ndarray, b: np.ndarray) -> np.ndarray:
            return prefix[b] - prefix[a] * powers[b - a]

        rows, hashes = [], []
        is_space = (codes == 32) | (codes == 10)
        word_start = np.flatnonzero(~is_space[1:] & is_space[:-1]) + 1
        word_end = np.flatnonzero(~is_space[:-1] & is_space[1:]) + 1
        word_rows = row_of_pos[word_start]
        word_pieces = piece_of_pos[word_start]
        word_hash = substring_hash(word_start, word_end)
        rows.append(word_rows)
        hashes.append(word_hash ^ np.uint64(_SALTS["word"]))
        if self.stem_length:
            stem_end = np.minimum(word_end, word_start + self.stem_length)
            stem_hash = substring_hash(word_start, stem_end) ^ np.uint64(_SALTS["stem"])
            rows.append(word_rows)
            hashes.append(stem_hash)
            same_text = word_pieces[1:] == word_pieces[:-1]
            bigram = _mix(stem_hash[:-1]) * _BASE + stem_hash[1:]
            rows.append(word_rows[1:][same_text])
            hashes.append(bigram[same_text] ^ np.uint64(_SALTS["bigram"]))
        if self.char_ngrams:
            # A window may not cross the "\n" between two sentences: count separators with a cumsum.
            separators = np.concatenate(([0], np.cumsum(codes == 10)))
            for size in self.char_ngrams:
                if n < size:
                    continue
                # Fixed-length windows: the substring hash over contiguous slices, no gathers.
                window_hash = prefix[size:] - prefix[:-size] * powers[size]
                ok = separators[size:] == separators[:-size]
                rows.append(row_of_pos[: n - size + 1][ok])
                hashes.append(window_hash[ok] ^ np.uint64(size))
        # Count (row, bucket) pairs with one sort of packed uint32 keys: cheaper than scipy's
        # COO -> CSR conversion followed by sorting and summing duplicates.
        buckets = (_mix(np.concatenate(hashes)) >> np.uint64(20)) % np.uint64(self.n_features)
        keys = np.concatenate(rows).astype(np.uint32) * np.uint32(self.n_features) + buckets.astype(np.uint32)
        keys.sort()
        first = np.empty(keys.size, dtype=bool)
        first[:1] = True
        np.not_equal(keys[1:], keys[:-1], out=first[1:])
        starts = np.flatnonzero(first)
        unique = keys[starts]
        counts = np.diff(np.append(starts, keys.size)).astype(np.float32)
        key_rows = unique // np.uint32(self.n_features)
        indptr = np.searchsorted(key_rows, np.arange(n_rows + 1))
        columns = (unique - key_rows * np.uint32(self.n_features)).astype(np.int32)
        return sp.csr_matrix((counts, columns, indptr), shape=(n_rows, self.n_features))

    def transform(self, texts: list[str], idf: np.ndarray | None = None) -> sp.csr_matrix:
        """Sublinear tf (x idf), L2-normalised rows."""
        return weight(self.counts(texts), idf)


def weight(matrix: sp.csr_matrix, idf: np.ndarray | None = None) -> sp.csr_matrix:
    """1 + log(count), times idf, rows L2-normalised; in place on the CSR data (no copies)."""
    data = matrix.data
    np.log(data, out=data)
    data += 1.0
    if idf is not None:
        data *= idf[matrix.indices]
    row_lengths = np.diff(matrix.indptr)
    # Each row's sum of squares on its own values only (a running sum over the whole batch would
    # make a row's norm, in its last bits, depend on the rows before it).
    norms = np.zeros(len(row_lengths))
    filled = np.flatnonzero(row_lengths)
    if filled.size:
        norms[filled] = np.sqrt(np.add.reduceat(data.astype(np.float64) ** 2, matrix.indptr[filled]))
    norms[norms == 0] = 1.0
    data /= np.repeat(norms, row_lengths).astype(np.float32)
    return matrix


def fit_idf(counts: sp.csr_matrix) -> np.ndarray:
    """Smoothed idf per bucket, log((1 + n) / (1 + df)) + 1, as scikit-learn's TfidfTransformer."""
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    return (np.log((1.0 + counts.shape[0]) / (1.0 + df)) + 1.0).astype(np.float32)


_INV_BASE = np.uint64(pow(int(_BASE), -1, 2**64))
