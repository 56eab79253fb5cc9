"""The dedup building blocks: shingle hashes, datasketch-compatible MinHash, LSH banding, exact Jaccard."""

from __future__ import annotations

import numpy as np
from datasketch import LeanMinHash, MinHash
from hypothesis import given, settings
from hypothesis import strategies as st

from classify.dedup import DedupOptions
from classify.dedup.index import SortedRuns, earlier_in_batch, merge_sorted, pair_jaccard
from classify.dedup.minhash import MinHasher, band_keys, datasketch_lsh, lsh_params
from classify.dedup.shingles import (
    ShingleSets,
    char_shingle_hash,
    normalise_text,
    shingle_paragraphs,
    sort_within_groups,
    word_shingle_hash,
)

LONG = "Правительство утвердило новую программу развития регионов на ближайшие пять лет, сообщили в пресс-службе."
SHORT = "Курс доллара снова вырос на торгах биржи"
OPTIONS = DedupOptions(min_chars=20)


def reference_shingles(text: str, options: DedupOptions) -> list[str]:
    """The shingles of one paragraph, built the slow obvious way from the normalised text."""
    normal = normalise_text(text)
    words = normal.split()
    if len(words) >= max(options.short_paragraph_words, options.shingle_size):
        n = options.shingle_size
        return [" ".join(words[i : i + n]) for i in range(len(words) - n + 1)]
    c = options.char_shingle_size
    return [normal[i : i + c] for i in range(len(normal) - c + 1)]


def reference_hash(shingle: str, options: DedupOptions) -> int:
    words = shingle.split(" ")
    is_word_shingle = len(words) == options.shingle_size and len(shingle) > options.char_shingle_size
    return word_shingle_hash(words) if is_word_shingle else char_shingle_hash(shingle)


def test_vectorised_shingle_hashes_equal_the_scalar_definition() -> None:
    sets = shingle_paragraphs([LONG, SHORT], OPTIONS)
    for row, text in enumerate([LONG, SHORT]):
        expected = [reference_hash(s, OPTIONS) for s in reference_shingles(text, OPTIONS)]
        assert sets.hashes[sets.offsets[row] : sets.offsets[row + 1]].tolist() == expected


def test_signatures_are_datasketch_minhashes_of_the_same_shingles() -> None:
    hasher = MinHasher(num_perm=64, seed=7)
    signatures = hasher.signatures(shingle_paragraphs([LONG, SHORT], OPTIONS).unique())
    for row, text in enumerate([LONG, SHORT]):
        reference = MinHash(num_perm=64, seed=7, hashfunc=lambda s: reference_hash(s, OPTIONS) & 0xFFFFFFFF)
        reference.update_batch(reference_shingles(text, OPTIONS))
        assert np.array_equal(reference.hashvalues, signatures[row])
        assert hasher.lean_minhash(signatures[row]) == LeanMinHash(reference)


def test_our_signatures_work_in_datasketch_lsh_with_our_banding() -> None:
    edited = LONG.replace("пять", "семь") + " Подробности позже."
    hasher = MinHasher()
    signatures = hasher.signatures(shingle_paragraphs([LONG, edited, SHORT], OPTIONS).unique())
    lsh = datasketch_lsh(threshold=0.5, num_perm=128, recall=0.99)
    for key, signature in zip(("long", "edited", "short"), signatures):
        lsh.insert(key, hasher.lean_minhash(signature))
    assert "long" in lsh.query(hasher.lean_minhash(signatures[1]))


def test_lsh_params_meet_the_recall_target_at_the_threshold() -> None:
    for threshold in (0.5, 0.7, 0.8, 0.9):
        bands, rows = lsh_params(threshold, 128, 0.99)
        assert bands * rows <= 128
        assert 1 - (1 - threshold**rows) ** bands >= 0.99
        assert 1 - (1 - threshold ** (rows + 1)) ** (128 // (rows + 1)) < 0.99  # r is the largest that does


def test_band_keys_are_a_pure_function_of_each_signature() -> None:
    signatures = MinHasher().signatures(shingle_paragraphs([LONG, SHORT, LONG], OPTIONS).unique())
    keys = band_keys(signatures, 21, 6)
    assert np.array_equal(keys[0], keys[2])
    assert np.array_equal(band_keys(signatures[1:2], 21, 6)[0], keys[1])
    assert not np.intersect1d(keys[0], keys[1]).size


sets_strategy = st.lists(st.sets(st.integers(0, 40), min_size=1, max_size=30), min_size=2, max_size=12)


def as_shingle_sets(python_sets: list[set[int]]) -> ShingleSets:
    rows = [np.array(sorted(s), dtype=np.uint64) for s in python_sets]
    offsets = np.concatenate(([0], np.cumsum([len(r) for r in rows]))).astype(np.int64)
    return ShingleSets(offsets, np.concatenate(rows))


@settings(max_examples=60, deadline=None)
@given(sets_strategy)
def test_pair_jaccard_is_exact(python_sets: list[set[int]]) -> None:
    sets = as_shingle_sets(python_sets)
    left = np.arange(len(python_sets))
    right = left[::-1].copy()
    expected = [len(python_sets[a] & python_sets[b]) / len(python_sets[a] | python_sets[b]) for a, b in zip(left, right)]
    assert np.allclose(pair_jaccard(sets, left, sets, right), expected)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 2**32 - 1)), max_size=40))
def test_sort_within_groups_equals_lexsort(pairs: list[tuple[int, int]]) -> None:
    groups = np.array([g for g, _ in pairs], dtype=np.int64)
    hashes = np.array([h for _, h in pairs], dtype=np.uint32)
    order = sort_within_groups(hashes, groups)
    reference = np.lexsort((hashes, groups))
    assert np.array_equal(groups[order], groups[reference]) and np.array_equal(hashes[order], hashes[reference])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 5), max_size=30), st.lists(st.integers(0, 5), max_size=30))
def test_merge_sorted_equals_a_stable_sort_of_both_runs(older: list[int], newer: list[int]) -> None:
    old_keys, new_keys = np.sort(np.array(older, dtype=np.uint32)), np.sort(np.array(newer, dtype=np.uint32))
    old_owners = np.arange(len(older), dtype=np.int32)
    new_owners = len(older) + np.arange(len(newer), dtype=np.int32)
    keys, owners = merge_sorted((old_keys, old_owners), (new_keys, new_owners))
    all_keys, all_owners = np.concatenate((old_keys, new_keys)), np.concatenate((old_owners, new_owners))
    order = np.argsort(all_keys, kind="stable")
    assert np.array_equal(keys, all_keys[order]) and np.array_equal(owners, all_owners[order])


def test_sorted_runs_return_the_earliest_owners_across_runs() -> None:
    runs = SortedRuns()
    runs.add(np.array([5, 7, 5], dtype=np.uint64), np.array([0, 1, 2]))
    runs.add(np.array([5, 9], dtype=np.uint64), np.array([3, 4]))
    query, owner = runs.earliest(np.array([5, 9, 8], dtype=np.uint64), 2)
    assert sorted(zip(query.tolist(), owner.tolist())) == [(0, 0), (0, 2), (1, 4)]
    position, earlier = earlier_in_batch(np.array([3, 3, 4, 3], dtype=np.uint64), np.array([10, 11, 12, 13]), np.array([2, 2, 2, 1]))
    assert sorted(zip(position.tolist(), earlier.tolist())) == [(1, 10), (3, 10)]
