"""FIFO: evict the object that entered the cache first; hits do not reorder.

Residents sit in a ring buffer in insertion order. An object removed from
the middle (a delete, an expiry) leaves a dead entry behind: ``slot[x]`` is
where x's live entry sits, and a removal overwrites that entry with ``DEAD``,
which the tail skips. A ring that dead entries fill more than half of is
compacted between stretches of requests (the loop's ``upkeep``; at most once
per ``n_objects`` inserts: it has room for twice as many entries as objects,
and the loop never lets a stretch insert more than the room left). So an
eviction tells a dead entry from the value it reads anyway (a check that read
another array per eviction cost a third of FIFO's speed on any trace with a
DELETE), and a removal pays one write. A replay that never removes keeps no
slots (``slot`` is None, so the bookkeeping compiles away). Cheapest policy to
run; a baseline that SIEVE, CLOCK and S3-FIFO improve on.
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
DEAD = -1  # a ring entry a removal left; ids are never negative
# The ring, and where each object's live entry sits (None when nothing is removed).
RingSlots = namedtuple("RingSlots", ["ring", "slot"])


@njit(inline="always")
def is_dead(entry):
    """Whether a ring entry is one a removal left (the tail skips it)."""
    return entry < 0


def _note_entry(slot, obj, at):
    """Remember that ``obj``'s live entry is ring slot ``at`` (nothing when nothing is removed)."""
    if slot is not None:
        slot[np.uint32(obj)] = at


@overload(_note_entry)
def _note_entry_compiled(slot, obj, at):
    if isinstance(slot, types.NoneType):
        return lambda slot, obj, at: None

    def noted(slot, obj, at):
        slot[np.uint32(obj)] = at

    return noted


def _kill_entry(ring, slot, obj):
    """Overwrite ``obj``'s live entry with ``DEAD`` (nothing to do when nothing is removed)."""
    if slot is not None:
        ring[slot[obj]] = DEAD


@overload(_kill_entry)
def _kill_entry_compiled(ring, slot, obj):
    if isinstance(slot, types.NoneType):
        return lambda ring, slot, obj: None

    def killed(ring, slot, obj):
        ring[np.uint64(slot[np.uint32(obj)])] = DEAD

    return killed


@njit(inline="always")
def _evict(state, arrays, cache, obj, size, now, i):
    ring = arrays.ring
    tail = state.tail
    while True:
        victim = ring[np.uint64(tail)]  # unsigned: no negative-index wraparound on the eviction path
        tail = 0 if tail + 1 == ring.shape[0] else tail + 1
        if not is_dead(victim):
            return replace(state, tail=tail), victim


@njit(inline="always")
def compact_ring(ring, slot, head, tail):
    """Move the live entries to the front of the ring, oldest first, dropping dead ones, and note
    where each now sits; returns the new ``(head, tail)``."""
    live = np.empty(ring.shape[0], np.int32)
    kept = 0
    while tail != head:
        obj = ring[tail]
        if not is_dead(obj):
            live[kept] = obj
            slot[obj] = kept
            kept += 1
        tail = 0 if tail + 1 == ring.shape[0] else tail + 1
    ring[:kept] = live[:kept]
    return np.int64(kept), np.int64(0)


def _room(ring, slot, head, tail):
    """Compact a ring that dead entries fill more than half of; returns ``(head, tail, free slots)``.
    Each request enters at most one object, so that many requests need no check. Live entries are at
    most one per object, so after compacting at least half the ring is free; a ring with no dead
    entries never fills (it has room for twice as many entries as objects)."""
    if slot is None:
        return head, tail, UNLIMITED
    slots = ring.shape[0]
    free = slots - 1 - (head - tail) % slots
    if free < slots // 2:
        head, tail = compact_ring(ring, slot, head, tail)
        free = slots - 1 - head
    return head, tail, free


@overload(_room)
def _room_compiled(ring, slot, head, tail):
    if isinstance(slot, types.NoneType):
        return lambda ring, slot, head, tail: (head, tail, UNLIMITED)

    def room(ring, slot, head, tail):
        slots = ring.shape[0]
        free = slots - 1 - (head - tail) % slots
        if free < slots // 2:
            head, tail = compact_ring(ring, slot, head, tail)
            free = slots - 1 - head
        return head, tail, np.int64(free)

    return room


@register_jitable(inline="always")
def upkeep(state, arrays, cache):
    """Between stretches of requests: compact the ring if dead entries crowd it, and say how many
    requests it has room for (public: CLOCK's queue is this ring). ``register_jitable``, not ``njit``: a
    dispatcher passed through the loop's overloads would keep ``_replay`` out of numba's disk cache."""
    head, tail, free = _room(arrays.ring, arrays.slot, state.head, state.tail)
    return replace(state, head=head, tail=tail), free


@njit(inline="always")
def enter_at_head(state, arrays, obj):
    """Write ``obj``'s live entry at the ring's head (public: CLOCK's queue is this ring, and a second
    chance enters there too)."""
    ring = arrays.ring
    head = state.head
    ring[np.uint64(head)] = obj
    _note_entry(arrays.slot, obj, head)
    return replace(state, head=0 if head + 1 == ring.shape[0] else head + 1)


@njit(inline="always")
def on_insert(state, arrays, cache, obj, size, now, i):
    """Enter ``obj`` at the ring's head."""
    return enter_at_head(state, arrays, obj)


@njit(inline="always")
def on_remove(state, arrays, cache, obj, now, i):
    """Leave a dead entry where ``obj`` was: the tail skips it (public: CLOCK's too)."""
    _kill_entry(arrays.ring, arrays.slot, obj)
    return state


@njit(cache=True, nogil=True)
def _replay(run, state, arrays):
    return replay_requests(run, state, arrays, no_op, no_op, _evict, on_insert, on_remove, upkeep=upkeep)


def _init(given: PolicyInput, params: Mapping[str, Any]) -> tuple[Ring, RingSlots]:
    return Ring(np.int64(0), np.int64(0)), RingSlots(new_ring(given.n_objects), new_slots(given))


def new_ring(n_objects: int) -> np.ndarray:
    """Room for twice as many entries as objects: compaction then runs at most once per n inserts."""
    return np.empty(2 * max(n_objects, 1) + 1, np.int32)


def new_slots(given: PolicyInput) -> np.ndarray | None:
    """Where each object's live entry sits, or None when no object can leave unevicted (the
    bookkeeping compiles away)."""
    return np.zeros(max(given.n_objects, 1), np.int32) if given.removes else None


POLICY = Policy(
    name="fifo",
    summary="Cheapest to run; fine when reuse is short-lived, a baseline otherwise.",
    init=_init,
    replay=_replay,
)
