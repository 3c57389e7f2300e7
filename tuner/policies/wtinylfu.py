"""W-TinyLFU: an LRU admission window in front of a segmented LRU guarded by TinyLFU.

Einziger, Friedman & Manes, "TinyLFU: A Highly Efficient Cache Admission
Policy", ACM Transactions on Storage 13(4), 2017, section 4 (W-TinyLFU), with
the flow of Caffeine's simulator (``WindowTinyLfuPolicy``). New objects enter
an LRU window of ``window_ratio`` of the cache (at least one object: the main
part is ``int(c * (1 - window_ratio))``, the window the rest). An object
pushed out of the window is the candidate for the main cache, a segmented LRU
whose protected segment holds ``protected_ratio`` of it: the candidate joins
probation if it is strictly more frequent than probation's LRU object, which
it then evicts; otherwise the candidate itself is evicted. A probation hit
moves the object to protected, demoting protected's LRU object to probation
when protected is over its share.

Frequencies come from a count-min sketch with 4 rows of 4-bit counters
(saturating at 15), each row as wide as the power of two at or above 4 x the
cache's object count (16 counters per cached object, as in Caffeine); an
object's estimate is its smallest counter. Every request records its
object. Aging (the paper's reset): after ``sample_factor`` x the cache's
object count records, every counter and the record count are halved. Row
``r`` indexes its counter by murmur3's 32-bit finalizer of the dense id plus
``(r + 1)`` x 0x9E3779B9, so runs are deterministic.

In this library's request path the incoming object always enters the window;
the duel runs when it needs room (the window's LRU object and probation's LRU
object compete, and the loser is the victim). With byte sizes the shares are
bytes and the cache's object count is estimated as capacity / mean request
size.

Wins on skewed traffic with a frequency signal (search, web, databases) while
the window absorbs bursts of new objects.
"""

import numpy as np
from numba import njit

from tuner.engine.kernel import replay_requests
from tuner.policies.base import Param, Policy
from tuner.policies.linked_list import NONE, move_to_head, push_head, unlink

# Per-object row of the ``links`` array: the two list links, then the region the
# object is in (one 16-byte row, so a request touches one cache line of it).
REGION = 2
WINDOW, PROBATION, PROTECTED = 1, 2, 3
SKETCH_ROWS = 4
COUNTER_MAX = 15
# Row width per cached object (as Caffeine: 16 counters per object over 4 rows), at least MIN_WIDTH.
COUNTERS_PER_OBJECT = 4
MIN_WIDTH = 16

_LOW32 = np.uint64(0xFFFFFFFF)
_MIX1 = np.uint64(0x85EBCA6B)
_MIX2 = np.uint64(0xC2B2AE35)
_SEED = np.uint64(0x9E3779B9)
_S13, _S16 = np.uint64(13), np.uint64(16)


@njit(inline="always")
def _mix32(value):
    """murmur3's 32-bit finalizer; every product stays below 2**64."""
    value = value & _LOW32
    value ^= value >> _S16
    value = (value * _MIX1) & _LOW32
    value ^= value >> _S13
    value = (value * _MIX2) & _LOW32
    return value ^ (value >> _S16)


@njit(inline="always")
def _slot(obj, row, mask, width):
    """Row ``row``'s counter for ``obj``: a mix of the id offset by a per-row constant."""
    return np.int64(_mix32(np.uint64(obj) + np.uint64(row + 1) * _SEED) & mask) + row * width


@njit(inline="always")
def _estimate(counters, obj, mask, width):
    smallest = COUNTER_MAX
    for row in range(SKETCH_ROWS):
        smallest = min(smallest, np.int64(counters[_slot(obj, row, mask, width)]))
    return smallest


@njit(inline="always")
def _record(counters, obj, mask, width, records, sample_size):
    """Count one request for ``obj``; halve everything once ``sample_size`` were counted."""
    for row in range(SKETCH_ROWS):
        slot = _slot(obj, row, mask, width)
        if counters[slot] < COUNTER_MAX:
            counters[slot] += 1
    records += 1
    if records >= sample_size:
        for slot in range(counters.shape[0]):
            counters[slot] >>= 1
        records //= 2
    return records


@njit(inline="always")
def _on_hit(state, arrays, cached, obj, size, now, i):
    links, counters = arrays
    win_h, win_t, prob_h, prob_t, prot_h, prot_t, window_bytes, protected_bytes, records = state[:9]
    _, max_protected, sample_size, mask, width = state[9:]
    records = _record(counters, obj, mask, width, records, sample_size)
    where = links[obj, REGION]
    if where == WINDOW:
        win_h, win_t = move_to_head(links, win_h, win_t, obj)
    elif where == PROTECTED:
        prot_h, prot_t = move_to_head(links, prot_h, prot_t, obj)
    else:
        prob_h, prob_t = unlink(links, prob_h, prob_t, obj)
        prot_h, prot_t = push_head(links, prot_h, prot_t, obj)
        links[obj, REGION] = PROTECTED
        protected_bytes += cached[obj]
        while protected_bytes > max_protected:
            demoted = prot_t
            prot_h, prot_t = unlink(links, prot_h, prot_t, demoted)
            prob_h, prob_t = push_head(links, prob_h, prob_t, demoted)
            links[demoted, REGION] = PROBATION
            protected_bytes -= cached[demoted]
    return (win_h, win_t, prob_h, prob_t, prot_h, prot_t, window_bytes, protected_bytes, records, *state[9:])


@njit(inline="always")
def _on_miss(state, arrays, cached, obj, size, now, i):
    counters = arrays[1]
    records = _record(counters, obj, state[12], state[13], state[8], state[11])
    return (*state[:8], records, *state[9:])


@njit(inline="always")
def _evict(state, arrays, cached, obj, size, now, i):
    links, counters = arrays
    win_h, win_t, prob_h, prob_t, prot_h, prot_t, window_bytes, protected_bytes, records = state[:9]
    max_window, _, _, mask, width = state[9:]
    if win_t >= 0 and window_bytes + size > max_window:
        # The window's LRU object is the candidate for the main cache.
        candidate = win_t
        win_h, win_t = unlink(links, win_h, win_t, candidate)
        window_bytes -= cached[candidate]
        victim = candidate
        if prob_t >= 0 and _estimate(counters, candidate, mask, width) > _estimate(counters, prob_t, mask, width):
            victim = prob_t
            prob_h, prob_t = unlink(links, prob_h, prob_t, victim)
            prob_h, prob_t = push_head(links, prob_h, prob_t, candidate)
            links[candidate, REGION] = PROBATION
    elif prob_t >= 0:
        victim = prob_t
        prob_h, prob_t = unlink(links, prob_h, prob_t, victim)
    elif prot_t >= 0:
        victim = prot_t
        prot_h, prot_t = unlink(links, prot_h, prot_t, victim)
        protected_bytes -= cached[victim]
    else:
        victim = win_t
        win_h, win_t = unlink(links, win_h, win_t, victim)
        window_bytes -= cached[victim]
    links[victim, REGION] = 0
    state = (win_h, win_t, prob_h, prob_t, prot_h, prot_t, window_bytes, protected_bytes, records, *state[9:])
    return state, victim


@njit(inline="always")
def _on_insert(state, arrays, cached, obj, size, now, i):
    links, _ = arrays
    win_h, win_t, prob_h, prob_t, prot_h, prot_t, window_bytes, protected_bytes, records = state[:9]
    max_window = state[9]
    win_h, win_t = push_head(links, win_h, win_t, obj)
    links[obj, REGION] = WINDOW
    window_bytes += size
    # With room in the cache, objects leaving the window join probation without a duel.
    while window_bytes > max_window and win_t != obj:
        moved = win_t
        win_h, win_t = unlink(links, win_h, win_t, moved)
        prob_h, prob_t = push_head(links, prob_h, prob_t, moved)
        links[moved, REGION] = PROBATION
        window_bytes -= cached[moved]
    return (win_h, win_t, prob_h, prob_t, prot_h, prot_t, window_bytes, protected_bytes, records, *state[9:])


@njit(cache=True, nogil=True)
def _replay(requests, config, state, arrays):
    return replay_requests(requests, config, state, arrays, _on_hit, _on_miss, _evict, _on_insert)


def _init(trace, params):
    capacity = int(trace.capacity)
    max_main = min(int(capacity * (1.0 - params["window_ratio"])), capacity - 1)
    max_protected = int(max_main * params["protected_ratio"])
    mean_size = float(np.mean(trace.sizes)) if len(trace.sizes) else 1.0
    capacity_objects = int(min(max(capacity / max(mean_size, 1.0), 1.0), max(trace.n_objects, 1)))
    width = 1 << max(COUNTERS_PER_OBJECT * capacity_objects - 1, MIN_WIDTH - 1).bit_length()
    sample_size = max(int(params["sample_factor"] * capacity_objects), 1)
    zero = np.int64(0)
    state = (
        *(NONE,) * 6,
        zero,
        zero,
        zero,
        np.int64(capacity - max_main),
        np.int64(max_protected),
        np.int64(sample_size),
        np.uint64(width - 1),
        np.int64(width),
    )
    links = np.zeros((max(trace.n_objects, 1), 4), np.int32)
    links[:, :2] = NONE
    return state, (links, np.zeros(SKETCH_ROWS * width, np.uint8))


POLICY = Policy(
    name="wtinylfu",
    summary="Frequency-guarded admission with a recency window; best all-rounder on skewed web/search traffic.",
    init=_init,
    replay=_replay,
    params=(
        Param("window_ratio", 0.01, 0.0, 0.8, "share of the cache for the LRU admission window (at least 1 object)"),
        Param("protected_ratio", 0.80, 0.0, 1.0, "share of the main cache for its protected segment"),
        Param("sample_factor", 10, 1, 100, "sketch counters halve after this many x the cache's object count records"),
    ),
)
