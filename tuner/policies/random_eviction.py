"""Random: evict a resident chosen uniformly at random.

Exact definition: when space is needed, every resident is equally likely to
be the victim, independently of its history; hits change nothing. The draw
comes from ``tuner.policies.rng`` (SplitMix64, exactly uniform via Lemire's
rejection), seeded by ``PolicyInput.seed``, so a seed fixes the run.

Residents sit in a dense array in no particular order; the victim's slot is
the draw itself, and the last resident moves into that slot, so insertion and
eviction are O(1). ``slot_of[x]`` is resident x's slot, so a removed object
(a delete) leaves the same way (swap with the last): the array's order, and
so every draw's victim, depends only on the requests and the seed.
Random replacement is the classic baseline of Belady's 1966 study ("A study
of replacement algorithms for a virtual-storage computer", IBM Systems
Journal 5(2)). It keeps a fraction of a loop slightly larger than the cache
where LRU and FIFO keep nothing.
"""

from collections import namedtuple
from collections.abc import Mapping
from typing import Any

import numpy as np
from numba import njit

from tuner.engine.kernel import no_op, replay_requests
from tuner.engine.named_state import named_state
from tuner.policies.base import Policy, PolicyInput
from tuner.policies.rng import below, seed_state

# How many residents the array holds, and the generator's state.
RandomState, replace = named_state("RandomState", ["count", "rng"])
# The dense resident array and each object's slot in it (random-age adds its last accesses).
Residents = namedtuple("Residents", ["residents", "slot_of"])


@njit(inline="always")
def add_resident(residents, slot_of, count, obj):
    """Put ``obj`` in the first free slot; returns the new count."""
    residents[count] = obj
    slot_of[obj] = count
    return count + 1


@njit(inline="always")
def drop_resident(residents, slot_of, count, slot):
    """Take out the resident in ``slot``, moving the last one into it; returns the new count."""
    count -= 1
    last = residents[count]
    residents[slot] = last
    slot_of[last] = slot
    return count


def new_residents(n_objects: int) -> tuple[np.ndarray, np.ndarray]:
    """An empty resident array and slot table for ``n_objects`` ids."""
    n = max(n_objects, 1)
    return np.empty(n, np.int32), np.empty(n, np.int32)


@njit(inline="always")
def _evict(state, arrays, cache, obj, size, now, i):
    residents, slot_of = arrays
    rng, slot = below(state.rng, state.count)
    victim = residents[slot]
    return replace(state, count=drop_resident(residents, slot_of, state.count, slot), rng=rng), victim


@njit(inline="always")
def _on_insert(state, arrays, cache, obj, size, now, i):
    residents, slot_of = arrays
    return replace(state, count=add_resident(residents, slot_of, state.count, obj))


@njit(inline="always")
def _on_remove(state, arrays, cache, obj, now, i):
    residents, slot_of = arrays
    return replace(state, count=drop_resident(residents, slot_of, state.count, slot_of[obj]))


@njit(cache=True, nogil=True)
def _replay(run, state, arrays):
    return replay_requests(run, state, arrays, no_op, no_op, _evict, _on_insert, _on_remove)


def _init(given: PolicyInput, params: Mapping[str, Any]) -> tuple[RandomState, Residents]:
    return RandomState(np.int64(0), seed_state(given.seed)), Residents(*new_residents(given.n_objects))


POLICY = Policy(
    name="random",
    summary="Wins on loops slightly larger than the cache, where LRU and FIFO miss every time.",
    init=_init,
    replay=_replay,
    randomized=True,
)
