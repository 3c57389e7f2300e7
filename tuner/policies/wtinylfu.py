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
holds more than its share its LRU object is *evicted* (so a hit can free
room). A miss inserts the object at the window's head and counts it.

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
- The shared request loop evicts only when it needs room, so an object a hit
  evicted (above) stays counted as resident, unlinked from every list, until
  the next eviction takes it first; requested before that, it counts as a hit
  (libCacheSim: a miss) and re-enters at the window's head as a miss would.
- With byte sizes the sketch is sized for ``M / mean request size`` objects,
  not ``M`` bytes; an admitted candidate larger than its victim leaves main
  over ``M`` until the next eviction trims it (libCacheSim evicts more at once).

Wins on skewed traffic with a frequency signal (search, web, databases) while
the window absorbs bursts of new objects.
"""

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from numba import njit

from tuner.engine.kernel import no_op, replay_requests
from tuner.policies.base import Param, Policy, PolicyInput
from tuner.policies.linked_list import NONE, move_to_head, push_head, unlink
from tuner.wrapping import wrapping_add, wrapping_mul

# Per-object row of the ``links`` array: the two list links, then the region the
# object is in (one 16-byte row, so a request touches one cache line of it).
REGION = 2
OUT, WINDOW, PROBATION, PROTECTED, FREED = 0, 1, 2, 3, 4
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


# state = (win_h, win_t, prob_h, prob_t, prot_h, prot_t, freed_h, freed_t,
#          probation_used, protected_used, main_hits,
#          max_main, max_probation, max_protected, halve_after)
# (the window's share only sets max_main: nothing else needs its fill)


@njit(inline="always")
def _enter_main(links, state, obj, size):
    """Link ``obj`` into the first main segment with room (probation if none has)."""
    win_h, win_t, prob_h, prob_t, prot_h, prot_t, freed_h, freed_t = state[:8]
    probation_used, protected_used = state[8], state[9]
    max_probation, max_protected = state[12], state[13]
    if probation_used + size > max_probation and protected_used + size <= max_protected:
        prot_h, prot_t = push_head(links, prot_h, prot_t, obj)
        links[obj, REGION] = PROTECTED
        protected_used += size
    else:
        prob_h, prob_t = push_head(links, prob_h, prob_t, obj)
        links[obj, REGION] = PROBATION
        probation_used += size
    return (win_h, win_t, prob_h, prob_t, prot_h, prot_t, freed_h, freed_t, probation_used, protected_used, *state[10:])


@njit(inline="always")
def _on_hit(state, arrays, cached, obj, size, now, i):
    links, counters = arrays
    win_h, win_t, prob_h, prob_t, prot_h, prot_t, freed_h, freed_t = state[:8]
    probation_used, protected_used, main_hits = state[8], state[9], state[10]
    max_probation, max_protected, halve_after = state[12], state[13], state[14]
    where = links[obj, REGION]
    if where == WINDOW:
        win_h, win_t = move_to_head(links, win_h, win_t, obj)
    elif where == PROTECTED:
        prot_h, prot_t = move_to_head(links, prot_h, prot_t, obj)
        main_hits = _count_main_hit(counters, obj, main_hits, halve_after)
    elif where == PROBATION:
        held = cached[obj]
        prob_h, prob_t = unlink(links, prob_h, prob_t, obj)
        prot_h, prot_t = push_head(links, prot_h, prot_t, obj)
        links[obj, REGION] = PROTECTED
        probation_used -= held
        protected_used += held
        while protected_used > max_protected:
            demoted = prot_t
            prot_h, prot_t = unlink(links, prot_h, prot_t, demoted)
            prob_h, prob_t = push_head(links, prob_h, prob_t, demoted)
            links[demoted, REGION] = PROBATION
            protected_used -= cached[demoted]
            probation_used += cached[demoted]
            while probation_used > max_probation:
                # Evicted by this hit: freed now, handed to the loop at the next eviction.
                freed = prob_t
                prob_h, prob_t = unlink(links, prob_h, prob_t, freed)
                freed_h, freed_t = push_head(links, freed_h, freed_t, freed)
                links[freed, REGION] = FREED
                probation_used -= cached[freed]
        main_hits = _count_main_hit(counters, obj, main_hits, halve_after)
    else:
        # Freed by an earlier hit and requested again: back in as a miss would be.
        freed_h, freed_t = unlink(links, freed_h, freed_t, obj)
        win_h, win_t = push_head(links, win_h, win_t, obj)
        links[obj, REGION] = WINDOW
        _count(counters, obj)
    return (win_h, win_t, prob_h, prob_t, prot_h, prot_t, freed_h, freed_t,
            probation_used, protected_used, main_hits, *state[11:])  # fmt: skip


@njit(inline="always")
def _main_victim(state):
    """Main's LRU end: probation's tail, or protected's when probation is empty."""
    return state[3] if state[3] >= 0 else state[5]


@njit(inline="always")
def _leave_main(links, cached, state, victim):
    win_h, win_t, prob_h, prob_t, prot_h, prot_t, freed_h, freed_t = state[:8]
    probation_used, protected_used = state[8], state[9]
    if links[victim, REGION] == PROBATION:
        prob_h, prob_t = unlink(links, prob_h, prob_t, victim)
        probation_used -= cached[victim]
    else:
        prot_h, prot_t = unlink(links, prot_h, prot_t, victim)
        protected_used -= cached[victim]
    links[victim, REGION] = OUT
    return (win_h, win_t, prob_h, prob_t, prot_h, prot_t, freed_h, freed_t, probation_used, protected_used, *state[10:])


@njit(inline="always")
def _with_window(state, win_h, win_t):
    return (win_h, win_t, *state[2:])


@njit(inline="always")
def _with_freed(state, freed_h, freed_t):
    return (*state[:6], freed_h, freed_t, *state[8:])


@njit(inline="always")
def _evict(state, arrays, cached, obj, size, now, i):
    links, counters = arrays
    freed_h, freed_t = state[6], state[7]
    if freed_t >= 0:
        victim = freed_t
        freed_h, freed_t = unlink(links, freed_h, freed_t, victim)
        links[victim, REGION] = OUT
        return _with_freed(state, freed_h, freed_t), victim
    max_main = state[11]
    if state[8] + state[9] > max_main:
        # Byte sizes only: an admitted candidate left main over its share.
        victim = _main_victim(state)
        return _leave_main(links, cached, state, victim), victim
    while True:
        candidate = state[1]
        if candidate < 0:
            victim = _main_victim(state)
            return _leave_main(links, cached, state, victim), victim
        held = cached[candidate]
        win_h, win_t = unlink(links, state[0], candidate, candidate)
        state = _with_window(state, win_h, win_t)
        if state[8] + state[9] + held <= max_main:
            state = _enter_main(links, state, candidate, held)
            _count(counters, candidate)
            continue
        victim = _main_victim(state)
        if victim >= 0 and _estimate(counters, candidate) > _estimate(counters, victim):
            state = _leave_main(links, cached, state, victim)
            state = _enter_main(links, state, candidate, held)
        else:
            victim = candidate
            links[victim, REGION] = OUT
        _count(counters, candidate)
        return state, victim


@njit(inline="always")
def _on_insert(state, arrays, cached, obj, size, now, i):
    links, counters = arrays
    win_h, win_t = push_head(links, state[0], state[1], obj)
    links[obj, REGION] = WINDOW
    _count(counters, obj)
    return _with_window(state, win_h, win_t)


@njit(cache=True, nogil=True)
def _replay(requests, config, state, arrays):
    return replay_requests(requests, config, state, arrays, _on_hit, no_op, _evict, _on_insert)


def _init(given: PolicyInput, params: Mapping[str, Any]) -> tuple[tuple, tuple]:
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
    state = (
        *(NONE,) * 8,
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
    return state, (links, np.zeros(n_counters, np.uint32))


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
