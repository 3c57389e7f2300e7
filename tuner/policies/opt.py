"""OPT: the offline best schedule found, Belady's MIN extended to bypass, the floor's achievable side.

On a miss with a full cache, evict the resident whose next request is
farthest away; residents never requested again go first. Belady (1966), "A
study of replacement algorithms for a virtual-storage computer", IBM Systems
Journal 5(2); Mattson et al. (1970) proved it optimal for demand paging.

At object capacities this is exactly MIN: no policy can miss less, so OPT is
the floor gaps are measured against there. At byte capacities with variable
sizes the byte-optimal problem is NP-hard (Berger, Beckmann and
Harchol-Balter, "Practical Bounds on Optimal Caching with Variable Object
Sizes", SIGMETRICS 2018), and plain MIN is not even a good schedule: it admits
every object, so a larger cache lets 40–69 MB downloads in to flush the small
pages (on a real Apache log it missed more at 64 MiB than at 16 MiB). There
OPT also decides admission, with the costs of ``tuner.engine.reuse`` (an
interval from a request to the object's next one costs size × distance): it
bypasses an object never requested again, one whose interval is dearer than
the dearest of the cheapest intervals the cache's space-time can afford (the
intervals the lower bound ``opt-lower`` counts as hits, PFOO-L's), and one
that would displace a resident needed sooner or cheaper to keep; a resident
whose next interval is too dear is keyed as never used again, so it goes
first. Every decision is one a cache could make knowing the future, and the
loop keeps the capacity at every request: its misses are achievable, an upper
bound on the optimum (``opt-lower`` is the lower one). With equal sizes every
interval is worth keeping and the rule is MIN with bypass.

Next uses come from one backward pass over the trace. Residents sit in an
indexed binary max-heap keyed by their next use (``heap_pos[obj]`` finds an
object's slot, so a hit re-keys it in place): O(log C) per request. The heap
is 1-based and breaks ties the way libCacheSim's ``pqueue`` does (strict
comparisons, the left child on equal keys), so victims among the
never-used-again residents match its ``Belady`` exactly at object capacities.
A removed object (a delete) leaves the heap as the root does when evicted
(the last slot moves into its place and sifts); it re-enters on its next
read. ``PolicyInput`` does not say which requests are writes, so a SET or a
DELETE counts as the object's next use: with writes the schedule stays
achievable, but farthest-next-use is a heuristic, not the floor.
"""

from collections import namedtuple
from collections.abc import Mapping
from typing import Any

import numpy as np
from numba import njit
from numba.extending import register_jitable

from tuner.engine.kernel import counts_objects, no_op, replay_requests, size_of
from tuner.engine.named_state import named_state
from tuner.engine.reuse import NEVER, cheapest_that_fit, interval_costs, next_uses
from tuner.policies.base import Policy, PolicyInput

# How many heap slots (from 1) hold residents, the bytes they hold, the capacity, and the dearest
# interval worth keeping (size × distance; NEVER: every one, -1: none), all read at byte capacities only.
Heap, replace = named_state("Heap", ["used", "held", "capacity", "worth"])
# Each request's next use; the heap's objects and keys by slot; each object's slot; room for the
# victims an admission would displace while it weighs them (byte capacities only).
HeapArrays = namedtuple("HeapArrays", ["following", "heap_obj", "heap_key", "heap_pos", "weighed_obj", "weighed_key"])


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
def _resift(heap_obj, heap_key, heap_pos, slot, used):
    """Move the entry in ``slot`` up or down to its place after its key changed."""
    if slot > 1 and heap_key[slot >> 1] < heap_key[slot]:
        _sift_up(heap_obj, heap_key, heap_pos, slot)
    else:
        _sift_down(heap_obj, heap_key, heap_pos, slot, used)


@njit(inline="always")
def _key(state, arrays, cache, size, i):
    """A resident's heap key after request ``i``: its next use, or NEVER (first to go) at a byte
    capacity when keeping it until then costs more cache space-time than the interval is worth."""
    following = arrays.following[i]
    if counts_objects(cache.held) or following == NEVER or size * (following - i) <= state.worth:
        return following
    return NEVER


@njit(inline="always")
def _on_hit(state, arrays, cache, obj, size, now, i):
    heap_obj, heap_key, heap_pos = arrays.heap_obj, arrays.heap_key, arrays.heap_pos
    slot = heap_pos[obj]
    heap_key[slot] = _key(state, arrays, cache, size_of(cache, obj), i)
    _resift(heap_obj, heap_key, heap_pos, slot, state.used)
    return state


@njit(inline="always")
def _take_out(state, arrays, cache, slot):
    """Remove the resident in heap ``slot``: the last one moves there and sifts to its place."""
    heap_obj, heap_key, heap_pos = arrays.heap_obj, arrays.heap_key, arrays.heap_pos
    held = state.held - size_of(cache, heap_obj[slot])
    used = state.used
    heap_obj[slot] = heap_obj[used]
    heap_key[slot] = heap_key[used]
    used -= 1
    if slot <= used:
        _resift(heap_obj, heap_key, heap_pos, slot, used)
    return replace(state, used=used, held=held)


@njit(inline="always")
def _evict(state, arrays, cache, obj, size, now, i):
    victim = arrays.heap_obj[1]
    return _take_out(state, arrays, cache, np.int64(1)), victim


@njit(inline="always")
def _put(state, arrays, obj, key, size):
    """Add ``obj`` to the heap with ``key``."""
    used = state.used + 1
    arrays.heap_obj[used] = obj
    arrays.heap_key[used] = key
    _sift_up(arrays.heap_obj, arrays.heap_key, arrays.heap_pos, used)
    return replace(state, used=used, held=state.held + size)


@njit(inline="always")
def _on_insert(state, arrays, cache, obj, size, now, i):
    return _put(state, arrays, obj, _key(state, arrays, cache, size, i), size)


@njit(inline="always")
def _on_remove(state, arrays, cache, obj, now, i):
    return _take_out(state, arrays, cache, arrays.heap_pos[obj])


@register_jitable(inline="always")
def _admit(state, arrays, cache, obj, size, now, i):
    """At a byte capacity, bypass a newcomer that would not pay for its place: one never requested
    again, one whose interval to its next use is dearer than the cheapest intervals the cache can
    afford, or one that would displace a resident needed sooner or cheaper to keep (each victim in
    turn, until the newcomer fits, must be needed later and cost more, or never be needed). The
    victims are taken out to be weighed and put back: the loop then evicts them.
    At an object capacity every newcomer is admitted (Belady's MIN). ``register_jitable``, as
    s3fifo's: an njit dispatcher passed as ``admit`` would keep ``_replay`` from numba's disk cache."""
    if counts_objects(cache.held):
        return state, True
    upcoming = arrays.following[i]
    if upcoming == NEVER or size * (upcoming - i) > state.worth:
        return state, False
    cost = size * (upcoming - i)
    weighed = 0
    admitted = True
    while state.held + size > state.capacity and state.used > 0:
        victim = arrays.heap_obj[1]
        key = arrays.heap_key[1]
        if key != NEVER and (key < upcoming or size_of(cache, victim) * (key - i) < cost):
            admitted = False
            break
        arrays.weighed_obj[weighed] = victim
        arrays.weighed_key[weighed] = key
        weighed += 1
        state = _take_out(state, arrays, cache, np.int64(1))
    for back in range(weighed):
        victim = arrays.weighed_obj[back]
        state = _put(state, arrays, victim, arrays.weighed_key[back], size_of(cache, victim))
    return state, admitted


@njit(cache=True, nogil=True)
def _replay(run, state, arrays):
    return replay_requests(run, state, arrays, _on_hit, no_op, _evict, _on_insert, _on_remove, admit=_admit)


def _worth(given: PolicyInput, following: np.ndarray) -> int:
    """The dearest reuse interval (size × distance) among the cheapest ones a byte cache could keep
    all of, or NEVER when every object has one size (then farthest-next-use is exact and every
    interval is worth keeping)."""
    sizes = given.sizes
    if not len(sizes) or sizes.min() == sizes.max():
        return NEVER
    costs = interval_costs(given.ids, sizes, given.n_objects, given.capacity, following=following)
    taken = cheapest_that_fit(costs, given.capacity, len(sizes))
    return int(costs[taken - 1]) if taken else -1


def _init(given: PolicyInput, params: Mapping[str, Any]) -> tuple[Heap, HeapArrays]:
    slots = given.n_objects + 1  # slot 0 unused; zero-byte objects may all be resident
    following = next_uses(given.ids, given.n_objects)
    arrays = HeapArrays(
        following,
        np.zeros(slots, np.int32),
        np.zeros(slots, np.int64),
        np.zeros(max(given.n_objects, 1), np.int64),
        np.zeros(slots, np.int32),
        np.zeros(slots, np.int64),
    )
    return Heap(np.int64(0), np.int64(0), np.int64(given.capacity), np.int64(_worth(given, following))), arrays


POLICY = Policy(
    name="opt",
    summary="Offline best: Belady's MIN (exact for equal sizes); at byte capacities it also bypasses objects "
    "not worth their space (an achievable upper bound; opt-lower is the lower bound).",
    init=_init,
    replay=_replay,
    offline=True,
)
