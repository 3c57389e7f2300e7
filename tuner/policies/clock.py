"""CLOCK: FIFO with one reference bit per object, the second-chance policy.

Definition (Corbató, "A paging experiment with the Multics system", MIT
Project MAC Report MAC-M-384, 1968; libCacheSim's ``Clock`` with its default
``n-bit-counter=1``): residents form a FIFO queue; a new object enters at the
head with its bit clear; a hit sets the bit. To evict, look at the tail: if
its bit is set, clear it and move it to the head (its second chance) and look
again; otherwise evict it. This "FIFO-reinsertion" form is the same policy as
a hand sweeping a circular buffer, and it also works when sizes vary.

The queue is FIFO's ring of ids (``tuner.policies.fifo``): a second chance
writes one slot at the head as the tail moves on, and an object removed from
the middle (a delete) only leaves a dead entry, which the tail skips; a ring
full of dead entries is compacted as FIFO's is. Wins over FIFO wherever reuse
exists, at FIFO's cost; a bit worse than LRU on recency-heavy traffic.
"""

from collections import namedtuple
from collections.abc import Mapping
from typing import Any

import numpy as np
from numba import njit

from tuner.engine.kernel import no_op, replay_requests
from tuner.policies.base import Policy, PolicyInput
from tuner.policies.fifo import Ring, enter_at_head, is_dead, new_ring, new_slots, on_remove, replace, upkeep

# FIFO's ring and slots, and each object's reference bit.
ClockRing = namedtuple("ClockRing", ["ring", "slot", "referenced"])


@njit(inline="always")
def _on_hit(state, arrays, cache, obj, size, now, i):
    arrays.referenced[obj] = 1
    return state


@njit(inline="always")
def _evict(state, arrays, cache, obj, size, now, i):
    ring, referenced = arrays.ring, arrays.referenced
    tail = state.tail
    slots = ring.shape[0]
    while True:
        # Unsigned indices: no negative-index wraparound on the eviction path.
        entry = ring[np.uint64(tail)]
        tail = 0 if tail + 1 == slots else tail + 1
        if is_dead(entry):
            continue
        victim = np.uint32(entry)
        if referenced[victim] == 0:
            return replace(state, tail=tail), victim
        referenced[victim] = 0
        state = enter_at_head(replace(state, tail=tail), arrays, victim)


@njit(inline="always")
def _on_insert(state, arrays, cache, obj, size, now, i):
    arrays.referenced[obj] = 0
    return enter_at_head(state, arrays, obj)


@njit(cache=True, nogil=True)
def _replay(run, state, arrays):
    return replay_requests(run, state, arrays, _on_hit, no_op, _evict, _on_insert, on_remove, upkeep=upkeep)


def _init(given: PolicyInput, params: Mapping[str, Any]) -> tuple[Ring, ClockRing]:
    referenced = np.zeros(max(given.n_objects, 1), np.uint8)
    return Ring(np.int64(0), np.int64(0)), ClockRing(new_ring(given.n_objects), new_slots(given), referenced)


POLICY = Policy(
    name="clock",
    summary="FIFO's cost with a second chance for reused objects; a cheap LRU stand-in.",
    init=_init,
    replay=_replay,
)
