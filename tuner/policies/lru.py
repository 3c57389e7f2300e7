"""LRU: evict the least recently used object.

A hit moves the object to the head of one recency list; the victim is the
tail. Wins on workloads with temporal locality; loses every request on a loop
one object larger than the cache.
"""

from collections.abc import Mapping
from typing import Any

from numba import njit

from tuner.engine.kernel import no_op, replay_requests
from tuner.policies.base import Policy, PolicyInput
from tuner.policies.linked_list import NONE, move_to_head, new_links, push_head, unlink


@njit(inline="always")
def on_hit(state, arrays, cached, obj, size, now, i):
    (links,) = arrays
    return move_to_head(links, state[0], state[1], obj)


@njit(inline="always")
def _evict(state, arrays, cached, obj, size, now, i):
    (links,) = arrays
    victim = state[1]
    return unlink(links, state[0], state[1], victim), victim


@njit(inline="always")
def on_insert(state, arrays, cached, obj, size, now, i):
    (links,) = arrays
    return push_head(links, state[0], state[1], obj)


@njit(cache=True, nogil=True)
def _replay(requests, config, state, arrays):
    return replay_requests(requests, config, state, arrays, on_hit, no_op, _evict, on_insert)


def init_recency_list(given: PolicyInput, params: Mapping[str, Any]) -> tuple[tuple, tuple]:
    """An empty recency list: state ``(head, tail)`` = ``(NONE, NONE)``, arrays ``(links,)`` for every object id.

    Public because MRU keeps the very same list with LRU's ``on_hit`` and
    ``on_insert`` (most recent at the head) and only evicts from the other end;
    neither policy takes parameters, so ``params`` is unused.
    """
    return (NONE, NONE), (new_links(given.n_objects),)


POLICY = Policy(
    name="lru",
    summary="Recency wins: the default for skewed, temporally local traffic.",
    init=init_recency_list,
    replay=_replay,
)
