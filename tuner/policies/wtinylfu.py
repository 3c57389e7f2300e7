"""W-TinyLFU as libCacheSim defines it: an LRU window in front of a two-segment LRU,
a counting Bloom filter deciding which of the two keeps its object.

Einziger, Friedman & Manes, "TinyLFU: A Highly Efficient Cache Admission
Policy", ACM Transactions on Storage 13(4), 2017: section 3 (the TinyLFU
admission filter: an approximate frequency sketch with a reset that halves
it) and section 4 (W-TinyLFU: new objects enter a small LRU window; an object
leaving the window joins the main cache only if it is more frequent than the
main cache's victim). The details below are libCacheSim's (``WTinyLFU.c``
with ``SLRU.c`` and ``minimalIncrementCBF.c``, defaults
``main-cache=SLRU,window-size=0.01``), because its numbers are the ones this
project checks against; they differ from the paper and from Caffeine.

Sizes. The window is given ``w = int(C x window_ratio)`` of the capacity
``C`` and the main cache ``M = C - w``; main is a segmented LRU whose
probation segment holds ``int(0.2 x M)`` and protected ``int(0.8 x M)``
(``seg-size=1:4``, each rounded down, so the two may sum to ``M - 1``). The
window's share is a budget, not a bound: it is never enforced on insertion.

Requests. A hit in the window moves the object to the window's head. A hit in
main counts the object in the sketch and promotes it: probation -> protected's
head; from protected, to protected's head. While protected holds more than its
share its LRU object is demoted to probation's head, and while probation then
holds more than its share its LRU object is *evicted* at once (so a hit can
free room, and a request for that object is a miss). A miss inserts the
object at the window's head and counts it.

Eviction (when the cache is full). The window's LRU object is the candidate.
If main has room for it, it moves into main and the next window object is
looked at; otherwise it duels main's victim (probation's LRU object, or
protected's when probation is empty): it replaces the victim only if its
estimate is strictly larger, else it is evicted itself. Every candidate looked
at is counted in the sketch once more. With an empty window, main's victim is
evicted. An object entering main goes to the first segment with room for it,
probation first, then protected; when neither has room it goes to probation
anyway.

Sketch. A counting Bloom filter sized for ``M`` entries at a 0.1 % error rate:
``ceil(14.3776 x M)`` 32-bit counters, 10 hash functions. Object ``x`` (hashed
as the integer ``x + 1``, its id in an oracleGeneral file written in order of
first appearance) has ``a``/``b`` = the low 32 bits of XXH64 of its 8 bytes
with seeds 0x12345678/0x12344321; hash ``k`` picks counter
``(a + k b mod 2**32) mod n``. Counting increments all 10 counters (unbounded);
the estimate is their minimum. After ``sample_factor x M`` main-cache hits
(libCacheSim: 32), every counter is halved (the paper's reset; libCacheSim
counts only main hits towards it, not all requests).

Where this differs from libCacheSim, on purpose:
- libCacheSim refuses every object when ``int(C x 0.01)`` is 0 (below 100
  objects it misses every request); here the window is at least one unit.
- With byte sizes the sketch is sized for ``M / mean request size`` objects,
  not ``M`` bytes; an admitted candidate larger than its victim leaves main
  over ``M`` until the next eviction trims it (libCacheSim evicts more at once).

An object removed without being chosen (a delete, an expiry) is unlinked
from its list and its segment's count; the sketch keeps its counts, as it
keeps those of every evicted object.

Wins on skewed traffic with a frequency signal (search, web, databases) while
the window absorbs bursts of new objects.
"""

import math
from collections import namedtuple
from collections.abc import Mapping
from typing import Any

import numpy as np
from numba import njit

from tuner.engine.kernel import no_op, release, replay_requests, size_of
from tuner.engine.named_state import named_state
from tuner.policies.base import Param, Policy, PolicyInput
from tuner.policies.linked_list import NONE, move_to_head, push_head, unlink
from tuner.wrapping import wrapping_add, wrapping_mul

# Per-object row of the ``links`` array: the two list links, then the region the
# object is in (one 16-byte row, so a request touches one cache line of it).
REGION = 2
OUT, WINDOW, PROBATION, PROTECTED = 0, 1, 2, 3
# libCacheSim's counting Bloom filter: 0.1 % error -> counters per entry and hash count.
ERROR_RATE = 0.001
COUNTERS_PER_ENTRY = -math.log(ERROR_RATE) / 0.480453013918201  # ln(2)**2
N_HASHES = math.ceil(0.693147180559945 * COUNTERS_PER_ENTRY)  # 10

_P1 = np.uint64(0x9E3779B185EBCA87)
_P2 = np.uint64(0xC2B2AE3D27D4EB4F)
_P3 = np.uint64(0x165667B19E3779F9)
_P4 = np.uint64(0x85EBCA77C2B2AE63)
_P5 = np.uint64(0x27D4EB2F165667C5)
_SEED_A = np.uint64(0x12345678)
_SEED_B = np.uint64(0x12344321)
_LOW32 = np.uint64(0xFFFFFFFF)


@njit(inline="always")
def _rotl(value, bits):
    return (value << np.uint64(bits)) | (value >> np.uint64(64 - bits))


@njit(inline="always")
def _xxh64_word(value, seed):
    """XXH64 of one 8-byte little-endian word (the input length is 8)."""
    digest = wrapping_add(seed, _P5 + np.uint64(8))
    digest ^= wrapping_mul(_rotl(wrapping_mul(value, _P2), 31), _P1)
    digest = wrapping_add(wrapping_mul(_rotl(digest, 27), _P1), _P4)
    digest = wrapping_mul(digest ^ (digest >> np.uint64(33)), _P2)
    digest = wrapping_mul(digest ^ (digest >> np.uint64(29)), _P3)
    return digest ^ (digest >> np.uint64(32))


# Not inlined by numba: copying its two XXH64 rounds into every sketch access took the first
# compile from 7 s to 15 s, and replays measured no faster for it.
@njit
def _hash_pair(obj):
    key = np.uint64(obj) + np.uint64(1)
    return _xxh64_word(key, _SEED_A) & _LOW32, _xxh64_word(key, _SEED_B) & _LOW32


@njit(inline="always")
def _estimate(counters, obj):
    """The smallest of ``obj``'s counters."""
    first, step = _hash_pair(obj)
    n = np.uint64(counters.shape[0])
    smallest = counters[np.int64(first % n)]
    for k in range(1, N_HASHES):
        smallest = min(smallest, counters[np.int64(((first + np.uint64(k) * step) & _LOW32) % n)])
    return smallest


@njit(inline="always")
def _count(counters, obj):
    first, step = _hash_pair(obj)
    n = np.uint64(counters.shape[0])
    for k in range(N_HASHES):
        counters[np.int64(((first + np.uint64(k) * step) & _LOW32) % n)] += 1


@njit(inline="always")
def _count_main_hit(counters, obj, main_hits, halve_after):
    """Count a main-cache hit; halve every counter after ``halve_after`` of them."""
    _count(counters, obj)
    main_hits += 1
    if main_hits >= halve_after:
        main_hits = 0
        for slot in range(counters.shape[0]):
            counters[slot] >>= 1
    return main_hits


# The three lists, the main segments' fills, main hits since the sketch last halved, and constants
# (the window's share only sets max_main: nothing else needs its fill).
Segments, replace = named_state(
    "Segments",
    ["win_head", "win_tail", "prob_head", "prob_tail", "prot_head", "prot_tail",
     "probation_used", "protected_used", "main_hits",
     "max_main", "max_probation", "max_protected", "halve_after"],
)  # fmt: skip
# ``links[x]``: x's two list links and its region; ``counters``: the sketch.
SegmentArrays = namedtuple("SegmentArrays", ["links", "counters"])


@njit(inline="always")
def _enter_main(links, state, obj, size):
    """Link ``obj`` into the first main segment with room (probation if none has)."""
    if state.probation_used + size > state.max_probation and state.protected_used + size <= state.max_protected:
        prot_head, prot_tail = push_head(links, state.prot_head, state.prot_tail, obj)
        links[obj, REGION] = PROTECTED
        return replace(state, prot_head=prot_head, prot_tail=prot_tail, protected_used=state.protected_used + size)
    prob_head, prob_tail = push_head(links, state.prob_head, state.prob_tail, obj)
    links[obj, REGION] = PROBATION
    return replace(state, prob_head=prob_head, prob_tail=prob_tail, probation_used=state.probation_used + size)


@njit(inline="always")
def _on_hit(state, arrays, cache, obj, size, now, i):
    links, counters = arrays
    where = links[obj, REGION]
    if where == WINDOW:
        win_head, win_tail = move_to_head(links, state.win_head, state.win_tail, obj)
        return replace(state, win_head=win_head, win_tail=win_tail)
    main_hits = _count_main_hit(counters, obj, state.main_hits, state.halve_after)
    if where == PROTECTED:
        prot_head, prot_tail = move_to_head(links, state.prot_head, state.prot_tail, obj)
        return replace(state, prot_head=prot_head, prot_tail=prot_tail, main_hits=main_hits)
    held = size_of(cache, obj)
    prob_head, prob_tail = unlink(links, state.prob_head, state.prob_tail, obj)
    prot_head, prot_tail = push_head(links, state.prot_head, state.prot_tail, obj)
    links[obj, REGION] = PROTECTED
    probation_used = state.probation_used - held
    protected_used = state.protected_used + held
    while protected_used > state.max_protected:
        demoted = prot_tail
        prot_head, prot_tail = unlink(links, prot_head, prot_tail, demoted)
        prob_head, prob_tail = push_head(links, prob_head, prob_tail, demoted)
        links[demoted, REGION] = PROBATION
        protected_used -= size_of(cache, demoted)
        probation_used += size_of(cache, demoted)
        while probation_used > state.max_probation:
            evicted = prob_tail
            prob_head, prob_tail = unlink(links, prob_head, prob_tail, evicted)
            links[evicted, REGION] = OUT
            probation_used -= size_of(cache, evicted)
            release(cache, evicted)
    return replace(state, prob_head=prob_head, prob_tail=prob_tail, prot_head=prot_head, prot_tail=prot_tail,
                   probation_used=probation_used, protected_used=protected_used, main_hits=main_hits)  # fmt: skip


@njit(inline="always")
def _main_victim(state):
    """Main's LRU end: probation's tail, or protected's when probation is empty."""
    return state.prob_tail if state.prob_tail >= 0 else state.prot_tail


@njit(inline="always")
def _on_remove(state, arrays, cache, obj, now, i):
    """Unlink ``obj`` from its list (the window's or a main segment's) and take it off that fill."""
    links = arrays.links
    where = links[obj, REGION]
    links[obj, REGION] = OUT
    if where == WINDOW:
        win_head, win_tail = unlink(links, state.win_head, state.win_tail, obj)
        return replace(state, win_head=win_head, win_tail=win_tail)
    if where == PROBATION:
        prob_head, prob_tail = unlink(links, state.prob_head, state.prob_tail, obj)
        return replace(state, prob_head=prob_head, prob_tail=prob_tail,
                       probation_used=state.probation_used - size_of(cache, obj))  # fmt: skip
    prot_head, prot_tail = unlink(links, state.prot_head, state.prot_tail, obj)
    return replace(state, prot_head=prot_head, prot_tail=prot_tail,
                   protected_used=state.protected_used - size_of(cache, obj))  # fmt: skip


@njit(inline="always")
def _evict_main_victim(state, arrays, cache, now, i):
    victim = _main_victim(state)
    return _on_remove(state, arrays, cache, victim, now, i), victim


@njit(inline="always")
def _evict(state, arrays, cache, obj, size, now, i):
    links, counters = arrays
    if state.probation_used + state.protected_used > state.max_main:
        # Byte sizes only: an admitted candidate left main over its share.
        return _evict_main_victim(state, arrays, cache, now, i)
    while True:
        candidate = state.win_tail
        if candidate < 0:
            return _evict_main_victim(state, arrays, cache, now, i)
        held = size_of(cache, candidate)
        win_head, win_tail = unlink(links, state.win_head, candidate, candidate)
        state = replace(state, win_head=win_head, win_tail=win_tail)
        if state.probation_used + state.protected_used + held <= state.max_main:
            state = _enter_main(links, state, candidate, held)
            _count(counters, candidate)
            continue
        victim = _main_victim(state)
        if victim >= 0 and _estimate(counters, candidate) > _estimate(counters, victim):
            state = _on_remove(state, arrays, cache, victim, now, i)
            state = _enter_main(links, state, candidate, held)
        else:
            victim = candidate
            links[victim, REGION] = OUT
        _count(counters, candidate)
        return state, victim


@njit(inline="always")
def _on_insert(state, arrays, cache, obj, size, now, i):
    links, counters = arrays
    win_head, win_tail = push_head(links, state.win_head, state.win_tail, obj)
    links[obj, REGION] = WINDOW
    _count(counters, obj)
    return replace(state, win_head=win_head, win_tail=win_tail)


@njit(cache=True, nogil=True)
def _replay(run, state, arrays):
    return replay_requests(run, state, arrays, _on_hit, no_op, _evict, _on_insert, _on_remove, hooks_release=True)


def _init(given: PolicyInput, params: Mapping[str, Any]) -> tuple[Segments, SegmentArrays]:
    capacity = int(given.capacity)
    window = max(int(capacity * params["window_ratio"]), 1)
    max_main = max(capacity - window, 0)
    protected_share = params["protected_ratio"]
    # round() so that 1 - 0.8 is the double 0.2, as libCacheSim's 1/5.
    max_probation = int(round(1.0 - protected_share, 12) * max_main)
    max_protected = int(protected_share * max_main)
    mean_size = float(np.mean(given.sizes)) if len(given.sizes) else 1.0
    main_objects = int(max_main / max(mean_size, 1.0))
    n_counters = min(math.ceil(COUNTERS_PER_ENTRY * main_objects), 2**31 - 1)
    if n_counters < N_HASHES:
        n_counters = 2 * N_HASHES
    zero = np.int64(0)
    state = Segments(
        *(NONE,) * 6,
        zero,
        zero,
        zero,
        np.int64(max_main),
        np.int64(max_probation),
        np.int64(max_protected),
        np.int64(params["sample_factor"] * main_objects),
    )
    links = np.zeros((max(given.n_objects, 1), 4), np.int32)
    links[:, :2] = NONE
    return state, SegmentArrays(links, np.zeros(n_counters, np.uint32))


POLICY = Policy(
    name="wtinylfu",
    summary="Frequency-guarded admission with a recency window; best all-rounder on skewed web/search traffic.",
    init=_init,
    replay=_replay,
    params=(
        Param(
            "window_ratio",
            0.01,
            0.0,
            0.8,
            "share of the cache for the LRU admission window (at least 1 unit)",
            most=1.0,
        ),
        Param("protected_ratio", 0.80, 0.0, 1.0, "share of the main cache for its protected segment", most=1.0),
        Param("sample_factor", 32, 1, 100, "the sketch halves after this many x the main cache's size main hits"),
    ),
)
