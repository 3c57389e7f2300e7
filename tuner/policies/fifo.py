"""FIFO: evict the object that entered the cache first; hits do not reorder.

Residents sit in a ring buffer in insertion order. An object removed from
the middle (a delete, an expiry) leaves a dead entry behind: ``slot_of[x]`` is
the slot of x's live entry, and an entry whose slot is not its object's is
skipped when the tail reaches it; a ring that fills up with dead entries is
compacted (at most once per ``n_objects`` inserts: it has room for twice as
many entries as objects). A replay that never removes keeps no slots
(``slot_of`` is None, so the checks compile away: they cost a random write per
insertion and a fifth of the replay speed). Cheapest policy to run; a
baseline that SIEVE, CLOCK and S3-FIFO improve on.
"""

from collections import namedtuple
from collections.abc import Mapping
from typing import Any

import numpy as np
from numba import njit, types
from numba.extending import overload

from tuner.engine.kernel import no_op, replay_requests
from tuner.engine.named_state import named_state
from tuner.policies.base import Policy, PolicyInput

# Slots of the ring: the next one to fill and the oldest entry.
Ring, replace = named_state("Ring", ["head", "tail"])
RingSlots = namedtuple("RingSlots", ["ring", "slot_of"])
DEAD = np.int32(-1)


def _live(slot_of, victim, slot):
    """Whether the ring's entry at ``slot`` is ``victim``'s live one (always, with no slots kept)."""
    return slot_of is None or slot_of[victim] == slot


@overload(_live)
def _live_compiled(slot_of, victim, slot):
    if isinstance(slot_of, types.NoneType):
        return lambda slot_of, victim, slot: True
    return lambda slot_of, victim, slot: slot_of[victim] == slot


def _note_slot(slot_of, obj, slot):
    """Note that ``obj``'s live entry is at ``slot`` (nothing to note with no slots kept)."""
    if slot_of is not None:
        slot_of[obj] = slot


@overload(_note_slot)
def _note_slot_compiled(slot_of, obj, slot):
    if isinstance(slot_of, types.NoneType):
        return lambda slot_of, obj, slot: None

    def note(slot_of, obj, slot):
        slot_of[obj] = slot

    return note


@njit(inline="always")
def _evict(state, arrays, cache, obj, size, now, i):
    ring, slot_of = arrays
    tail = state.tail
    while True:
        victim = ring[tail]
        live = _live(slot_of, victim, tail)
        tail = 0 if tail + 1 == ring.shape[0] else tail + 1
        if live:
            return replace(state, tail=tail), victim


@njit(cache=True, nogil=True)
def compact_ring(ring, slot_of, head, tail):
    """Move the live entries to the front of the ring, oldest first; returns the new ``(head, tail)``."""
    live = np.empty(ring.shape[0], np.int32)
    kept = 0
    while tail != head:
        obj = ring[tail]
        if slot_of[obj] == tail:
            live[kept] = obj
            kept += 1
        tail = 0 if tail + 1 == ring.shape[0] else tail + 1
    for slot in range(kept):
        ring[slot] = live[slot]
        slot_of[live[slot]] = slot
    return np.int64(kept), np.int64(0)


def _make_room(ring, slot_of, head, tail):
    """Compact a ring that dead entries filled up; returns ``(head, tail)`` (a ring with no dead entries
    never fills: it has room for every object)."""
    if slot_of is not None and (0 if head + 1 == ring.shape[0] else head + 1) == tail:
        return compact_ring(ring, slot_of, head, tail)
    return head, tail


@overload(_make_room)
def _make_room_compiled(ring, slot_of, head, tail):
    if isinstance(slot_of, types.NoneType):
        return lambda ring, slot_of, head, tail: (head, tail)

    def make_room(ring, slot_of, head, tail):
        if (0 if head + 1 == ring.shape[0] else head + 1) == tail:
            return compact_ring(ring, slot_of, head, tail)
        return head, tail

    return make_room


@njit(inline="always")
def on_insert(state, arrays, cache, obj, size, now, i):
    """Enter ``obj`` at the ring's head (public: CLOCK's queue is this ring)."""
    ring, slot_of = arrays.ring, arrays.slot_of
    head, tail = state.head, state.tail
    head, tail = _make_room(ring, slot_of, head, tail)
    ring[head] = obj
    _note_slot(slot_of, obj, head)
    return replace(state, head=0 if head + 1 == ring.shape[0] else head + 1, tail=tail)


@njit(inline="always")
def on_remove(state, arrays, cache, obj, now, i):
    """Leave a dead entry where ``obj`` was: the tail skips it."""
    _note_slot(arrays.slot_of, obj, DEAD)
    return state


@njit(cache=True, nogil=True)
def _replay(run, state, arrays):
    return replay_requests(run, state, arrays, no_op, no_op, _evict, on_insert, on_remove)


def _init(given: PolicyInput, params: Mapping[str, Any]) -> tuple[Ring, RingSlots]:
    n = max(given.n_objects, 1)
    slot_of = np.full(n, DEAD, np.int32) if given.removes else None
    return Ring(np.int64(0), np.int64(0)), RingSlots(np.empty(2 * n + 1, np.int32), slot_of)


POLICY = Policy(
    name="fifo",
    summary="Cheapest to run; fine when reuse is short-lived, a baseline otherwise.",
    init=_init,
    replay=_replay,
)
