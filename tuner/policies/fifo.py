"""FIFO: evict the object that entered the cache first; hits do not reorder.

Residents sit in a ring buffer in insertion order. An object removed from
the middle (a delete, an expiry) leaves a dead entry behind: ``dead[x]``
counts x's, and the tail skips that many of x's entries (they are older than
its live one); a ring that dead entries fill more than half of is compacted
between stretches of requests (the loop's ``upkeep``; at most once per
``n_objects`` inserts: it has room for twice as many entries as objects, and
the loop never lets a stretch insert more than the room left). A replay
that never removes keeps no counts (``dead`` is None, so the checks compile
away). Cheapest policy to run; a baseline that SIEVE,
CLOCK and S3-FIFO improve on.
"""

from collections import namedtuple
from collections.abc import Mapping
from typing import Any

import numpy as np
from numba import njit, types
from numba.extending import overload, register_jitable

from tuner.engine.kernel import UNLIMITED, no_op, replay_requests
from tuner.engine.named_state import named_state
from tuner.policies.base import Policy, PolicyInput

# Slots of the ring: the next one to fill and the oldest entry.
Ring, replace = named_state("Ring", ["head", "tail"])
# Dead entries (None when nothing is removed): ``dead[x]`` of x's in the ring, and ``marked`` one bit
# per object, set while it has any.
RingSlots = namedtuple("RingSlots", ["ring", "marked", "dead"])


def dead_entry(marked, dead, obj):
    """Whether the ring's entry of ``obj`` at the tail is one a removal left (counting it off), never
    when nothing is removed. An object's dead entries are all older than its live one, so they reach
    the tail first: a count per object is enough, with no write per insertion."""
    if dead is None or not _marked(marked, obj):
        return False
    _count_off(marked, dead, obj)
    return True


@overload(dead_entry)
def _dead_entry_compiled(marked, dead, obj):
    if isinstance(dead, types.NoneType):
        return lambda marked, dead, obj: False

    def counted_off(marked, dead, obj):
        if not _marked(marked, obj):
            return False
        _count_off(marked, dead, obj)
        return True

    return counted_off


@njit(inline="always")
def _marked(marked, obj):
    """Whether ``obj`` has dead entries: one bit an object, so the check every eviction makes reads a
    bitmap small enough to stay in the processor's cache, not the counts."""
    at = np.uint32(obj)
    return (marked[at >> np.uint32(3)] >> (at & np.uint32(7))) & 1 != 0


@njit(inline="always")
def _count_off(marked, dead, obj):
    at = np.uint32(obj)
    dead[at] -= 1
    if dead[at] == 0:
        marked[at >> np.uint32(3)] &= ~np.uint8(1 << (at & np.uint32(7)))


def _note_removed(marked, dead, obj):
    """Count the entry ``obj`` leaves behind (nothing to count when nothing is removed)."""
    if dead is not None:
        _count_on(marked, dead, obj)


@overload(_note_removed)
def _note_removed_compiled(marked, dead, obj):
    if isinstance(dead, types.NoneType):
        return lambda marked, dead, obj: None
    return lambda marked, dead, obj: _count_on(marked, dead, obj)


@njit(inline="always")
def _count_on(marked, dead, obj):
    at = np.uint32(obj)
    dead[at] += 1
    marked[at >> np.uint32(3)] |= np.uint8(1 << (at & np.uint32(7)))


@njit(inline="always")
def _evict(state, arrays, cache, obj, size, now, i):
    ring, marked, dead = arrays
    tail = state.tail
    while True:
        victim = ring[np.uint64(tail)]  # unsigned: no negative-index wraparound on the eviction path
        tail = 0 if tail + 1 == ring.shape[0] else tail + 1
        if not dead_entry(marked, dead, victim):
            return replace(state, tail=tail), victim


@njit(inline="always")
def compact_ring(ring, marked, dead, head, tail):
    """Move the live entries to the front of the ring, oldest first, dropping dead ones; returns the
    new ``(head, tail)``."""
    live = np.empty(ring.shape[0], np.int32)
    kept = 0
    while tail != head:
        obj = ring[tail]
        if dead[obj] > 0:
            dead[obj] -= 1
        else:
            live[kept] = obj
            kept += 1
        tail = 0 if tail + 1 == ring.shape[0] else tail + 1
    ring[:kept] = live[:kept]
    marked[:] = 0  # every dead entry was dropped
    return np.int64(kept), np.int64(0)


def _room(ring, marked, dead, head, tail):
    """Compact a ring that dead entries fill more than half of; returns ``(head, tail, free slots)``.
    Each request enters at most one object, so that many requests need no check. Live entries are at
    most one per object, so after compacting at least half the ring is free; a ring with no dead
    entries never fills (it has room for twice as many entries as objects)."""
    if dead is None:
        return head, tail, UNLIMITED
    slots = ring.shape[0]
    free = slots - 1 - (head - tail) % slots
    if free < slots // 2:
        head, tail = compact_ring(ring, marked, dead, head, tail)
        free = slots - 1 - head
    return head, tail, free


@overload(_room)
def _room_compiled(ring, marked, dead, head, tail):
    if isinstance(dead, types.NoneType):
        return lambda ring, marked, dead, head, tail: (head, tail, UNLIMITED)

    def room(ring, marked, dead, head, tail):
        slots = ring.shape[0]
        free = slots - 1 - (head - tail) % slots
        if free < slots // 2:
            head, tail = compact_ring(ring, marked, dead, head, tail)
            free = slots - 1 - head
        return head, tail, np.int64(free)

    return room


@register_jitable(inline="always")
def upkeep(state, arrays, cache):
    """Between stretches of requests: compact the ring if dead entries crowd it, and say how many
    requests it has room for (public: CLOCK's queue is this ring). ``register_jitable``, not ``njit``: a
    dispatcher passed through the loop's overloads would keep ``_replay`` out of numba's disk cache."""
    head, tail, free = _room(arrays.ring, arrays.marked, arrays.dead, state.head, state.tail)
    return replace(state, head=head, tail=tail), free


@njit(inline="always")
def on_insert(state, arrays, cache, obj, size, now, i):
    """Enter ``obj`` at the ring's head (public: CLOCK's queue is this ring)."""
    ring = arrays.ring
    head = state.head
    ring[np.uint64(head)] = obj
    return replace(state, head=0 if head + 1 == ring.shape[0] else head + 1)


@njit(inline="always")
def on_remove(state, arrays, cache, obj, now, i):
    """Leave a dead entry where ``obj`` was: the tail skips it."""
    _note_removed(arrays.marked, arrays.dead, obj)
    return state


@njit(cache=True, nogil=True)
def _replay(run, state, arrays):
    return replay_requests(run, state, arrays, no_op, no_op, _evict, on_insert, on_remove, upkeep=upkeep)


def _init(given: PolicyInput, params: Mapping[str, Any]) -> tuple[Ring, RingSlots]:
    return Ring(np.int64(0), np.int64(0)), RingSlots(new_ring(given.n_objects), *new_dead_entries(given))


def new_ring(n_objects: int) -> np.ndarray:
    """Room for twice as many entries as objects: compaction then runs at most once per n inserts."""
    return np.empty(2 * max(n_objects, 1) + 1, np.int32)


def new_dead_entries(given: PolicyInput) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The ``marked`` bits and ``dead`` counts, or two Nones when no object can leave unevicted (the
    checks compile away)."""
    if not given.removes:
        return None, None
    n_objects = max(given.n_objects, 1)
    return np.zeros((n_objects + 7) // 8, np.uint8), np.zeros(n_objects, np.int32)


POLICY = Policy(
    name="fifo",
    summary="Cheapest to run; fine when reuse is short-lived, a baseline otherwise.",
    init=_init,
    replay=_replay,
)
