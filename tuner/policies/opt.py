"""OPT: Belady's MIN, the offline optimum that sees the whole future.

On a miss with a full cache, evict the resident whose next request is
farthest away; residents never requested again go first. Belady (1966), "A
study of replacement algorithms for a virtual-storage computer", IBM Systems
Journal 5(2); Mattson et al. (1970) proved it optimal for demand paging.

Exact for equal sizes (object capacities): no policy that admits every missed
object can miss less, so OPT is the floor every other policy's gap is
measured against. With byte capacities and variable sizes the same rule is
only a heuristic: the byte-optimal problem is NP-hard (Berger et al.,
"Practical bounds on optimal caching with variable object sizes", SIGMETRICS
2018), and evicting one large far-off object can cost more than it saves.

Next uses come from one backward pass over the trace. Residents sit in an
indexed binary max-heap keyed by their next use (``heap_pos[obj]`` finds an
object's slot, so a hit re-keys it in place): O(log C) per request. The heap
is 1-based and breaks ties the way libCacheSim's ``pqueue`` does (strict
comparisons, the left child on equal keys), so victims among the
never-used-again residents match its ``Belady`` exactly. A removed object (a
delete) leaves the heap as the root does when evicted (the last slot moves
into its place and sifts); it re-enters on its next read. ``PolicyInput``
does not say which requests are deletes, so a delete counts as the object's
next use: with deletes, farthest-next-use is a heuristic, not the floor.
"""

from collections import namedtuple
from collections.abc import Mapping
from typing import Any

import numpy as np
from numba import njit

from tuner.engine.kernel import no_op, replay_requests
from tuner.engine.named_state import named_state
from tuner.policies.base import Policy, PolicyInput

# Next use of a request whose object is never requested again.
NEVER = np.iinfo(np.int64).max
# How many heap slots (from 1) hold residents.
Heap, replace = named_state("Heap", ["used"])
# Each request's next use; the heap's objects and keys by slot; each object's slot.
HeapArrays = namedtuple("HeapArrays", ["following", "heap_obj", "heap_key", "heap_pos"])


@njit(cache=True, nogil=True)
def next_uses(ids, n_objects):
    """``following[i]``: the position of the next request for ``ids[i]``, or NEVER."""
    following = np.empty(ids.shape[0], np.int64)
    upcoming = np.full(max(n_objects, 1), NEVER, np.int64)
    for i in range(ids.shape[0] - 1, -1, -1):
        obj = ids[i]
        following[i] = upcoming[obj]
        upcoming[obj] = i
    return following


@njit(inline="always")
def _sift_up(heap_obj, heap_key, heap_pos, slot):
    obj = heap_obj[slot]
    key = heap_key[slot]
    while slot > 1 and heap_key[slot >> 1] < key:
        parent = slot >> 1
        heap_obj[slot] = heap_obj[parent]
        heap_key[slot] = heap_key[parent]
        heap_pos[heap_obj[slot]] = slot
        slot = parent
    heap_obj[slot] = obj
    heap_key[slot] = key
    heap_pos[obj] = slot


@njit(inline="always")
def _sift_down(heap_obj, heap_key, heap_pos, slot, used):
    obj = heap_obj[slot]
    key = heap_key[slot]
    while True:
        child = slot << 1
        if child > used:
            break
        if child < used and heap_key[child] < heap_key[child + 1]:
            child += 1
        if not key < heap_key[child]:
            break
        heap_obj[slot] = heap_obj[child]
        heap_key[slot] = heap_key[child]
        heap_pos[heap_obj[slot]] = slot
        slot = child
    heap_obj[slot] = obj
    heap_key[slot] = key
    heap_pos[obj] = slot


@njit(inline="always")
def _on_hit(state, arrays, cache, obj, size, now, i):
    following, heap_obj, heap_key, heap_pos = arrays
    slot = heap_pos[obj]
    heap_key[slot] = following[i]  # always later than the old key (i): moves up
    _sift_up(heap_obj, heap_key, heap_pos, slot)
    return state


@njit(inline="always")
def _take_out(state, arrays, slot):
    """Remove the resident in heap ``slot``: the last one moves there and sifts to its place."""
    _, heap_obj, heap_key, heap_pos = arrays
    used = state.used
    heap_obj[slot] = heap_obj[used]
    heap_key[slot] = heap_key[used]
    used -= 1
    if slot <= used:
        if slot > 1 and heap_key[slot >> 1] < heap_key[slot]:
            _sift_up(heap_obj, heap_key, heap_pos, slot)
        else:
            _sift_down(heap_obj, heap_key, heap_pos, slot, used)
    return replace(state, used=used)


@njit(inline="always")
def _evict(state, arrays, cache, obj, size, now, i):
    victim = arrays.heap_obj[1]
    return _take_out(state, arrays, np.int64(1)), victim


@njit(inline="always")
def _on_insert(state, arrays, cache, obj, size, now, i):
    following, heap_obj, heap_key, heap_pos = arrays
    used = state.used + 1
    heap_obj[used] = obj
    heap_key[used] = following[i]
    _sift_up(heap_obj, heap_key, heap_pos, used)
    return replace(state, used=used)


@njit(inline="always")
def _on_remove(state, arrays, cache, obj, now, i):
    return _take_out(state, arrays, arrays.heap_pos[obj])


@njit(cache=True, nogil=True)
def _replay(run, state, arrays):
    return replay_requests(run, state, arrays, _on_hit, no_op, _evict, _on_insert, _on_remove)


def _init(given: PolicyInput, params: Mapping[str, Any]) -> tuple[Heap, HeapArrays]:
    slots = given.n_objects + 1  # slot 0 unused; zero-byte objects may all be resident
    arrays = HeapArrays(
        next_uses(given.ids, given.n_objects),
        np.zeros(slots, np.int32),
        np.zeros(slots, np.int64),
        np.zeros(max(given.n_objects, 1), np.int64),
    )
    return Heap(np.int64(0)), arrays


POLICY = Policy(
    name="opt",
    summary="Offline optimum (Belady's MIN), exact for equal sizes: the floor to measure gaps against.",
    init=_init,
    replay=_replay,
    offline=True,
)
