"""Random-age: random eviction that spares residents used within the last ``min_age`` seconds.

Exact definition: when space is needed, draw up to ``samples`` residents
uniformly at random, with replacement (a resident may be drawn twice), and
evict the first drawn whose idle time ``now - last access`` (trace seconds;
``now`` is the timestamp of the request waiting to enter, and insertion
counts as an access) is at least ``min_age``. If none of the draws
qualifies, evict the idlest of them (the earliest drawn among equals). Hits
only refresh the last-access time.

Draws come from ``tuner.policies.rng`` (SplitMix64, exactly uniform), seeded
by ``PolicyInput.seed``. Residents live in a dense array like ``random``'s, so
a draw is one index and eviction, or removal (a delete), moves the last
resident into the leaving one's slot. With ``samples = 1`` or a ``min_age``
below every idle time this is plain random replacement; as ``samples`` grows
and ``min_age`` exceeds every idle time it tends to LRU. In between it behaves
like random replacement restricted to objects not used recently, the idea
behind sampled, age-aware eviction such as Redis's approximated LRU (Psounis &
Prabhakar, "A randomized web-cache replacement scheme", INFOCOM 2001, evict
the best of a sample).
"""

from collections import namedtuple
from collections.abc import Mapping
from typing import Any

import numpy as np
from numba import njit

from tuner.engine.kernel import no_op, replay_requests
from tuner.engine.named_state import named_state
from tuner.policies.base import SPAN, Param, Policy, PolicyInput
from tuner.policies.random_eviction import add_resident, drop_resident, new_residents
from tuner.policies.rng import below, seed_state

# How many residents the array holds, the generator's state, and the two parameters.
RandomAgeState, replace = named_state("RandomAgeState", ["count", "rng", "min_age", "samples"])
# ``random``'s resident array and slots, and each object's last access time.
AgedResidents = namedtuple("AgedResidents", ["residents", "slot_of", "last_access"])


@njit(inline="always")
def _on_hit(state, arrays, cache, obj, size, now, i):
    arrays.last_access[obj] = now
    return state


@njit(inline="always")
def _evict(state, arrays, cache, obj, size, now, i):
    residents, slot_of, last_access = arrays
    count, min_age, samples = state.count, state.min_age, state.samples
    rng, chosen = below(state.rng, count)
    idlest_idle = now - last_access[residents[chosen]]
    drawn = 1
    while idlest_idle < min_age and drawn < samples:
        rng, slot = below(rng, count)
        idle = now - last_access[residents[slot]]
        if idle >= min_age or idle > idlest_idle:
            chosen = slot
            idlest_idle = idle
        drawn += 1
    victim = residents[chosen]
    return replace(state, count=drop_resident(residents, slot_of, count, chosen), rng=rng), victim


@njit(inline="always")
def _on_insert(state, arrays, cache, obj, size, now, i):
    residents, slot_of, last_access = arrays
    last_access[obj] = now
    return replace(state, count=add_resident(residents, slot_of, state.count, obj))


@njit(inline="always")
def _on_remove(state, arrays, cache, obj, now, i):
    residents, slot_of, _ = arrays
    return replace(state, count=drop_resident(residents, slot_of, state.count, slot_of[obj]))


@njit(cache=True, nogil=True)
def _replay(run, state, arrays):
    return replay_requests(run, state, arrays, _on_hit, no_op, _evict, _on_insert, _on_remove)


def _init(given: PolicyInput, params: Mapping[str, Any]) -> tuple[RandomAgeState, AgedResidents]:
    state = RandomAgeState(np.int64(0), seed_state(given.seed), float(params["min_age"]), np.int64(params["samples"]))
    residents, slot_of = new_residents(given.n_objects)
    return state, AgedResidents(residents, slot_of, np.zeros(max(given.n_objects, 1), np.float64))


POLICY = Policy(
    name="random-age",
    summary="Survives loops and scans like random eviction while sparing items used within min_age.",
    init=_init,
    replay=_replay,
    params=(
        Param("min_age", 60.0, 1.0, SPAN, "idle seconds that make a resident evictable", log=True),
        Param("samples", 8, 1, 64, "random residents examined per eviction"),
    ),
    randomized=True,
)
