"""LFU: evict the resident with the fewest accesses, the least recently used among ties.

Exact definition (in-cache LFU): a resident's count is the number of requests
for it since it entered the cache, 1 at insertion; the victim has the lowest
count, and among equal counts the one whose last access is oldest. The count
is forgotten on eviction, so an object that comes back starts at 1 again.
This is libCacheSim's ``LFU`` (which keeps each count's objects in access
order and evicts the oldest).

Structure: the O(1) LFU of Shah, Mitra & Matani ("An O(1) algorithm for
implementing the LFU cache eviction scheme", 2010). Residents with the same
count share a frequency node; each node holds its objects as an LRU list
(``linked_list``) and the nodes form a list in increasing count, so the
victim is the tail of the first node. A hit moves the object to the node for
count + 1, creating it right after the current one if absent, and frees a
node that empties. Nodes come from a pool with a free list; at most one more
node than residents is ever in use. A removed object (a delete) leaves its
node's list as a victim does, and its count is forgotten too. Counts are
int32 (a resident would need 2**31 requests to overflow one). The hooks and
``init_count_list`` are public: cachetools' LFUCache keeps the same lists and
the same tie-break (``cachetools_lfu``).
"""

from collections import namedtuple
from collections.abc import Mapping
from typing import Any

import numpy as np
from numba import njit

from tuner.engine.kernel import no_op, replay_requests
from tuner.engine.named_state import named_state
from tuner.policies.base import Policy, PolicyInput
from tuner.policies.linked_list import NONE, push_head, unlink

# The count list's first node (the lowest count) and the free list of nodes.
CountList, replace = named_state("CountList", ["first", "free"])
# ``objects[x]``: x's place in its node's LRU list (the ``linked_list`` layout) and its node;
# ``nodes[k]``: node k's LRU list, its neighbours by count, and its count.
CountTables = namedtuple("CountTables", ["objects", "nodes"])
# Columns of the object table.
NODE = 2
# Columns of the node table.
HEAD, TAIL, NEXT, PREV, COUNT = range(5)


@njit(inline="always")
def _new_node_after(nodes, free, after, count):
    """Take a node off the free list, give it ``count`` and link it after ``after`` (-1: first)."""
    node = free
    free = nodes[node, NEXT]
    nodes[node, COUNT] = count
    nodes[node, HEAD] = NONE
    nodes[node, TAIL] = NONE
    nodes[node, PREV] = after
    return node, free


@njit(inline="always")
def _drop_node(nodes, first, free, node):
    """Unlink the empty ``node`` from the count list and put it on the free list."""
    prev = nodes[node, PREV]
    nxt = nodes[node, NEXT]
    if prev >= 0:
        nodes[prev, NEXT] = nxt
    else:
        first = nxt
    if nxt >= 0:
        nodes[nxt, PREV] = prev
    nodes[node, NEXT] = free
    return first, node


@njit(inline="always")
def on_hit(state, arrays, cache, obj, size, now, i):
    objects, nodes = arrays
    first, free = state.first, state.free
    node = objects[obj, NODE]
    target = nodes[node, NEXT]
    count = nodes[node, COUNT] + 1
    if target < 0 or nodes[target, COUNT] != count:
        after_target = target
        target, free = _new_node_after(nodes, free, node, count)
        nodes[target, NEXT] = after_target
        if after_target >= 0:
            nodes[after_target, PREV] = target
        nodes[node, NEXT] = target
    nodes[node, HEAD], nodes[node, TAIL] = unlink(objects, nodes[node, HEAD], nodes[node, TAIL], obj)
    if nodes[node, HEAD] < 0:
        first, free = _drop_node(nodes, first, free, node)
    nodes[target, HEAD], nodes[target, TAIL] = push_head(objects, nodes[target, HEAD], nodes[target, TAIL], obj)
    objects[obj, NODE] = target
    return replace(state, first=first, free=free)


@njit(inline="always")
def on_remove(state, arrays, cache, obj, now, i):
    objects, nodes = arrays
    first, free = state.first, state.free
    node = objects[obj, NODE]
    nodes[node, HEAD], nodes[node, TAIL] = unlink(objects, nodes[node, HEAD], nodes[node, TAIL], obj)
    if nodes[node, HEAD] < 0:  # it was the last with its count: its node goes too
        first, free = _drop_node(nodes, first, free, node)
    return replace(state, first=first, free=free)


@njit(inline="always")
def _evict(state, arrays, cache, obj, size, now, i):
    victim = arrays.nodes[state.first, TAIL]
    return on_remove(state, arrays, cache, victim, now, i), victim


@njit(inline="always")
def on_insert(state, arrays, cache, obj, size, now, i):
    objects, nodes = arrays
    first, free = state.first, state.free
    if first < 0 or nodes[first, COUNT] != 1:
        node, free = _new_node_after(nodes, free, NONE, 1)
        nodes[node, NEXT] = first
        if first >= 0:
            nodes[first, PREV] = node
        first = node
    nodes[first, HEAD], nodes[first, TAIL] = push_head(objects, nodes[first, HEAD], nodes[first, TAIL], obj)
    objects[obj, NODE] = first
    return replace(state, first=first, free=free)


@njit(cache=True, nogil=True)
def _replay(run, state, arrays):
    return replay_requests(run, state, arrays, on_hit, no_op, _evict, on_insert, on_remove)


def init_count_list(given: PolicyInput, params: Mapping[str, Any]) -> tuple[CountList, CountTables]:
    """An empty count list over every object id (``params`` unused: LFU takes none)."""
    n_objects = max(given.n_objects, 1)
    objects = np.full((n_objects, 3), NONE, np.int32)
    # One node per count in use among residents, plus the one a hit creates before its old node empties.
    nodes = np.full((n_objects + 1, 5), NONE, np.int32)
    nodes[:-1, NEXT] = np.arange(1, n_objects + 1, dtype=np.int32)
    return CountList(NONE, np.int32(0)), CountTables(objects, nodes)


POLICY = Policy(
    name="lfu",
    summary="Wins when popularity is stable over time (static skew); slow to forget once-hot objects.",
    init=init_count_list,
    replay=_replay,
)
