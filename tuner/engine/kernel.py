"""The one request path every policy runs inside, compiled with numba.

Each policy module compiles its own copy of ``replay_requests`` with its hooks
(``@njit(inline="always")`` lets LLVM see the whole loop, so a policy's small
named state lives in registers). The loop owns what all policies share:
lookup, operations (GET, SET, DELETE), write policies, TTL expiry,
admission by size, capacity accounting, evict-until-it-fits, and the
per-segment counts that timelines and checkpoints read. A policy only orders
its residents, names victims and, if it has its own rule, refuses newcomers.

Request semantics (the README states them for users):

- A request that finds its object expired removes it first (an expiration;
  a dirty copy is written back), then proceeds as if it were absent.
- GET: a hit if cached; a miss reads the backend and admits the object.
- SET: ``WRITE_THROUGH`` writes the backend and the cache; ``WRITE_BACK``
  writes the cache only and marks the object dirty (written back when it is
  evicted or at each flush, every ``flush_interval`` seconds of trace time);
  ``WRITE_AROUND`` writes the backend and invalidates a cached copy. A SET
  that finds its object cached is an access for the policy (``on_hit``); one
  that changes its size re-enters it (the policy sees it leave and enter
  again at the new size, evicting others if it no longer fits).
- DELETE: removes a cached copy (a dirty one is dropped) and writes the
  backend once.
- Expiry is set when an object is admitted or written: the request's TTL,
  else the cache timeout ``ttl``, else none; reads never change it.
- Admission: an object larger than the capacity or than ``max_object_size``
  bytes, or one the policy's ``admit`` hook refuses, is not admitted
  (``REJECTED``); a SET the cache cannot take under write-back goes straight
  to the backend.

Hook contract (all hooks are ``@njit(inline="always")`` functions; each returns the new state,
``evict`` the new state and its victim, ``admit`` the new state and whether it admits):

- ``on_hit(state, arrays, cache, obj, size, now, i)``: a GET hit, or a SET to a cached object.
- ``on_miss(state, arrays, cache, obj, size, now, i)``: before any eviction,
  for an object that will be admitted (ghost bookkeeping, adaptation).
- ``evict(state, arrays, cache, obj, size, now, i) -> (state, victim)``:
  choose one resident, unlink it from the policy's lists and name it; the
  loop frees its space and counts the eviction. ``obj`` is the object waiting
  to enter. The loop calls it until the newcomer fits.
- ``on_insert(state, arrays, cache, obj, size, now, i)``: ``obj`` is already held (with its
  expiry), so the hook may release it.
- ``on_remove(state, arrays, cache, obj, now, i)``: ``obj`` leaves without
  being chosen (a delete, an invalidation, an expiry, a resize): unlink it
  from every list. A removed object never becomes a ghost. The loop frees
  its space.
- optional, passed as ``admit=``: ``admit(state, arrays, cache, obj, size, now, i) -> (state, admitted)``,
  asked before ``on_miss`` for an object the loop would admit.

A policy's compiled entry is ``_replay(run, state, arrays)``, one line that
calls ``replay_requests(run, state, arrays, <its five hooks>)``.

Any other hook may evict at any point by calling ``release(cache, victim)``
(a hit that demotes past a segment's share): the victim's space is free at
once (a dirty copy is written back) and it is counted as an eviction. Such a
policy passes ``hooks_release=True`` in its one call (the loop then reads
what was released before each admission; without it, it never looks).
``state`` is the policy's named tuple of scalars
(``tuner.engine.named_state``), ``arrays`` its named tuple of numpy arrays,
``cache`` the loop's ``Cache``: read an object's size with ``size_of(cache,
x)`` (valid until the loop frees it), whether it is cached with
``cache.held[x] >= 0`` and when it expires with ``cache.expires[x]``, never
write them. A model with active expiry removes an expired object from a hook
with ``expire(cache, x)`` (counted as an expiration; ``hooks_release=True``
too). ``obj`` is an unsigned id (index
with it freely), ``i`` the request's position in the trace and ``now`` its
timestamp in seconds.

A GET hit with another size than the cached copy's is a hit on that copy
(trace readers give each object one size, its largest, unless told
otherwise).

The loop pays only for what a replay uses, chosen when it compiles: with an
``int8`` residency array the capacity counts objects, every size is 1 and no
size is read; with ``ops=None`` no operation is read and every request is a
GET; with no TTL (neither ``ttls`` nor ``ttl``) no expiry is kept or checked;
without write-back (``Cache.dirty`` None) no dirty state; without
``flush_interval``, ``max_object_size`` or ``admit``, no check of them. The
capacity in use lives in a register, evictions are counted once at the end
(every admitted object that is no longer held and did not leave otherwise
was evicted), and ids and positions index unsigned (numba checks every
signed index for a negative value: on LRU and FIFO those checks cost as much
as the policy). The rest of the work per request is a hit counter: segment
counts are noted as each segment ends (segments end at the caller's
``bounds``).
"""

from collections import namedtuple

import numpy as np
from numba import njit, types
from numba.extending import overload

from tuner.engine.borrowed import borrowed
from tuner.trace import DELETE, GET

# What the loop shares with the hooks: ``held[x]`` is the bytes object x holds (-1 when absent;
# int8 when the capacity counts objects), ``tally`` the counters below, ``dirty`` None unless
# writes go back (then a ``Dirty``), and ``expires[x]`` when cached x expires (``NEVER`` for none;
# one element, unused, when nothing can expire).
Cache = namedtuple("Cache", ["held", "tally", "dirty", "expires"])
# The dirty objects: ``listed[:tally[DIRTY]]`` in no order, ``slot_of[x]`` x's place there or -1.
Dirty = namedtuple("Dirty", ["slot_of", "listed"])
# The requests: dense ids, sizes (bytes), timestamps, one past the last request of each segment,
# operations (None: every request is a GET) and TTLs in seconds (None: none has one; 0: this one has none).
Requests = namedtuple("Requests", ["ids", "sizes", "times", "bounds", "ops", "ttls"])
# One replay's setting: its requests, the capacity, the Cache, the cache timeout in seconds (None:
# none), a write policy, the flush interval in seconds (None: none) and the largest object admitted
# in bytes (None: any that fits).
Run = namedtuple("Run", ["requests", "capacity", "cache", "ttl", "write_policy", "flush_interval", "max_object_size"])
WRITE_THROUGH, WRITE_BACK, WRITE_AROUND = 0, 1, 2
WRITE_POLICIES = {"write-through": WRITE_THROUGH, "write-back": WRITE_BACK, "write-around": WRITE_AROUND}
# Slots of ``Cache.tally``: capacity in use; evictions; cached objects removed by a DELETE;
# capacity a hook released since the loop last looked; refused admissions; backend writes;
# write-backs of dirty objects (at eviction, expiry or a flush); cached copies a write-around SET
# invalidated; expirations; objects that left to re-enter at a new size; dirty objects now and at most.
(USED, EVICTIONS, REMOVED, RELEASED, REJECTED, BACKEND_WRITES, WRITEBACKS, INVALIDATIONS, EXPIRATIONS,
 RESIZED, DIRTY, DIRTY_PEAK) = range(12)  # fmt: skip
N_TALLY = 12
OBJECT_RESIDENCY = np.int8
NEVER = np.inf  # the expiry of an object without a TTL


def new_expiries(n_objects: int, expiring: bool) -> np.ndarray:
    """``Cache.expires`` for a replay: every object's expiry (``NEVER`` until set), or one unused
    element when nothing can expire."""
    return np.full(n_objects if expiring else 1, NEVER)


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


def _given(option):
    """Whether an optional setting or column was given (a constant once compiled)."""
    return option is not None


@overload(_given)
def _given_compiled(option):
    given = not isinstance(option, (types.NoneType, types.Omitted))
    return lambda option: given


def _seconds(option):
    """An optional number of seconds, 0 when not given."""
    return 0.0 if option is None else float(option)


@overload(_seconds)
def _seconds_compiled(option):
    if isinstance(option, (types.NoneType, types.Omitted)):
        return lambda option: 0.0
    return lambda option: np.float64(option)


def _column(values, at, absent):
    """``values[at]``, or ``absent`` when the column is None."""
    return absent if values is None else values[at]


@overload(_column)
def _column_compiled(values, at, absent):
    if isinstance(values, (types.NoneType, types.Omitted)):
        return lambda values, at, absent: absent
    return lambda values, at, absent: values[at]


def _largest(option):
    """The largest object size admitted in bytes: any, when not given."""
    return np.iinfo(np.int64).max if option is None else np.int64(option)


@overload(_largest)
def _largest_compiled(option):
    if isinstance(option, (types.NoneType, types.Omitted)):
        largest = np.iinfo(np.int64).max
        return lambda option: largest
    return lambda option: np.int64(option)


def _admits(admit, state, arrays, cache, obj, size, now, i):
    """The policy's own admission rule: every object, without one."""
    return (state, True) if admit is None else admit(state, arrays, cache, obj, size, now, i)


@overload(_admits)
def _admits_compiled(admit, state, arrays, cache, obj, size, now, i):
    if isinstance(admit, (types.NoneType, types.Omitted)):
        return lambda admit, state, arrays, cache, obj, size, now, i: (state, True)
    return lambda admit, state, arrays, cache, obj, size, now, i: admit(state, arrays, cache, obj, size, now, i)


@njit(inline="always")
def _list_dirty(dirty, tally, obj):
    if dirty.slot_of[obj] < 0:
        dirty.slot_of[obj] = tally[DIRTY]
        dirty.listed[tally[DIRTY]] = obj
        tally[DIRTY] += 1
        tally[DIRTY_PEAK] = max(tally[DIRTY_PEAK], tally[DIRTY])


@njit(inline="always")
def _unlist_dirty(dirty, tally, obj):
    slot = dirty.slot_of[obj]
    if slot < 0:
        return False
    last = np.uint32(dirty.listed[tally[DIRTY] - 1])
    dirty.listed[slot] = last
    dirty.slot_of[last] = slot
    dirty.slot_of[obj] = -1
    tally[DIRTY] -= 1
    return True


@njit(inline="always")
def _unlist_all_dirty(dirty, tally):
    for slot in range(tally[DIRTY]):
        dirty.slot_of[np.uint32(dirty.listed[slot])] = -1
    tally[WRITEBACKS] += tally[DIRTY]
    tally[BACKEND_WRITES] += tally[DIRTY]
    tally[DIRTY] = 0


def _mark_dirty(cache, obj):
    """Note that the cache holds a write of ``obj`` the backend lacks (without write-back, nothing)."""
    if cache.dirty is not None:
        _list_dirty(cache.dirty, cache.tally, obj)


def _clean(cache, obj):
    """Forget that ``obj`` is dirty; returns whether it was (without write-back, never)."""
    return cache.dirty is not None and _unlist_dirty(cache.dirty, cache.tally, obj)


def _flush(cache):
    """Write every dirty object to the backend at once (without write-back, nothing)."""
    if cache.dirty is not None:
        _unlist_all_dirty(cache.dirty, cache.tally)


@overload(_mark_dirty)
def _mark_dirty_compiled(cache, obj):
    if isinstance(cache.types[2], types.NoneType):
        return lambda cache, obj: None
    return lambda cache, obj: _list_dirty(cache.dirty, cache.tally, obj)


@overload(_clean)
def _clean_compiled(cache, obj):
    if isinstance(cache.types[2], types.NoneType):
        return lambda cache, obj: False
    return lambda cache, obj: _unlist_dirty(cache.dirty, cache.tally, obj)


@overload(_flush)
def _flush_compiled(cache):
    if isinstance(cache.types[2], types.NoneType):
        return lambda cache: None
    return lambda cache: _unlist_all_dirty(cache.dirty, cache.tally)


@njit(inline="always")
def _write_back(cache, obj):
    """A dirty ``obj`` leaving the cache reaches the backend."""
    if _clean(cache, obj):
        cache.tally[WRITEBACKS] += 1
        cache.tally[BACKEND_WRITES] += 1


@njit(inline="always")
def _expiry(ttls, at, timeout, now):
    """When an object admitted or written by request ``at`` expires: its TTL, else the cache timeout."""
    own = np.float64(_column(ttls, at, np.float32(0.0)))
    if own > 0:
        return now + own
    return now + timeout if timeout > 0 else NEVER


@njit(inline="always")
def release(cache, victim):
    """Evict ``victim`` from a hook other than ``evict``: its space is free at once (a dirty copy is
    written back) and it counts as an eviction."""
    cache.tally[RELEASED] += size_of(cache, victim)
    _write_back(cache, victim)
    cache.held[np.uint32(victim)] = -1


@njit(inline="always")
def expire(cache, victim):
    """Remove an expired ``victim`` from a hook (a model's active expiry, as Redis's expire cycle
    does): like ``release``, but it counts as an expiration, not an eviction."""
    cache.tally[RELEASED] += size_of(cache, victim)
    cache.tally[EXPIRATIONS] += 1
    _write_back(cache, victim)
    cache.held[np.uint32(victim)] = -1


@njit(inline="always")
def replay_requests(run, state, arrays, on_hit, on_miss, evict, on_insert, on_remove, hooks_release=False,
                    admit=None):  # fmt: skip
    """Replay ``run.requests`` through the hooks with a cache of ``run.capacity``.

    ``capacity`` is in objects when ``cache.held`` is int8, else in bytes.
    ``cache`` is the caller's: ``held`` all -1, ``tally`` all 0, ``dirty``
    (when given) all -1; the loop leaves its counts there. Returns the final
    policy state and, for each segment, its GET hits, bytes hit and backend
    writes.
    """
    requests, capacity, cache, timeout_option, write_policy, interval_option, largest_option = run
    ids, sizes, times, bounds, ops, ttls = requests
    # Uncounted views: the hooks' array bindings then cost no atomic reference counting.
    cache = Cache(borrowed(cache.held), borrowed(cache.tally), borrowed(cache.dirty), borrowed(cache.expires))
    arrays = borrowed(arrays)
    held, tally = cache.held, cache.tally
    timeout = _seconds(timeout_option)
    interval = _seconds(interval_option)
    largest = _largest(largest_option)
    expiring = _given(ttls) or _given(timeout_option)
    expires_at = cache.expires
    next_flush = (times[0] if times.shape[0] else 0.0) + interval
    segment_hits = np.zeros(bounds.shape[0], np.int64)
    segment_bytes_hit = np.zeros(bounds.shape[0], np.int64)
    segment_writes = np.zeros(bounds.shape[0], np.int64)
    # The capacity in use stays in a register: hooks that release a victim themselves leave what
    # they freed in ``tally[RELEASED]``, folded in before each admission when the policy says its
    # hooks release (a constant in its one call, so other policies never read it).
    used = tally[USED]
    admissions = 0
    hits = 0
    bytes_hit = 0
    begin = 0
    for segment in range(bounds.shape[0]):
        end = bounds[segment]
        hits_before = hits
        bytes_hit_before = bytes_hit
        writes_before = tally[BACKEND_WRITES]
        for i in range(begin, end):
            # Unsigned positions and ids index without numba's negative-index wraparound.
            at = np.uint64(i)
            obj = np.uint32(ids[at])
            size = np.int64(1) if counts_objects(held) else np.int64(sizes[at])
            now = times[at]
            op = _column(ops, at, np.int8(GET))
            if _given(interval_option) and interval > 0 and now >= next_flush:
                _flush(cache)
                next_flush += interval * (np.floor((now - next_flush) / interval) + 1.0)
            if expiring and held[obj] >= 0 and now >= expires_at[obj]:
                tally[EXPIRATIONS] += 1
                _write_back(cache, obj)
                state = on_remove(state, arrays, cache, obj, now, i)
                used -= size_of(cache, obj)
                held[obj] = -1
            if op == GET:
                if held[obj] >= 0:
                    hits += 1
                    bytes_hit += 0 if counts_objects(held) else size
                    state = on_hit(state, arrays, cache, obj, size, now, i)
                    continue
            elif op == DELETE:
                tally[BACKEND_WRITES] += 1
                if held[obj] >= 0:
                    _clean(cache, obj)  # dropped, not written
                    state = on_remove(state, arrays, cache, obj, now, i)
                    used -= size_of(cache, obj)
                    held[obj] = -1
                    tally[REMOVED] += 1
                continue
            else:  # a SET
                if write_policy != WRITE_BACK:
                    tally[BACKEND_WRITES] += 1
                if held[obj] >= 0:
                    if write_policy == WRITE_AROUND:
                        state = on_remove(state, arrays, cache, obj, now, i)
                        used -= size_of(cache, obj)
                        held[obj] = -1
                        tally[INVALIDATIONS] += 1
                        continue
                    if size == size_of(cache, obj):
                        if expiring:  # set first: the hook sees the expiry this write gives
                            expires_at[obj] = _expiry(ttls, at, timeout, now)
                        state = on_hit(state, arrays, cache, obj, size, now, i)
                        if write_policy == WRITE_BACK:
                            _mark_dirty(cache, obj)
                        continue
                    state = on_remove(state, arrays, cache, obj, now, i)  # re-enters at its new size
                    used -= size_of(cache, obj)
                    held[obj] = -1
                    tally[RESIZED] += 1
                elif write_policy == WRITE_AROUND:
                    continue
            # A GET miss or a SET to admit.
            admitted = size <= capacity and (not _given(largest_option) or sizes[at] <= largest)
            if admitted:
                state, admitted = _admits(admit, state, arrays, cache, obj, size, now, i)
            if not admitted:
                tally[REJECTED] += 1
                if op != GET and write_policy == WRITE_BACK:
                    _clean(cache, obj)  # a dirty copy is superseded by this write
                    tally[BACKEND_WRITES] += 1
                continue
            state = on_miss(state, arrays, cache, obj, size, now, i)
            if hooks_release:
                used -= tally[RELEASED]
                tally[RELEASED] = 0
            while used + size > capacity:
                state, victim = evict(state, arrays, cache, obj, size, now, i)
                used -= size_of(cache, victim)
                _write_back(cache, victim)
                held[np.uint32(victim)] = -1
            # Held, with its expiry, before ``on_insert``: a model that evicts after a write (Redis
            # evicts before the next command) may choose the newcomer itself there.
            held[obj] = size
            if expiring:
                expires_at[obj] = _expiry(ttls, at, timeout, now)
            state = on_insert(state, arrays, cache, obj, size, now, i)
            used += size
            admissions += 1  # read only when the trace has operations: else it compiles away
            if op != GET and write_policy == WRITE_BACK:
                if held[obj] >= 0:
                    _mark_dirty(cache, obj)
                else:  # released at once by the hook: the write reaches the backend as it leaves
                    tally[BACKEND_WRITES] += 1
                    tally[WRITEBACKS] += 1
        segment_hits[segment] = hits - hits_before
        # Counting objects, every hit is one unit: bytes hit are hits (one counter fewer per hit).
        segment_bytes_hit[segment] = (hits - hits_before) if counts_objects(held) else bytes_hit - bytes_hit_before
        segment_writes[segment] = tally[BACKEND_WRITES] - writes_before
        begin = end
    tally[USED] = used - tally[RELEASED]
    tally[RELEASED] = 0
    tally[EVICTIONS] = _evictions(held, tally, admissions if _given(ops) else begin - hits - tally[REJECTED])
    return state, segment_hits, segment_bytes_hit, segment_writes


@njit(inline="always")
def _evictions(held, tally, admissions):
    """Evictions so far: every object admitted is held now, left in another way (a DELETE, an
    invalidation, an expiry, a resize), or was evicted. Without operations every request that was
    not a hit and not refused was an admission, so the loop need not count them."""
    left = tally[REMOVED] + tally[INVALIDATIONS] + tally[EXPIRATIONS] + tally[RESIZED]
    return admissions - left - np.count_nonzero(held >= 0)


@njit(inline="always")
def no_op(state, arrays, cache, obj, size, now, i):
    """A hook for policies that need nothing at this point."""
    return state
