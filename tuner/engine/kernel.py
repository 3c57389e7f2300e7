"""The one request path every policy runs inside, compiled with numba.

Each policy module compiles its own copy of ``replay_requests`` with its hooks
(``@njit(inline="always")`` lets LLVM see the whole loop, so a policy's small
named state lives in registers). The loop owns what all policies share:
lookup, hit and miss counting, capacity accounting, evict-until-it-fits, TTL
expiry and the per-segment counts that timelines and checkpoints read. A
policy only orders its residents and names victims.

Hook contract (all hooks are ``@njit(inline="always")`` functions returning
the new state):

- ``on_hit(state, arrays, cache, obj, size, now, i)``
- ``on_miss(state, arrays, cache, obj, size, now, i)``: before any eviction,
  for an object that will be admitted (ghost bookkeeping, adaptation).
- ``evict(state, arrays, cache, obj, size, now, i)``: choose one resident,
  unlink it and hand it to ``release(cache, victim)``; ``obj`` is the object
  waiting to enter. The loop calls it until the newcomer fits.
- ``on_insert(state, arrays, cache, obj, size, now, i)``
- ``on_remove(state, arrays, cache, obj, now, i)``: ``obj`` leaves without
  being chosen (a delete, an invalidation, an expiry): unlink it from every
  list. A removed object never becomes a ghost. The loop frees its space.

A policy's compiled entry is ``_replay(run, state, arrays)``, one line that
calls ``replay_requests(run, state, arrays, <its five hooks>)``.

Any hook may evict at any point by calling ``release(cache, victim)`` (a hit
that demotes past a segment's share, a size that grows): the victim's space is
free at once and it is counted as an eviction. ``state`` is the policy's named
tuple of scalars (``tuner.engine.named_state``), ``arrays`` its named tuple of
numpy arrays, ``cache`` the loop's ``Cache``: read an object's size with
``size_of(cache, x)`` and whether it is cached with ``cache.held[x] >= 0``,
never write it. ``i`` is the request's position in the trace and ``now`` its
timestamp in seconds.

An object keeps the size it was admitted with until it leaves: a hit with
another size is a hit on the cached copy (trace readers give each object one
size, its largest, unless told otherwise).

The loop pays only for what a replay uses, chosen when it compiles: with an
``int8`` residency array the capacity counts objects, every size is 1 and no
size is read; with ``ttl=None`` no fetch time is kept or checked. The rest of
the work per request is a hit counter: segment counts are noted as each
segment ends (segments end at the caller's ``bounds``), and evictions are
counted where a victim is released.
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
# Slots of ``Cache.tally``: capacity in use, the most in use at once, evictions, hits on an
# expired copy (refetched in place), requests larger than the whole cache (never admitted),
# and objects removed by a DELETE.
USED, PEAK_USED, EVICTIONS, REFETCHED, TOO_LARGE, REMOVED = range(6)
N_TALLY = 6
OBJECT_RESIDENCY = np.int8


def counts_objects(held: np.ndarray) -> bool:
    """Whether a residency array belongs to a capacity in objects (its dtype says so)."""
    return held.dtype == OBJECT_RESIDENCY


def size_of(cache, obj):
    """The capacity ``obj`` holds in the cache: 1 when counting objects (a constant once compiled)."""
    return np.int64(cache.held[obj])


@overload(size_of)
def _size_of_compiled(cache, obj):
    if cache.types[0].dtype == types.int8:
        return lambda cache, obj: np.int64(1)
    return lambda cache, obj: np.int64(cache.held[obj])


def _request_size(cache, sizes, i):
    """The size request ``i`` asks for in the capacity's unit."""
    return np.int64(1) if counts_objects(cache.held) else np.int64(sizes[i])


@overload(_request_size)
def _request_size_compiled(cache, sizes, i):
    if cache.types[0].dtype == types.int8:
        return lambda cache, sizes, i: np.int64(1)
    return lambda cache, sizes, i: np.int64(sizes[i])


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
    """Evict ``victim``: its space is free at once and it counts as an eviction."""
    held, tally = cache
    tally[USED] -= size_of(cache, victim)
    held[victim] = -1
    tally[EVICTIONS] += 1


@njit(inline="always")
def replay_requests(run, state, arrays, on_hit, on_miss, evict, on_insert, on_remove):
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
    held = cache.held
    fetched_at = np.zeros(held.shape[0] if ttl is not None else 1, np.float64)
    segment_hits = np.zeros(bounds.shape[0], np.int64)
    segment_bytes_hit = np.zeros(bounds.shape[0], np.int64)
    hits = 0
    bytes_hit = 0
    begin = 0
    for segment in range(bounds.shape[0]):
        end = bounds[segment]
        hits_before = hits
        bytes_hit_before = bytes_hit
        for i in range(begin, end):
            obj = ids[i]
            size = _request_size(cache, sizes, i)
            now = times[i]
            if _deletes(ops, i):
                if held[obj] >= 0:
                    state = on_remove(state, arrays, cache, obj, now, i)
                    cache.tally[USED] -= size_of(cache, obj)
                    held[obj] = -1
                    cache.tally[REMOVED] += 1
                continue
            if held[obj] >= 0:
                if not _expired(ttl, fetched_at, obj, now):
                    hits += 1
                    bytes_hit += size
                    state = on_hit(state, arrays, cache, obj, size, now, i)
                    continue
                cache.tally[REFETCHED] += 1
                _fetched(ttl, fetched_at, obj, now)
                state = on_hit(state, arrays, cache, obj, size, now, i)
            elif size <= capacity:
                state = on_miss(state, arrays, cache, obj, size, now, i)
                while cache.tally[USED] + size > capacity:
                    state = evict(state, arrays, cache, obj, size, now, i)
                state = on_insert(state, arrays, cache, obj, size, now, i)
                held[obj] = size
                used = cache.tally[USED] + size
                cache.tally[USED] = used
                if used > cache.tally[PEAK_USED]:
                    cache.tally[PEAK_USED] = used
                _fetched(ttl, fetched_at, obj, now)
            else:
                cache.tally[TOO_LARGE] += 1
        segment_hits[segment] = hits - hits_before
        segment_bytes_hit[segment] = bytes_hit - bytes_hit_before
        begin = end
    return state, segment_hits, segment_bytes_hit


@njit(inline="always")
def no_op(state, arrays, cache, obj, size, now, i):
    """A hook for policies that need nothing at this point."""
    return state
