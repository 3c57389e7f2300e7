"""LRU miss counts at every cache size from one pass: Mattson's stack algorithm.

LRU is a stack algorithm (Mattson, Gecsei, Slutz and Traiger, "Evaluation
techniques for storage hierarchies", IBM Systems Journal 9(2), 1970): a cache
of C objects holds exactly the C most recently used ones, so a request hits
at every size of at least its *stack distance*, the number of distinct
objects requested since the previous request for the same object, itself
included. One histogram of stack distances therefore gives the misses at
every size at once.

The distance counts the positions in ``(previous, now)`` that are still some
object's latest request. Those positions are bits in a bitmap with one
64-bit word per 64 requests, and the active positions per word are summed in
a complete binary tree (the Fenwick-tree idea: prefix counts in O(log N)).
One walk from a word's leaf to the root both sums the counts to its right and
takes away the position being retired, so each request costs a single
O(log N) walk; the newest word's count joins the tree when that word fills.
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
    leaves = 1
    while leaves < n_words:
        leaves <<= 1
    latest = np.zeros(n_words, np.uint64)  # bit t set: request t is its object's latest so far
    tree = np.zeros(2 * leaves, np.int32)  # node k sums nodes 2k and 2k+1; word w is leaf leaves + w
    previous = np.full(max(n_objects, 1), -1, np.int64)
    histogram = np.zeros(n_objects + 1, np.int64)
    newest_word = 0
    newest_count = 0  # set bits of the newest word, not yet in the tree
    for t in range(n):
        word = t >> 6
        if word != newest_word:
            node = leaves + newest_word
            while node >= 1:
                tree[node] += newest_count
                node >>= 1
            newest_word = word
            newest_count = 0
        obj = ids[t]
        p = previous[obj]
        previous[obj] = t
        if p < 0:
            histogram[COLD] += 1
        else:
            p_word = p >> 6
            bit = np.uint64(p & 63)
            bits = latest[p_word]
            since = _popcount(bits >> bit >> np.uint64(1))
            latest[p_word] = bits & ~(np.uint64(1) << bit)
            if p_word == newest_word:
                newest_count -= 1
            else:
                since += newest_count
                node = leaves + p_word
                while node > 1:
                    tree[node] -= 1
                    if node & 1 == 0:
                        since += tree[node + 1]
                    node >>= 1
                tree[1] -= 1
            histogram[since + 1] += 1
        latest[word] |= np.uint64(1) << np.uint64(t & 63)
        newest_count += 1
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
