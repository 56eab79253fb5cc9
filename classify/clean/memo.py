"""Memoisation for the cleaner's pure per-line functions, bounded in memory.

A corpus repeats its short lines (signatures, menus, tickers, "read more" links: what the cleaner
looks for), so caching a line's key or rule verdict saves most of the work; a long line rarely
repeats and could cost kilobytes per entry, so lines longer than `max_chars` are not cached.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache, wraps
from typing import TypeVar

Result = TypeVar("Result")
MAX_CACHED_CHARS = 300


def memoised_short_lines(
    maxsize: int, max_chars: int = MAX_CACHED_CHARS
) -> Callable[[Callable[[str], Result]], Callable[[str], Result]]:
    """An `lru_cache(maxsize)` of a function of one line that caches only lines of at most
    `max_chars` characters, so it holds at most about maxsize x max_chars x 4 bytes of text.
    `cache_clear` and `cache_info` are lru_cache's."""

    def decorate(function: Callable[[str], Result]) -> Callable[[str], Result]:
        cached = lru_cache(maxsize=maxsize)(function)

        @wraps(function)
        def memoised(text: str) -> Result:
            return cached(text) if len(text) <= max_chars else function(text)

        memoised.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
        memoised.cache_info = cached.cache_info  # type: ignore[attr-defined]
        return memoised

    return decorate
