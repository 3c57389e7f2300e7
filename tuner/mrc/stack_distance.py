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

Positions are slots rather than request numbers: a request takes the next
slot and, when slots run out, the live markers are renumbered into the
first ones (``_compact``), so bitmap and counters stay proportional to the
objects, not the trace. A long trace is cut into parts replayed on parallel
threads: each part starts from the recency order of the objects requested
before it (``_recency_order``), which is all of LRU's state, so the parts'
histograms add up to exactly the whole trace's.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit

# Slot 0 of a stack-distance histogram counts first requests (infinite distance).
COLD = 0
# Traces shorter than this many requests per thread run in one part.
PART_REQUESTS = 1_000_000

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
def _level_layout(n_words):
    """Where each level of counters starts: counters per 16**k words for
    k = 1..n_levels, level after level, each padded to whole groups of 16 so
    a group never runs off the end."""
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
    return level_start


@njit(cache=True, nogil=True)
def _mark_first(live, latest, word_counts, counters, level_start):
    """Set the markers of slots 0..live-1 and nothing else, with their counts."""
    latest[:] = 0
    word_counts[:] = 0
    for word in range(live >> 6):
        latest[word] = ~np.uint64(0)
        word_counts[word] = 64
    if live & 63:
        latest[live >> 6] = (np.uint64(1) << np.uint64(live & 63)) - np.uint64(1)
        word_counts[live >> 6] = live & 63
    counters[:] = 0
    for word in range(word_counts.shape[0]):
        counters[word >> 4] += word_counts[word]
    for level in range(1, level_start.shape[0] - 1):
        below, base = level_start[level - 1], level_start[level]
        for node in range(base - below):
            counters[base + (node >> 4)] += counters[below + node]


@njit(cache=True, nogil=True)
def _compact(owner, slot_of, latest, word_counts, counters, level_start):
    """Renumber every object's latest marker into the first slots, in order; returns how many.

    A distance counts the markers between two slots and renumbering keeps
    their order, so no distance changes.
    """
    live = 0
    for slot in range(owner.shape[0]):
        obj = owner[slot]
        if obj >= 0 and slot_of[obj] == slot:
            slot_of[obj] = live
            owner[live] = obj
            live += 1
    owner[live:] = -1
    _mark_first(live, latest, word_counts, counters, level_start)
    return live


@njit(cache=True, nogil=True)
def _recency_order(ids, stop, n_objects):
    """The objects requested before position ``stop``, least recently used first."""
    seen = np.zeros(max(n_objects, 1), np.bool_)
    newest_first = np.empty(min(stop, n_objects), np.int32)
    found = 0
    for position in range(stop - 1, -1, -1):
        obj = ids[position]
        if not seen[obj]:
            seen[obj] = True
            newest_first[found] = obj
            found += 1
            if found == n_objects:
                break
    return newest_first[:found][::-1].copy()


@njit(cache=True, nogil=True)
def _part_histogram(ids, start, stop, n_objects):
    """Stack distances of requests ``start:stop``, LRU's stack first rebuilt from the requests before."""
    stack = _recency_order(ids, start, n_objects)
    live = stack.shape[0]
    # Twice as many slots as objects keeps bitmap and counters in the CPU's
    # cache, at one compaction per n_objects requests or more.
    n_slots = max(64, min(live + stop - start, 2 * n_objects))
    n_words = (n_slots >> 6) + 1
    level_start = _level_layout(n_words)
    n_levels = level_start.shape[0] - 1
    counters = np.zeros(level_start[n_levels] + 16, np.int32)
    word_counts = np.zeros(((n_words + 15) >> 4) << 4, np.uint8)
    latest = np.zeros(n_words, np.uint64)  # bit s set: slot s holds some object's latest request
    owner = np.full(n_slots, -1, np.int32)
    slot_of = np.full(max(n_objects, 1), -1, np.int32)
    owner[:live] = stack
    slot_of[stack] = np.arange(live, dtype=np.int32)
    _mark_first(live, latest, word_counts, counters, level_start)
    histogram = np.zeros(n_objects + 1, np.int64)
    t = live
    for i in range(start, stop):
        if t == n_slots:
            t = _compact(owner, slot_of, latest, word_counts, counters, level_start)
        t_word = t >> 6
        obj = ids[i]
        p = slot_of[obj]
        slot_of[obj] = t
        owner[t] = obj
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
        t += 1
    return histogram


def stack_distance_histogram(ids: np.ndarray, n_objects: int, parts: int | None = None) -> np.ndarray:
    """``histogram[d]``: requests with LRU stack distance ``d`` (1..n_objects); ``histogram[0]``: first requests.

    ``ids`` are dense object ids below ``n_objects`` (any subset of a trace's
    requests, e.g. a spatial sample, may keep the full trace's ``n_objects``).
    ``parts`` splits the work over that many threads (by default one per
    core, with at least ``PART_REQUESTS`` requests each); the result is the same.
    """
    ids = np.ascontiguousarray(ids, dtype=np.int32)
    n_objects = int(n_objects)
    if parts is None:
        parts = max(1, min(os.cpu_count() or 1, len(ids) // PART_REQUESTS))
    bounds = np.linspace(0, len(ids), parts + 1).astype(np.int64)
    if parts == 1:
        return _part_histogram(ids, 0, len(ids), n_objects)
    with ThreadPoolExecutor(parts) as pool:
        histograms = pool.map(lambda k: _part_histogram(ids, bounds[k], bounds[k + 1], n_objects), range(parts))
        return np.sum(list(histograms), axis=0)


def hits_within(histogram: np.ndarray, depths: Sequence[int] | np.ndarray) -> np.ndarray:
    """Requests whose stack distance is at most each of ``depths`` (0 where a depth is below 1)."""
    cumulative = np.concatenate(([0], np.cumsum(histogram[1:])))
    clipped = np.clip(np.asarray(depths, dtype=np.int64), 0, len(histogram) - 1)
    return cumulative[clipped]


def lru_misses(ids: np.ndarray, n_objects: int, capacities: Sequence[int]) -> np.ndarray:
    """Exact LRU misses at each capacity (in objects), from one pass over ``ids``."""
    histogram = stack_distance_histogram(ids, n_objects)
    return len(ids) - hits_within(histogram, capacities)
