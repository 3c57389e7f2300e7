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
- optional, passed as ``upkeep=``: ``upkeep(state, arrays, cache) -> (state, room)``, called before
  each stretch of requests: tidy what could fill up (FIFO compacts its ring) and say for how many
  requests no tidying is needed. The loop runs requests in stretches and does everything rare but
  long between them (flushes, the dirty list's compaction, upkeep), so the per-request loop holds
  no inner loop and no call.
- optional, passed as ``ahead=``: ``ahead(state, arrays, cache, obj) -> state``, told of the object
  ``LOOKAHEAD`` requests ahead of each request (the loop also prefetches its ``held`` entry): a
  policy that waits on memory ``prefetch``es (``tuner.engine.prefetch``) the lines it will read for
  it, so their loads overlap this request's work. Pass ``upkeep``, ``admit`` and ``ahead`` as
  ``register_jitable`` functions (an ``njit`` dispatcher there keeps the policy's loop out of
  numba's disk cache).

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
write them. A hook that must tell a SET from a GET (only a SET moves an
expiry) keeps ``PolicyInput.ops`` among its arrays and asks ``is_write(ops,
i)``. A model with active expiry removes an expired object from a hook with
``expire(cache, x)`` (counted as an expiration; ``hooks_release=True`` too).
``obj`` is an unsigned id (index
with it freely), ``i`` the request's position in the trace and ``now`` its
timestamp in seconds.

A GET hit with another size than the cached copy's is a hit on that copy
(trace readers give each object one size, its largest, unless told
otherwise).

The loop pays only for what a replay uses, chosen when it compiles: with an
``int8`` residency array the capacity counts objects, every size is 1 and no
size is read; with ``ops=None`` no operation is read and every request is a
GET; with no TTL (neither ``ttls`` nor ``ttl``) no expiry is kept or checked;
write-back is a ``Cache`` with a dirty list (``Cache.dirty``), so its loop
never asks which write policy runs (``Run.write_policy`` then only tells
write-around from write-through) and without it no dirty state is kept; without
``flush_interval`` or ``admit``, no check of them (the size limit is one
compare beside reading the size, so it is always given). The
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
from tuner.engine.prefetch import prefetch
from tuner.trace import DELETE, GET, SET

# What the loop shares with the hooks: ``held[x]`` is the bytes object x holds (-1 when absent;
# int8 when the capacity counts objects), ``tally`` the counters below, ``dirty`` None unless
# writes go back (then the dirty list: see ``_list_dirty_if``), and ``expires[x]`` when cached x
# expires (``NEVER`` for none; one element, unused, when nothing can expire). Under write-back a
# dirty object's ``held`` carries ``dirty_flag(held)`` above its size: the victim's entry is
# written anyway, so knowing whether it goes back to the backend costs no other memory access.
Cache = namedtuple("Cache", ["held", "tally", "dirty", "expires"])
# The requests: dense ids, sizes (bytes), timestamps, one past the last request of each segment,
# operations (None: every request is a GET) and TTLs in seconds (None: none has one; 0: this one has none).
Requests = namedtuple("Requests", ["ids", "sizes", "times", "bounds", "ops", "ttls"])
# One replay's setting: its requests, the capacity, the Cache, the cache timeout in seconds (None:
# none), a write policy, the flush interval in seconds (None: none) and the largest object admitted
# in bytes (int64; no limit is the largest int64).
Run = namedtuple("Run", ["requests", "capacity", "cache", "ttl", "write_policy", "flush_interval", "max_object_size"])
WRITE_THROUGH, WRITE_BACK, WRITE_AROUND = 0, 1, 2
WRITE_POLICIES = {"write-through": WRITE_THROUGH, "write-back": WRITE_BACK, "write-around": WRITE_AROUND}
# Slots of ``Cache.tally``: capacity in use; evictions; cached objects removed by a DELETE;
# capacity a hook released since the loop last looked; refused admissions; backend writes;
# write-backs of dirty objects (at eviction, expiry or a flush); cached copies a write-around SET
# invalidated; expirations; objects that left to re-enter at a new size; dirty objects at the end
# and at most; entries in the dirty list; dirty objects made clean since the list was last emptied or
# compacted (see the dirty list below).
(USED, EVICTIONS, REMOVED, RELEASED, REJECTED, BACKEND_WRITES, WRITEBACKS, INVALIDATIONS, EXPIRATIONS,
 RESIZED, DIRTY, DIRTY_PEAK, LISTED, CLEANED) = range(14)  # fmt: skip
N_TALLY = 14
OBJECT_RESIDENCY = np.int8
NEVER = np.inf  # the expiry of an object without a TTL
UNLIMITED = np.int64(1 << 62)  # a stretch of requests that nothing in the cache limits
LOOKAHEAD = 8  # how many requests ahead an ``ahead`` hook hears of an object (8 and 16 measured alike)


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


def _upkept(upkeep, state, arrays, cache):
    """The policy's upkeep between stretches of requests: ``(state, requests it has room for)``, no
    limit without one."""
    return (state, UNLIMITED) if upkeep is None else upkeep(state, arrays, cache)


@overload(_upkept)
def _upkept_compiled(upkeep, state, arrays, cache):
    if isinstance(upkeep, (types.NoneType, types.Omitted)):
        return lambda upkeep, state, arrays, cache: (state, UNLIMITED)
    return lambda upkeep, state, arrays, cache: upkeep(state, arrays, cache)


def _looked_ahead(ahead, state, arrays, cache, ids, i):
    """With an ``ahead`` hook: start loading what request ``i + LOOKAHEAD`` will read, its ``held`` entry
    and what the hook names; without one, nothing."""
    if ahead is None:
        return state
    obj = ids[min(i + LOOKAHEAD, ids.shape[0] - 1)]
    prefetch(cache.held, obj)
    return ahead(state, arrays, cache, obj)


@overload(_looked_ahead)
def _looked_ahead_compiled(ahead, state, arrays, cache, ids, i):
    if isinstance(ahead, (types.NoneType, types.Omitted)):
        return lambda ahead, state, arrays, cache, ids, i: state

    def looked(ahead, state, arrays, cache, ids, i):
        obj = np.uint32(ids[np.uint64(min(i + LOOKAHEAD, ids.shape[0] - 1))])
        prefetch(cache.held, obj)
        return ahead(state, arrays, cache, obj)

    return looked


def _admits(admit, state, arrays, cache, obj, size, now, i):
    """The policy's own admission rule: every object, without one."""
    return (state, True) if admit is None else admit(state, arrays, cache, obj, size, now, i)


@overload(_admits)
def _admits_compiled(admit, state, arrays, cache, obj, size, now, i):
    if isinstance(admit, (types.NoneType, types.Omitted)):
        return lambda admit, state, arrays, cache, obj, size, now, i: (state, True)
    return lambda admit, state, arrays, cache, obj, size, now, i: admit(state, arrays, cache, obj, size, now, i)


def dirty_flag(held: np.ndarray) -> int:
    """The bit a dirty object's ``held`` entry carries above its size: the highest positive bit but one
    of the residency type, so entries stay non-negative and sizes below it are untouched."""
    return 1 << (8 * held.dtype.itemsize - 2)


@overload(dirty_flag)
def _dirty_flag_compiled(held):
    flag = np.dtype(str(held.dtype)).type(1 << (held.dtype.bitwidth - 2))
    return lambda held: flag


def _stored_size(cache, entry):
    """The size in a ``held`` entry, without the dirty flag (there is none unless writes go back)."""
    return entry if cache.dirty is None else entry & (dirty_flag(cache.held) - 1)


@overload(_stored_size)
def _stored_size_compiled(cache, entry):
    if isinstance(cache.types[2], types.NoneType):
        return lambda cache, entry: entry
    return lambda cache, entry: entry & (dirty_flag(cache.held) - 1)


@njit(inline="always")
def size_of(cache, obj):
    """The capacity ``obj`` holds in the cache: 1 when counting objects."""
    if counts_objects(cache.held):
        return np.int64(1)
    return np.int64(_stored_size(cache, cache.held[np.uint32(obj)]))


def is_write(ops, i):
    """Whether request ``i`` is a SET, for a hook that must tell one from a GET (a policy keeps
    ``PolicyInput.ops`` among its arrays); never for a read-only trace (``ops`` None)."""
    return ops is not None and ops[i] == SET


@overload(is_write)
def _is_write_compiled(ops, i):
    if isinstance(ops, (types.NoneType, types.Omitted)):
        return lambda ops, i: False
    return lambda ops, i: ops[np.uint64(i)] == SET


def held_sizes(cache) -> np.ndarray:
    """Each object's size in the cache, -1 when absent (a Python-side view of ``held`` without flags)."""
    held = cache.held
    return held if cache.dirty is None else np.where(held >= 0, held & (dirty_flag(held) - 1), -1)


def dirty_objects(cache) -> np.ndarray:
    """The ids of the dirty objects (none unless writes go back)."""
    return np.flatnonzero(cache.held >= dirty_flag(cache.held)) if cache.dirty is not None else np.empty(0, np.int64)


def new_dirty_list(n_objects: int) -> np.ndarray:
    """``Cache.dirty`` for a write-back replay: room for twice as many entries as objects, so the list is
    compacted at most once per ``n_objects`` objects made dirty."""
    return np.empty(2 * max(n_objects, 1), np.int32)


# The dirty list: ``dirty[:listed]`` holds every dirty object, in the order each became dirty, and
# objects that were dirty then (they left, or were flushed): each entry is checked against the flag
# when the list is read. So an object becomes clean with no write to the list, and the list is only
# ever appended to, read whole at a flush, or compacted when full. Its length ``listed`` stays in a
# register during a stretch of requests (``tally[LISTED]`` between stretches). Each entry made one
# object dirty, and ``tally[CLEANED]`` counts those made clean since the list was last emptied or
# compacted (when every entry was a dirty object), so the dirty objects number ``listed -
# tally[CLEANED]``: a request that writes stores one flag and one entry, and counts nothing. That
# number only rises when an object is made dirty, so its peak is noted before anything may make one
# clean (an eviction, a removal, a flush), never per request.


@njit(inline="always")
def _mark_written(cache, obj, entry, writes, listed):
    """Under write-back, ``obj`` (its ``held`` entry ``entry``) holds the write of a SET the backend
    lacks, when ``writes``: flagged dirty (once more changes nothing) and listed; returns the list's
    length. Branch-free: whether a request writes, and whether its object was dirty, cannot be
    predicted, and a mispredicted branch costs more than the stores (the list's next entry is written
    either way, counted only for an object made dirty)."""
    flag = dirty_flag(cache.held)
    cache.held[obj] = entry | (flag * writes)
    cache.dirty[np.uint64(listed)] = obj
    return listed + (writes & (entry < flag))


@njit(inline="always")
def _compact_dirty_list(held, tally, listed, flag):
    """Keep one entry per dirty object (at most one per object, so the list is at most half full after)."""
    kept = 0
    for slot in range(tally[LISTED]):
        obj = np.uint32(listed[slot])
        if held[obj] >= flag:
            held[obj] -= flag  # cleared for now, so a later entry of the same object is dropped
            listed[kept] = obj
            kept += 1
    for slot in range(kept):
        held[np.uint32(listed[slot])] += flag
    tally[LISTED] = kept
    tally[CLEANED] = 0


@njit(inline="always")
def _unlist_dirty(cache, obj):
    """Whether ``obj``, about to leave the cache, was dirty (its entry is rewritten by the caller);
    branch-free, as marking is."""
    was_dirty = cache.held[np.uint32(obj)] >= dirty_flag(cache.held)
    cache.tally[CLEANED] += was_dirty
    return was_dirty


@njit(inline="always")
def _note_dirty_peak(tally, listed):
    tally[DIRTY_PEAK] = max(tally[DIRTY_PEAK], listed - tally[CLEANED])


@njit(inline="always")
def _write_all_dirty(cache):
    """A flush: every listed object still dirty is written and made clean. Branch-free, as marking is
    (whether an entry is still dirty cannot be predicted), with the count in a register."""
    held, tally, listed = cache.held, cache.tally, cache.dirty
    flag = dirty_flag(held)
    _note_dirty_peak(tally, tally[LISTED])
    written = 0
    for slot in range(tally[LISTED]):
        obj = np.uint32(listed[slot])
        dirty = held[obj] >= flag
        held[obj] -= flag * dirty
        written += dirty
    tally[WRITEBACKS] += written
    tally[LISTED] = 0
    tally[CLEANED] = 0


def _mark_dirty_if(cache, obj, entry, writes, listed):
    """``_mark_written`` under write-back; without it, nothing (the list's length stays 0)."""
    if cache.dirty is not None:
        return _mark_written(cache, obj, entry, writes, listed)
    return listed


def _note_peak(cache, listed):
    """Before anything may make a dirty object clean: the dirty objects now may be the most so far
    (the list's length ``listed`` is the loop's); without write-back, nothing."""
    if cache.dirty is not None:
        _note_dirty_peak(cache.tally, listed)


def _leaves_dirty(cache, obj):
    """Whether ``obj``, about to leave the cache, was dirty (without write-back, never)."""
    return cache.dirty is not None and _unlist_dirty(cache, obj)


def _flush(cache):
    """Write every dirty object to the backend at once (without write-back, nothing)."""
    if cache.dirty is not None:
        _write_all_dirty(cache)


@overload(_mark_dirty_if)
def _mark_dirty_if_compiled(cache, obj, entry, writes, listed):
    if isinstance(cache.types[2], types.NoneType):
        return lambda cache, obj, entry, writes, listed: listed
    return lambda cache, obj, entry, writes, listed: _mark_written(cache, obj, entry, writes, listed)


@overload(_note_peak)
def _note_peak_compiled(cache, listed):
    if isinstance(cache.types[2], types.NoneType):
        return lambda cache, listed: None
    return lambda cache, listed: _note_dirty_peak(cache.tally, listed)


@overload(_leaves_dirty)
def _leaves_dirty_compiled(cache, obj):
    if isinstance(cache.types[2], types.NoneType):
        return lambda cache, obj: False
    return lambda cache, obj: _unlist_dirty(cache, obj)


@overload(_flush)
def _flush_compiled(cache):
    if isinstance(cache.types[2], types.NoneType):
        return lambda cache: None
    return lambda cache: _write_all_dirty(cache)


def _dirty_room(cache):
    """For how many requests the dirty list has room (each makes at most one object dirty), after
    compacting it when more than half full; no limit without write-back."""
    if cache.dirty is None:
        return UNLIMITED
    listed, tally = cache.dirty, cache.tally
    if tally[LISTED] > listed.shape[0] // 2:
        _compact_dirty_list(cache.held, tally, listed, dirty_flag(cache.held))
    return listed.shape[0] - tally[LISTED]


@overload(_dirty_room)
def _dirty_room_compiled(cache):
    if isinstance(cache.types[2], types.NoneType):
        return lambda cache: UNLIMITED

    def room(cache):
        listed, tally = cache.dirty, cache.tally
        if tally[LISTED] > listed.shape[0] // 2:
            _compact_dirty_list(cache.held, tally, listed, dirty_flag(cache.held))
        return np.int64(listed.shape[0] - tally[LISTED])

    return room


@njit(inline="always")
def _write_back(cache, obj):
    """A dirty ``obj`` leaving the cache reaches the backend (counted in ``BACKEND_WRITES`` as each
    segment ends)."""
    cache.tally[WRITEBACKS] += _leaves_dirty(cache, obj)


@njit(inline="always")
def _marked_unless_released(cache, obj, entry, writes, listed, hooks_release):
    """After a request's hooks, ``obj`` (its ``held`` entry ``entry``) holds what it wrote, flagged
    dirty under write-back (``_mark_dirty_if``); returns the dirty list's length. A policy whose hooks
    release may have released ``obj`` itself (Redis evicts after a write): then its write, under
    write-back, reaches the backend at once."""
    if hooks_release:
        entry = cache.held[obj]
        if entry < 0:
            cache.tally[WRITEBACKS] += writes & _given(cache.dirty)
            return listed
    return _mark_dirty_if(cache, obj, entry, writes, listed)


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
                    admit=None, upkeep=None, ahead=None):  # fmt: skip
    """Replay ``run.requests`` through the hooks with a cache of ``run.capacity``.

    ``capacity`` is in objects when ``cache.held`` is int8, else in bytes.
    ``cache`` is the caller's: ``held`` all -1, ``tally`` all 0, ``dirty``
    (when given) a ``new_dirty_list``; the loop leaves its counts there.
    Returns the final policy state and, for each segment, its GET hits, bytes
    hit and backend writes.
    """
    requests, capacity, cache, timeout_option, write_policy, interval_option, largest = run
    ids, sizes, times, bounds, ops, ttls = requests
    # Uncounted views: the hooks' array bindings then cost no atomic reference counting.
    cache = Cache(borrowed(cache.held), borrowed(cache.tally), borrowed(cache.dirty), borrowed(cache.expires))
    arrays = borrowed(arrays)
    held, tally = cache.held, cache.tally
    timeout = _seconds(timeout_option)
    interval = _seconds(interval_option)
    expiring = _given(ttls) or _given(timeout_option)
    expires_at = cache.expires
    flushing = _given(interval_option) and interval > 0
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
    # Write-back is a Cache with a dirty list (a constant once compiled: its loop never asks which
    # policy writes); otherwise ``write_policy`` tells write-around from write-through.
    back = _given(cache.dirty)
    around = False if back else write_policy == WRITE_AROUND
    listed = tally[LISTED]  # the dirty list's length, in a register (see the dirty list above)
    # SETs and DELETEs that reach the backend directly, in a register until each segment ends.
    direct_writes = 0
    begin = 0
    for segment in range(bounds.shape[0]):
        end = bounds[segment]
        hits_before = hits
        bytes_hit_before = bytes_hit
        writebacks_before = tally[WRITEBACKS]
        while begin < end:
            # Work that is rare but long (a flush, tidying the dirty list or a policy's structures) runs
            # between stretches of requests, never inside one: a loop or a call anywhere in the
            # per-request loop, however seldom taken, halves its speed (measured on LRU and FIFO).
            tally[LISTED] = listed
            if flushing and times[begin] >= next_flush:
                _flush(cache)
                next_flush += interval * (np.floor((times[begin] - next_flush) / interval) + 1.0)
            stop = min(end, begin + _dirty_room(cache))
            listed = tally[LISTED]
            if flushing:
                stop = min(stop, np.searchsorted(times, next_flush))  # the next flush starts a stretch
            state, room = _upkept(upkeep, state, arrays, cache)
            stop = min(stop, begin + room)
            for i in range(begin, stop):
                # Unsigned positions and ids index without numba's negative-index wraparound.
                at = np.uint64(i)
                obj = np.uint32(ids[at])
                state = _looked_ahead(ahead, state, arrays, cache, ids, i)
                size = np.int64(1) if counts_objects(held) else np.int64(sizes[at])
                now = times[at]
                op = _column(ops, at, np.int8(GET))
                if expiring and held[obj] >= 0 and now >= expires_at[obj]:
                    _note_peak(cache, listed)
                    tally[EXPIRATIONS] += 1
                    _write_back(cache, obj)
                    state = on_remove(state, arrays, cache, obj, now, i)
                    used -= size_of(cache, obj)
                    held[obj] = -1
                if op == DELETE:
                    direct_writes += 1
                    if held[obj] >= 0:
                        _note_peak(cache, listed)
                        _leaves_dirty(cache, obj)  # dropped, not written
                        state = on_remove(state, arrays, cache, obj, now, i)
                        used -= size_of(cache, obj)
                        held[obj] = -1
                        tally[REMOVED] += 1
                    continue
                # GETs and SETs share one path, told apart by arithmetic rather than branches: which a
                # request is cannot be predicted, and a mispredicted branch costs as much as a policy.
                writes = op != GET
                direct_writes += writes & (not back)
                entry = held[obj]
                if entry >= 0:
                    # A GET hit, or a SET to a cached copy of the same size: an access for the policy.
                    if (not writes) | ((not around) & (size == size_of(cache, obj))):
                        hits += 1 - writes
                        bytes_hit += 0 if counts_objects(held) else size * (1 - writes)
                        if expiring and writes:  # set first: the hook sees the expiry this write gives
                            expires_at[obj] = _expiry(ttls, at, timeout, now)
                        if hooks_release:
                            _note_peak(cache, listed)
                        state = on_hit(state, arrays, cache, obj, size, now, i)
                        listed = _marked_unless_released(cache, obj, entry, writes, listed, hooks_release)
                        continue
                    # A SET: write-around invalidates the copy, any other re-enters it at its new size
                    # (a dirty copy is superseded by this write).
                    _note_peak(cache, listed)
                    state = on_remove(state, arrays, cache, obj, now, i)
                    used -= size_of(cache, obj)
                    if around:
                        held[obj] = -1
                        tally[INVALIDATIONS] += 1
                        continue
                    _leaves_dirty(cache, obj)
                    held[obj] = -1
                    tally[RESIZED] += 1
                elif writes & around:
                    continue
                # A GET miss or a SET to admit (a policy's ``admit`` may already evict: memcached's does).
                _note_peak(cache, listed)
                # Counting objects, every size is 1: no object is over the size limit, and none is read.
                admitted = size <= capacity and (counts_objects(held) or sizes[at] <= largest)
                if admitted:
                    state, admitted = _admits(admit, state, arrays, cache, obj, size, now, i)
                if not admitted:
                    tally[REJECTED] += 1
                    direct_writes += writes & back  # goes straight to the backend
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
                listed = _marked_unless_released(cache, obj, size, writes, listed, hooks_release)
            begin = stop
        segment_hits[segment] = hits - hits_before
        # Counting objects, every hit is one unit: bytes hit are hits (one counter fewer per hit).
        segment_bytes_hit[segment] = (hits - hits_before) if counts_objects(held) else bytes_hit - bytes_hit_before
        segment_writes[segment] = direct_writes + tally[WRITEBACKS] - writebacks_before
        tally[BACKEND_WRITES] += segment_writes[segment]
        direct_writes = 0
    _note_peak(cache, listed)
    tally[LISTED] = listed
    tally[DIRTY] = listed - tally[CLEANED] if back else 0
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
