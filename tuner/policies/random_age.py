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
a draw is one index and eviction moves the last resident into the victim's
slot. With ``samples = 1`` or a ``min_age`` below every idle time this is
plain random replacement; as ``samples`` grows and ``min_age`` exceeds every
idle time it tends to LRU. In between it behaves like random replacement
restricted to objects not used recently, the idea behind sampled, age-aware
eviction such as Redis's approximated LRU (Psounis & Prabhakar, "A randomized
web-cache replacement scheme", INFOCOM 2001, evict the best of a sample).
"""

from collections.abc import Mapping
from typing import Any

import numpy as np
from numba import njit

from tuner.engine.kernel import no_op, replay_requests
from tuner.policies.base import SPAN, Param, Policy, PolicyInput
from tuner.policies.rng import below, seed_state


@njit(inline="always")
def _on_hit(state, arrays, cached, obj, size, now, i):
    _, last_access = arrays
    last_access[obj] = now
    return state


@njit(inline="always")
def _evict(state, arrays, cached, obj, size, now, i):
    residents, last_access = arrays
    count, rng, min_age, samples = state
    rng, chosen = below(rng, count)
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
    count -= 1
    residents[chosen] = residents[count]
    return (count, rng, min_age, samples), victim


@njit(inline="always")
def _on_insert(state, arrays, cached, obj, size, now, i):
    residents, last_access = arrays
    count, rng, min_age, samples = state
    residents[count] = obj
    last_access[obj] = now
    return (count + 1, rng, min_age, samples)


@njit(cache=True, nogil=True)
def _replay(requests, config, state, arrays):
    return replay_requests(requests, config, state, arrays, _on_hit, no_op, _evict, _on_insert)


def _init(given: PolicyInput, params: Mapping[str, Any]) -> tuple[tuple, tuple]:
    n_objects = max(given.n_objects, 1)
    state = (np.int64(0), seed_state(given.seed), float(params["min_age"]), np.int64(params["samples"]))
    return state, (np.empty(n_objects, np.int32), np.zeros(n_objects, np.float64))


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
