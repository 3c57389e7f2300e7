"""FIFO: evict the object that entered the cache first; hits do not reorder.

Residents sit in a ring buffer in insertion order (each object is resident at
most once, so ``n_objects + 1`` slots never overflow). Cheapest policy to run;
a baseline that SIEVE, CLOCK and S3-FIFO improve on.
"""

from collections.abc import Mapping
from typing import Any

import numpy as np
from numba import njit

from tuner.engine.kernel import no_op, replay_requests
from tuner.policies.base import Policy, PolicyInput


@njit(inline="always")
def _evict(state, arrays, cached, obj, size, now, i):
    (ring,) = arrays
    head, tail = state
    victim = ring[tail]
    tail += 1
    if tail == ring.shape[0]:
        tail = 0
    return (head, tail), victim


@njit(inline="always")
def _on_insert(state, arrays, cached, obj, size, now, i):
    (ring,) = arrays
    head, tail = state
    ring[head] = obj
    head += 1
    if head == ring.shape[0]:
        head = 0
    return (head, tail)


@njit(cache=True, nogil=True)
def _replay(requests, config, state, arrays):
    return replay_requests(requests, config, state, arrays, no_op, no_op, _evict, _on_insert)


def _init(given: PolicyInput, params: Mapping[str, Any]) -> tuple[tuple, tuple]:
    return (np.int64(0), np.int64(0)), (np.empty(given.n_objects + 1, np.int32),)


POLICY = Policy(
    name="fifo",
    summary="Cheapest to run; fine when reuse is short-lived, a baseline otherwise.",
    init=_init,
    replay=_replay,
)
