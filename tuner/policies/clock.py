"""CLOCK: FIFO with one reference bit per object, the second-chance policy.

Definition (Corbató, "A paging experiment with the Multics system", MIT
Project MAC Report MAC-M-384, 1968; libCacheSim's ``Clock`` with its default
``n-bit-counter=1``): residents form a FIFO queue; a new object enters at the
head with its bit clear; a hit sets the bit. To evict, look at the tail: if
its bit is set, clear it and move it to the head (its second chance) and look
again; otherwise evict it. This "FIFO-reinsertion" form is the same policy as
a hand sweeping a circular buffer, and it also works when sizes vary.

The queue is a ring buffer of ids: reinsertion writes one slot at the head
and the tail moves on, so nothing is ever unlinked from the middle. Residents
never exceed ``n_objects``, so ``n_objects + 1`` slots never overflow.
Wins over FIFO wherever reuse exists, at FIFO's cost; a bit worse than LRU on
recency-heavy traffic.
"""

from collections.abc import Mapping
from typing import Any

import numpy as np
from numba import njit

from tuner.engine.kernel import no_op, replay_requests
from tuner.policies.base import Policy, PolicyInput


@njit(inline="always")
def _on_hit(state, arrays, cached, obj, size, now, i):
    referenced = arrays[1]
    referenced[obj] = 1
    return state


@njit(inline="always")
def _evict(state, arrays, cached, obj, size, now, i):
    ring, referenced = arrays
    head, tail = state
    slots = ring.shape[0]
    while True:
        victim = ring[tail]
        tail += 1
        if tail == slots:
            tail = 0
        if referenced[victim] == 0:
            return (head, tail), victim
        referenced[victim] = 0
        ring[head] = victim
        head += 1
        if head == slots:
            head = 0


@njit(inline="always")
def _on_insert(state, arrays, cached, obj, size, now, i):
    ring, referenced = arrays
    head, tail = state
    ring[head] = obj
    referenced[obj] = 0
    head += 1
    if head == ring.shape[0]:
        head = 0
    return (head, tail)


@njit(cache=True, nogil=True)
def _replay(requests, config, state, arrays):
    return replay_requests(requests, config, state, arrays, _on_hit, no_op, _evict, _on_insert)


def _init(given: PolicyInput, params: Mapping[str, Any]) -> tuple[tuple, tuple]:
    ring = np.empty(given.n_objects + 1, np.int32)
    referenced = np.zeros(max(given.n_objects, 1), np.uint8)
    return (np.int64(0), np.int64(0)), (ring, referenced)


POLICY = Policy(
    name="clock",
    summary="FIFO's cost with a second chance for reused objects; a cheap LRU stand-in.",
    init=_init,
    replay=_replay,
)
