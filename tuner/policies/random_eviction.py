"""Random: evict a resident chosen uniformly at random.

Exact definition: when space is needed, every resident is equally likely to
be the victim, independently of its history; hits change nothing. The draw
comes from ``tuner.policies.rng`` (SplitMix64, exactly uniform via Lemire's
rejection), seeded by ``PolicyInput.seed``, so a seed fixes the run.

Residents sit in a dense array in no particular order; the victim's slot is
the draw itself, and the last resident moves into that slot, so insertion and
eviction are O(1) and need no per-object bookkeeping at all. Random
replacement is the classic baseline of Belady's 1966 study ("A study of
replacement algorithms for a virtual-storage computer", IBM Systems Journal
5(2)). It keeps a fraction of a loop slightly larger than the cache where LRU
and FIFO keep nothing.
"""

from collections.abc import Mapping
from typing import Any

import numpy as np
from numba import njit

from tuner.engine.kernel import no_op, replay_requests
from tuner.policies.base import Policy, PolicyInput
from tuner.policies.rng import below, seed_state


@njit(inline="always")
def _evict(state, arrays, cached, obj, size, now, i):
    (residents,) = arrays
    count, rng = state
    rng, slot = below(rng, count)
    victim = residents[slot]
    count -= 1
    residents[slot] = residents[count]
    return (count, rng), victim


@njit(inline="always")
def _on_insert(state, arrays, cached, obj, size, now, i):
    (residents,) = arrays
    count, rng = state
    residents[count] = obj
    return (count + 1, rng)


@njit(cache=True, nogil=True)
def _replay(requests, config, state, arrays):
    return replay_requests(requests, config, state, arrays, no_op, no_op, _evict, _on_insert)


def _init(given: PolicyInput, params: Mapping[str, Any]) -> tuple[tuple, tuple]:
    return (np.int64(0), seed_state(given.seed)), (np.empty(max(given.n_objects, 1), np.int32),)


POLICY = Policy(
    name="random",
    summary="Wins on loops slightly larger than the cache, where LRU and FIFO miss every time.",
    init=_init,
    replay=_replay,
    randomized=True,
)
