"""LRU: evict the least recently used object.

A hit moves the object to the head of one recency list; the victim is the
tail. Wins on workloads with temporal locality; loses every request on a loop
one object larger than the cache.
"""

from collections import namedtuple
from collections.abc import Mapping
from typing import Any

from numba import njit

from tuner.engine.kernel import no_op, replay_requests
from tuner.engine.named_state import named_state
from tuner.policies.base import Policy, PolicyInput
from tuner.policies.linked_list import NONE, move_to_head, new_links, push_head, unlink

# The recency list: most recent at the head. Shared with MRU, which evicts from the other end.
RecencyList, replace = named_state("RecencyList", ["head", "tail"])
RecencyLinks = namedtuple("RecencyLinks", ["links"])


@njit(inline="always")
def on_hit(state, arrays, cache, obj, size, now, i):
    head, tail = move_to_head(arrays.links, state.head, state.tail, obj)
    return replace(state, head=head, tail=tail)


@njit(inline="always")
def on_remove(state, arrays, cache, obj, now, i):
    head, tail = unlink(arrays.links, state.head, state.tail, obj)
    return replace(state, head=head, tail=tail)


@njit(inline="always")
def _evict(state, arrays, cache, obj, size, now, i):
    victim = state.tail
    return on_remove(state, arrays, cache, victim, now, i), victim


@njit(inline="always")
def on_insert(state, arrays, cache, obj, size, now, i):
    head, tail = push_head(arrays.links, state.head, state.tail, obj)
    return replace(state, head=head, tail=tail)


@njit(cache=True, nogil=True)
def _replay(run, state, arrays):
    return replay_requests(run, state, arrays, on_hit, no_op, _evict, on_insert, on_remove)


def init_recency_list(given: PolicyInput, params: Mapping[str, Any]) -> tuple[RecencyList, RecencyLinks]:
    """An empty recency list over every object id.

    Public because MRU keeps the very same list with LRU's ``on_hit``,
    ``on_insert`` and ``on_remove`` (most recent at the head) and only evicts
    from the other end; neither policy takes parameters, so ``params`` is unused.
    """
    return RecencyList(NONE, NONE), RecencyLinks(new_links(given.n_objects))


POLICY = Policy(
    name="lru",
    summary="Recency wins: the default for skewed, temporally local traffic.",
    init=init_recency_list,
    replay=_replay,
)
