"""MRU: evict the most recently used object.

LRU's recency list with the victim taken from the head instead of the tail.
Wins on loops and scans larger than the cache, where the object just used is
the one needed furthest in the future; loses badly on skewed traffic.
"""

from numba import njit

from tuner.engine.kernel import no_op, replay_requests
from tuner.policies.base import Policy
from tuner.policies.lru import init_recency_list, on_hit, on_insert, on_remove


@njit(inline="always")
def _evict(state, arrays, cache, obj, size, now, i):
    victim = state.head
    return on_remove(state, arrays, cache, victim, now, i), victim


@njit(cache=True, nogil=True)
def _replay(run, state, arrays):
    return replay_requests(run, state, arrays, on_hit, no_op, _evict, on_insert, on_remove)


POLICY = Policy(
    name="mru",
    summary="Wins on loops and scans larger than the cache; poor on skewed traffic.",
    init=init_recency_list,
    replay=_replay,
)
