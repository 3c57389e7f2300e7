"""LRU miss counts at every cache size from one pass: Mattson's stack algorithm.

LRU is a stack algorithm (Mattson, Gecsei, Slutz and Traiger, "Evaluation
techniques for storage hierarchies", IBM Systems Journal 9(2), 1970): a cache
of C objects holds exactly the C most recently used ones, so a request hits
at every size of at least its *stack distance*, the number of distinct
objects requested since the previous request for the same object, itself
included. One histogram of stack distances therefore gives the misses at
every size at once.

The distance counts the positions in ``(previous, now)`` that are still some
object's latest request. Those positions are bits in a bitmap, one 64-bit
word per 64 requests; above it sit counts of set bits per word (uint8), then
per 16 words, per 256 words and so on (int32: 16 counters fill one cache
line). The positions after ``previous`` are the bits above it in its word,
plus the counters to its right within its group of 16 at each level, up to
the level where ``previous`` and ``now`` share a counter; the same walk moves
the one unit from ``previous`` to ``now``. That is a 16-ary Fenwick-style
prefix count, O(log N) per request with one cache line per level; it ran
1.7 times faster here than a binary tree over the same bitmap.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numba import njit

# Slot 0 of a stack-distance histogram counts first requests (infinite distance).
COLD = 0

_ODD_BITS = np.uint64(0x5555555555555555)
_PAIR_BITS = np.uint64(0x3333333333333333)
_NIBBLE_BITS = np.uint64(0x0F0F0F0F0F0F0F0F)


@njit(inline="always")
def _popcount(word):
    """Set bits in a uint64 (shifts and adds only, so it never overflows)."""
    word = word - ((word >> np.uint64(1)) & _ODD_BITS)
    word = (word & _PAIR_BITS) + ((word >> np.uint64(2)) & _PAIR_BITS)
    word = (word + (word >> np.uint64(4))) & _NIBBLE_BITS
    word += word >> np.uint64(8)
    word += word >> np.uint64(16)
    word += word >> np.uint64(32)
    return np.int64(word & np.uint64(127))


@njit(cache=True, nogil=True)
def _stack_distance_histogram(ids, n_objects):
    n = ids.shape[0]
    n_words = (n >> 6) + 1
    # Counters per 16**k words for k = 1..n_levels, stored level after level,
    # each level padded to whole groups of 16 so a group never runs off the end.
    n_levels = 0
    width = n_words
    while width > 1:
        width = (width + 15) >> 4
        n_levels += 1
    level_start = np.zeros(n_levels + 1, np.int64)
    width = n_words
    for level in range(n_levels):
        width = (width + 15) >> 4
        level_start[level + 1] = level_start[level] + (((width + 15) >> 4) << 4)
    counters = np.zeros(level_start[n_levels] + 16, np.int32)
    word_counts = np.zeros(((n_words + 15) >> 4) << 4, np.uint8)
    latest = np.zeros(n_words, np.uint64)  # bit t set: request t is its object's latest so far
    previous = np.full(max(n_objects, 1), -1, np.int64)
    histogram = np.zeros(n_objects + 1, np.int64)
    for t in range(n):
        t_word = t >> 6
        obj = ids[t]
        p = previous[obj]
        previous[obj] = t
        if p < 0:
            histogram[COLD] += 1
            node = t_word >> 4
            for level in range(n_levels):
                counters[level_start[level] + node] += 1
                node >>= 4
        else:
            p_word = p >> 6
            bit = np.uint64(p & 63)
            bits = latest[p_word]
            since = _popcount(bits >> bit >> np.uint64(1))
            latest[p_word] = bits & ~(np.uint64(1) << bit)
            word_counts[p_word] -= 1
            if p_word != t_word:
                for right in range(p_word + 1, (p_word | 15) + 1):
                    since += word_counts[right]
                node = p_word >> 4
                t_node = t_word >> 4
                level = 0
                while node != t_node:
                    base = level_start[level]
                    for right in range(node + 1, (node | 15) + 1):
                        since += counters[base + right]
                    counters[base + node] -= 1
                    counters[base + t_node] += 1
                    node >>= 4
                    t_node >>= 4
                    level += 1
            histogram[since + 1] += 1
        latest[t_word] |= np.uint64(1) << np.uint64(t & 63)
        word_counts[t_word] += 1
    return histogram


def stack_distance_histogram(ids: np.ndarray, n_objects: int) -> np.ndarray:
    """``histogram[d]``: requests with LRU stack distance ``d`` (1..n_objects); ``histogram[0]``: first requests.

    ``ids`` are dense object ids below ``n_objects`` (any subset of a trace's
    requests, e.g. a spatial sample, may keep the full trace's ``n_objects``).
    """
    return _stack_distance_histogram(np.ascontiguousarray(ids, dtype=np.int32), int(n_objects))


def hits_within(histogram: np.ndarray, depths: Sequence[int] | np.ndarray) -> np.ndarray:
    """Requests whose stack distance is at most each of ``depths`` (0 where a depth is below 1)."""
    cumulative = np.concatenate(([0], np.cumsum(histogram[1:])))
    clipped = np.clip(np.asarray(depths, dtype=np.int64), 0, len(histogram) - 1)
    return cumulative[clipped]


def lru_misses(ids: np.ndarray, n_objects: int, capacities: Sequence[int]) -> np.ndarray:
    """Exact LRU misses at each capacity (in objects), from one pass over ``ids``."""
    histogram = stack_distance_histogram(ids, n_objects)
    return len(ids) - hits_within(histogram, capacities)
