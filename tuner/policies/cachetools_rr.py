"""cachetools-rr: cachetools 8.0.3 ``RRCache(maxsize, choice, getsizeof)``, driven as an application drives it.

Follows ``cachetools/__init__.py`` 8.0.3. ``RRCache`` keeps its keys in a
list and each key's index in a dict: ``__setitem__`` appends a new key (a
re-set one keeps its index), reads change nothing, ``__delitem__`` moves the
last key into the leaving key's index, and ``popitem`` evicts
``choice(keys)``. The model keeps the same list (``random_eviction``'s
resident array: append, and swap the last into a leaving key's slot) and
draws the victim's index uniformly from SplitMix64 seeded by ``seed``
(``rng.below``); ``random.choice(seq)`` is ``seq[randbelow(len(seq))]``, the
same uniform draw over the same list, from another generator. Fed a
``choice`` that draws from the same SplitMix64 stream, RRCache evicts
exactly the model's victims (the tests do so). A SET that re-sizes a cached
key keeps it at its index while ``Cache.__setitem__`` evicts for it, so
``choice`` may draw the key itself (it then goes, and comes back at the end
of the list); the loop removes and re-admits it, so the model keeps it
pending in place (``python_caches.resizing``). The capacity is ``maxsize``
in objects (``getsizeof`` None) or bytes (``getsizeof`` = the request's size).

Simplifications: the draws are SplitMix64's, not the Mersenne Twister's of
``random.choice``, so one seed gives other victims than RRCache with
``random.Random(seed).choice``, with the same distribution. A SET of a cached
key at a size larger than the whole capacity raises in cachetools and leaves
the old value cached; the loop drops the old copy. A ``popitem`` that takes
the re-sized key itself is an eviction in cachetools, a re-size in the loop.
A TTL (the trace's or ``ttl=``) expires keys as the loop does; RRCache has none.
"""

from collections import namedtuple
from collections.abc import Mapping
from typing import Any

import numpy as np
from numba import njit

from tuner.engine.kernel import no_op, replay_requests
from tuner.engine.named_state import named_state
from tuner.policies.base import Policy, PolicyInput
from tuner.policies.python_caches import NO_KEY, overdue, resizing
from tuner.policies.random_eviction import add_resident, drop_resident, new_residents
from tuner.policies.rng import below, seed_state

# How many keys the list holds, the generator's state, and a key a re-sizing SET keeps in place
# (``pending``, NO_KEY for none) since request ``pending_at``.
RrCacheState, replace = named_state("RrCacheState", ["count", "rng", "pending", "pending_at"])
# The key list (RRCache's ``__keys``), each key's index in it, and the requests' operations.
RrCacheKeys = namedtuple("RrCacheKeys", ["residents", "slot_of", "ops"])


@njit(inline="always")
def _drop(state, arrays, obj):
    return replace(state, count=drop_resident(arrays.residents, arrays.slot_of, state.count, arrays.slot_of[obj]))


@njit(inline="always")
def _settle(state, arrays, i):
    """Drop a pending key that did not come back at its own request."""
    if overdue(state.pending, state.pending_at, i):
        return replace(_drop(state, arrays, state.pending), pending=NO_KEY)
    return state


@njit(inline="always")
def _on_remove(state, arrays, cache, obj, now, i):
    state = _settle(state, arrays, i)
    if resizing(arrays.ops, cache, obj, now, i):
        return replace(state, pending=obj, pending_at=i)
    return _drop(state, arrays, obj)


@njit(inline="always")
def _evict(state, arrays, cache, obj, size, now, i):
    state = _settle(state, arrays, i)
    residents = arrays.residents
    victim = np.int32(-1)
    while victim < 0:
        rng, slot = below(state.rng, state.count)
        drawn = residents[slot]
        state = replace(state, count=drop_resident(residents, arrays.slot_of, state.count, slot), rng=rng)
        if drawn == state.pending:  # popitem takes the re-sized key itself: draw again
            state = replace(state, pending=NO_KEY)
        else:
            victim = drawn
    return state, victim


@njit(inline="always")
def _on_insert(state, arrays, cache, obj, size, now, i):
    state = _settle(state, arrays, i)
    if state.pending == obj:  # the re-sized key keeps its index
        return replace(state, pending=NO_KEY)
    return replace(state, count=add_resident(arrays.residents, arrays.slot_of, state.count, obj))


@njit(cache=True, nogil=True)
def _replay(run, state, arrays):
    return replay_requests(run, state, arrays, no_op, no_op, _evict, _on_insert, _on_remove)


def _init(given: PolicyInput, params: Mapping[str, Any]) -> tuple[RrCacheState, RrCacheKeys]:
    state = RrCacheState(np.int64(0), seed_state(given.seed), NO_KEY, NO_KEY)
    return state, RrCacheKeys(*new_residents(given.n_objects), given.ops)


POLICY = Policy(
    name="cachetools-rr",
    summary="cachetools.RRCache: a uniformly random key goes (seeded); maxsize in objects or bytes.",
    init=_init,
    replay=_replay,
    randomized=True,
    target="cachetools",
)
