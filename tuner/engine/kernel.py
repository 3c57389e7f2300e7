"""The one request path every policy runs inside, compiled with numba.

Each policy module compiles its own copy of ``replay_requests`` with its hooks
(``@njit(inline="always")`` lets LLVM see the whole loop, so a policy's small
named state lives in registers). The loop owns what all policies share:
lookup, hit and miss counting, capacity accounting, evict-until-it-fits, TTL
expiry and the per-segment counts that timelines and checkpoints read. A
policy only orders its residents and names victims.

Hook contract (all hooks are ``@njit(inline="always")`` functions; each returns the new state,
``evict`` the new state and its victim):

- ``on_hit(state, arrays, cache, obj, size, now, i)``
- ``on_miss(state, arrays, cache, obj, size, now, i)``: before any eviction,
  for an object that will be admitted (ghost bookkeeping, adaptation).
- ``evict(state, arrays, cache, obj, size, now, i) -> (state, victim)``:
  choose one resident, unlink it from the policy's lists and name it; the
  loop frees its space and counts the eviction. ``obj`` is the object waiting
  to enter. The loop calls it until the newcomer fits.
- ``on_insert(state, arrays, cache, obj, size, now, i)``
- ``on_remove(state, arrays, cache, obj, now, i)``: ``obj`` leaves without
  being chosen (a delete, an invalidation, an expiry): unlink it from every
  list. A removed object never becomes a ghost. The loop frees its space.

A policy's compiled entry is ``_replay(run, state, arrays)``, one line that
calls ``replay_requests(run, state, arrays, <its five hooks>)``.

Any other hook may evict at any point by calling ``release(cache, victim)``
(a hit that demotes past a segment's share): the victim's space is free at
once and it is counted as an eviction. Such a policy passes
``hooks_release=True`` in its one call (the loop then reads what was
released before each admission; without it, it never looks). ``state`` is the policy's named
tuple of scalars (``tuner.engine.named_state``), ``arrays`` its named tuple of
numpy arrays, ``cache`` the loop's ``Cache``: read an object's size with
``size_of(cache, x)`` (valid until the loop frees it) and whether it is cached
with ``cache.held[x] >= 0``, never write it. ``obj`` is an unsigned id (index
with it freely), ``i`` the request's position in the trace and ``now`` its
timestamp in seconds.

An object keeps the size it was admitted with until it leaves: a hit with
another size is a hit on the cached copy (trace readers give each object one
size, its largest, unless told otherwise).

The loop pays only for what a replay uses, chosen when it compiles: with an
``int8`` residency array the capacity counts objects, every size is 1 and no
size is read; with ``ttl=None`` no fetch time is kept or checked; with
``ops=None`` no operation is read. The capacity in use lives in a register,
evictions are counted once at the end (every admitted object that is no
longer held and was not removed was evicted), and ids and positions index
unsigned (numba checks every signed index for a negative value: on LRU and
FIFO those checks cost as much as the policy). The rest of the work per
request is a hit counter: segment counts are noted as each segment ends
(segments end at the caller's ``bounds``).
"""

from collections import namedtuple

import numpy as np
from numba import njit, types
from numba.extending import overload

from tuner.engine.borrowed import borrowed
from tuner.trace import DELETE

# What the loop shares with the hooks: ``held[x]`` is the bytes object x holds (-1 when absent;
# int8 when the capacity counts objects) and ``tally`` the counters below.
Cache = namedtuple("Cache", ["held", "tally"])
# The requests: dense ids, sizes, timestamps, and one past the last request of each segment.
# ``ops`` is None when every request is a read; else DELETE requests remove their object.
Requests = namedtuple("Requests", ["ids", "sizes", "times", "bounds", "ops"])
# One replay's setting: its requests, the capacity, the TTL in seconds (None: none) and the Cache.
Run = namedtuple("Run", ["requests", "capacity", "ttl", "cache"])
# Slots of ``Cache.tally``: capacity in use, evictions, hits on an expired copy (refetched in
# place), requests larger than the whole cache (never admitted), objects removed by a DELETE,
# DELETE requests, and capacity a hook released since the loop last looked.
USED, EVICTIONS, REFETCHED, TOO_LARGE, REMOVED, DELETES, RELEASED = range(7)
N_TALLY = 7
OBJECT_RESIDENCY = np.int8


def counts_objects(held: np.ndarray) -> bool:
    """Whether a residency array belongs to a capacity in objects (its dtype says so; a constant once
    compiled, so a branch on it costs nothing)."""
    return held.dtype == OBJECT_RESIDENCY


@overload(counts_objects)
def _counts_objects_compiled(held):
    objects = held.dtype == types.int8
    return lambda held: objects


@njit(inline="always")
def size_of(cache, obj):
    """The capacity ``obj`` holds in the cache: 1 when counting objects."""
    return np.int64(1) if counts_objects(cache.held) else np.int64(cache.held[np.uint32(obj)])


def _expired(ttl, fetched_at, obj, now):
    """Whether the cached copy of ``obj`` is older than ``ttl`` seconds (never, without a TTL)."""
    return ttl is not None and now - fetched_at[obj] >= ttl


@overload(_expired)
def _expired_compiled(ttl, fetched_at, obj, now):
    if isinstance(ttl, (types.NoneType, types.Omitted)):
        return lambda ttl, fetched_at, obj, now: False
    return lambda ttl, fetched_at, obj, now: now - fetched_at[obj] >= ttl


def _deletes(ops, i):
    """Whether request ``i`` is a DELETE (never, when ``ops`` is None)."""
    return ops is not None and ops[i] == DELETE


@overload(_deletes)
def _deletes_compiled(ops, i):
    if isinstance(ops, (types.NoneType, types.Omitted)):
        return lambda ops, i: False
    return lambda ops, i: ops[i] == DELETE


def _fetched(ttl, fetched_at, obj, now):
    """Note when ``obj`` was fetched (nothing to note without a TTL)."""
    if ttl is not None:
        fetched_at[obj] = now


@overload(_fetched)
def _fetched_compiled(ttl, fetched_at, obj, now):
    if isinstance(ttl, (types.NoneType, types.Omitted)):
        return lambda ttl, fetched_at, obj, now: None

    def note(ttl, fetched_at, obj, now):
        fetched_at[obj] = now

    return note


@njit(inline="always")
def release(cache, victim):
    """Evict ``victim`` from a hook other than ``evict``: its space is free at once and it counts as an
    eviction."""
    held, tally = cache
    tally[RELEASED] += size_of(cache, victim)
    held[np.uint32(victim)] = -1


@njit(inline="always")
def replay_requests(run, state, arrays, on_hit, on_miss, evict, on_insert, on_remove, hooks_release=False):
    """Replay ``run.requests`` (a ``Requests``) through the hooks with a cache of ``run.capacity``.

    ``capacity`` is in objects when ``cache.held`` is int8, else in bytes; a
    DELETE (when ``requests.ops`` is given) removes its object and is not a
    hit;
    ``ttl`` (seconds, or None for no expiry) refetches in place a copy fetched
    that long ago: a miss the policy sees as an access. ``cache`` is the
    caller's: ``held`` all -1, ``tally`` all 0; the loop leaves its counts
    there. Returns the final policy state and the hits and bytes hit of each
    segment.
    """
    requests, capacity, ttl, cache = run
    ids, sizes, times, bounds, ops = requests
    # Uncounted views: the hooks' array bindings then cost no atomic reference counting.
    cache = Cache(borrowed(cache.held), borrowed(cache.tally))
    arrays = borrowed(arrays)
    held, tally = cache
    fetched_at = np.zeros(held.shape[0] if ttl is not None else 1, np.float64)
    segment_hits = np.zeros(bounds.shape[0], np.int64)
    segment_bytes_hit = np.zeros(bounds.shape[0], np.int64)
    # The capacity in use stays in a register: hooks that release a victim themselves leave what
    # they freed in ``tally[RELEASED]``, folded in before each admission when the policy says its
    # hooks release (a constant in its one call, so other policies never read it).
    used = tally[USED]
    hits = 0
    bytes_hit = 0
    begin = 0
    for segment in range(bounds.shape[0]):
        end = bounds[segment]
        hits_before = hits
        bytes_hit_before = bytes_hit
        for i in range(begin, end):
            # Unsigned positions and ids index without numba's negative-index wraparound.
            at = np.uint64(i)
            obj = np.uint32(ids[at])
            size = np.int64(1) if counts_objects(held) else np.int64(sizes[at])
            now = times[at]
            if _deletes(ops, at):
                tally[DELETES] += 1
                if held[obj] >= 0:
                    state = on_remove(state, arrays, cache, obj, now, i)
                    used -= size_of(cache, obj)
                    held[obj] = -1
                    tally[REMOVED] += 1
                continue
            if held[obj] >= 0:
                if not _expired(ttl, fetched_at, obj, now):
                    hits += 1
                    bytes_hit += 0 if counts_objects(held) else size
                    state = on_hit(state, arrays, cache, obj, size, now, i)
                    continue
                tally[REFETCHED] += 1
                _fetched(ttl, fetched_at, obj, now)
                state = on_hit(state, arrays, cache, obj, size, now, i)
            elif size <= capacity:
                state = on_miss(state, arrays, cache, obj, size, now, i)
                if hooks_release:
                    used -= tally[RELEASED]
                    tally[RELEASED] = 0
                while used + size > capacity:
                    state, victim = evict(state, arrays, cache, obj, size, now, i)
                    used -= size_of(cache, victim)
                    held[np.uint32(victim)] = -1
                state = on_insert(state, arrays, cache, obj, size, now, i)
                held[obj] = size
                used += size
                _fetched(ttl, fetched_at, obj, now)
            else:
                tally[TOO_LARGE] += 1
        segment_hits[segment] = hits - hits_before
        # Counting objects, every hit is one unit: bytes hit are hits (one counter fewer per hit).
        segment_bytes_hit[segment] = (hits - hits_before) if counts_objects(held) else bytes_hit - bytes_hit_before
        begin = end
    tally[USED] = used - tally[RELEASED]
    tally[RELEASED] = 0
    tally[EVICTIONS] = _evictions(held, tally, begin - hits)
    return state, segment_hits, segment_bytes_hit


@njit(inline="always")
def _evictions(held, tally, not_hits):
    """Evictions so far, from counts the loop keeps anyway: each request that was not a hit, a
    refetch, a DELETE or too large admitted its object, which is held now, was removed, or was evicted."""
    admitted = not_hits - tally[REFETCHED] - tally[TOO_LARGE] - tally[DELETES]
    return admitted - tally[REMOVED] - np.count_nonzero(held >= 0)


@njit(inline="always")
def no_op(state, arrays, cache, obj, size, now, i):
    """A hook for policies that need nothing at this point."""
    return state
