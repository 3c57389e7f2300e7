"""ARC: Adaptive Replacement Cache, balancing recency against frequency by itself.

Megiddo & Modha, "ARC: A Self-Tuning, Low Overhead Replacement Cache", USENIX
FAST 2003, Fig. 4. Residents sit in T1 (seen once recently) or T2 (seen at
least twice); the ghost lists B1 and B2 remember the ids recently evicted
from each. The target size ``p`` of T1 grows on a hit in B1 (by
``max(|B2| / |B1|, 1)``) and shrinks on a hit in B2 (by ``max(|B1| / |B2|,
1)``), clamped to ``[0, c]``. REPLACE evicts T1's LRU into B1 when
``|T1| > p``, or ``|T1| = p`` and the request hit B2, and T2's LRU into B2
otherwise.

Exactly libCacheSim's ARC (``cache/eviction/ARC.c``): ``p`` and the deltas are
floats, every list size counts bytes (object sizes, so with unit sizes it
counts objects), and case IV of Fig. 4 reads "T1 + B1 + incoming > c": drop
B1's LRU and REPLACE when B1 is non-empty, else evict T1's LRU without a
ghost; otherwise drop B2's LRU when all four lists hold ``2c`` and REPLACE.
REPLACE also evicts from T1 when T2 is empty. Emptiness is a list's, not its
bytes' (zero-byte objects make the two differ). A ghost hit adapts ``p`` and
forgets the ghost before any eviction (the ``on_miss`` hook); the object then
enters T2. An object removed without being chosen (a delete, an expiry)
leaves T1 or T2 and its bytes leave that list's count, with no ghost and no
change to ``p``, as in libCacheSim's ``ARC_remove``; only a resident is
removed (the loop tells no policy of a delete of an id it does not cache, so
a ghost of that id stays, where ``ARC_remove`` would drop it).

Wins on traffic that shifts between recency and frequency (OLTP, mixed scans);
no parameter to tune.
"""

from collections import namedtuple
from collections.abc import Mapping
from typing import Any

import numpy as np
from numba import njit

from tuner.engine.kernel import replay_requests, size_of
from tuner.engine.named_state import named_state
from tuner.errors import CachetuneError
from tuner.policies.base import Policy, PolicyInput
from tuner.policies.linked_list import NONE, move_to_head, push_head, unlink

# Per-object row of the one ``links`` array: the two list links, then where the
# object is and the bytes it held when it became a ghost. One row (16 bytes) per
# object keeps a request's random memory reads to one cache line.
WHERE, GHOST_SIZE = 2, 3
ABSENT, IN_T1, IN_T2, IN_B1, IN_B2 = 0, 1, 2, 3, 4
LARGEST_SIZE = np.iinfo(np.int32).max
# Which ghost list the current request hit (state field ``ghost_hit``).
NO_GHOST, HIT_B1, HIT_B2 = 0, 1, 2

# The four lists' ends and byte counts, the target size ``p`` of T1, the ghost list
# the request being admitted hit, and the capacity ``c``.
ArcState, replace = named_state(
    "ArcState",
    ["t1_head", "t1_tail", "t2_head", "t2_tail", "b1_head", "b1_tail", "b2_head", "b2_tail",
     "t1_bytes", "t2_bytes", "b1_bytes", "b2_bytes", "p", "ghost_hit", "capacity"],
)  # fmt: skip
ArcLinks = namedtuple("ArcLinks", ["links"])


@njit(inline="always")
def _step(numerator, denominator):
    """ARC's adaptation step ``max(|B_other| / |B_hit|, 1)``; 1 when the hit list holds only zero-byte ghosts."""
    return max(numerator / denominator, 1.0) if denominator > 0 else 1.0


@njit(inline="always")
def _on_hit(state, arrays, cache, obj, size, now, i):
    links = arrays.links
    if links[obj, WHERE] == IN_T1:
        held = size_of(cache, obj)
        t1_head, t1_tail = unlink(links, state.t1_head, state.t1_tail, obj)
        t2_head, t2_tail = push_head(links, state.t2_head, state.t2_tail, obj)
        links[obj, WHERE] = IN_T2
        return replace(state, t1_head=t1_head, t1_tail=t1_tail, t2_head=t2_head, t2_tail=t2_tail,
                       t1_bytes=state.t1_bytes - held, t2_bytes=state.t2_bytes + held)  # fmt: skip
    t2_head, t2_tail = move_to_head(links, state.t2_head, state.t2_tail, obj)
    return replace(state, t2_head=t2_head, t2_tail=t2_tail)


@njit(inline="always")
def _on_miss(state, arrays, cache, obj, size, now, i):
    """Cases II and III of Fig. 4: adapt ``p`` and forget the ghost."""
    links = arrays.links
    if links[obj, WHERE] == IN_B1:
        b1_head, b1_tail = unlink(links, state.b1_head, state.b1_tail, obj)
        links[obj, WHERE] = ABSENT
        return replace(state, b1_head=b1_head, b1_tail=b1_tail, b1_bytes=state.b1_bytes - links[obj, GHOST_SIZE],
                       p=min(state.p + _step(state.b2_bytes, state.b1_bytes), float(state.capacity)),
                       ghost_hit=HIT_B1)  # fmt: skip
    if links[obj, WHERE] == IN_B2:
        b2_head, b2_tail = unlink(links, state.b2_head, state.b2_tail, obj)
        links[obj, WHERE] = ABSENT
        return replace(state, b2_head=b2_head, b2_tail=b2_tail, b2_bytes=state.b2_bytes - links[obj, GHOST_SIZE],
                       p=max(state.p - _step(state.b1_bytes, state.b2_bytes), 0.0), ghost_hit=HIT_B2)  # fmt: skip
    return state


@njit(inline="always")
def _forget_b1_lru(state, links):
    ghost = state.b1_tail
    b1_head, b1_tail = unlink(links, state.b1_head, state.b1_tail, ghost)
    links[ghost, WHERE] = ABSENT
    return replace(state, b1_head=b1_head, b1_tail=b1_tail, b1_bytes=state.b1_bytes - links[ghost, GHOST_SIZE])


@njit(inline="always")
def _forget_b2_lru(state, links):
    ghost = state.b2_tail
    b2_head, b2_tail = unlink(links, state.b2_head, state.b2_tail, ghost)
    links[ghost, WHERE] = ABSENT
    return replace(state, b2_head=b2_head, b2_tail=b2_tail, b2_bytes=state.b2_bytes - links[ghost, GHOST_SIZE])


@njit(inline="always")
def _replace_lru(state, links, cache):
    """REPLACE: T1's LRU goes to B1 when T1 is above ``p`` (at ``p`` on a hit in B2) or T2 is empty, else T2's
    to B2; returns the state and the victim."""
    t1_bytes = state.t1_bytes
    t1_over_target = t1_bytes > state.p or (t1_bytes == state.p and state.ghost_hit == HIT_B2)
    if (t1_bytes > 0 and t1_over_target) or state.t2_tail < 0:
        victim = state.t1_tail
        held = size_of(cache, victim)
        t1_head, t1_tail = unlink(links, state.t1_head, state.t1_tail, victim)
        b1_head, b1_tail = push_head(links, state.b1_head, state.b1_tail, victim)
        links[victim, GHOST_SIZE] = held
        links[victim, WHERE] = IN_B1
        return replace(state, t1_head=t1_head, t1_tail=t1_tail, b1_head=b1_head, b1_tail=b1_tail,
                       t1_bytes=t1_bytes - held, b1_bytes=state.b1_bytes + held), victim  # fmt: skip
    victim = state.t2_tail
    held = size_of(cache, victim)
    t2_head, t2_tail = unlink(links, state.t2_head, state.t2_tail, victim)
    b2_head, b2_tail = push_head(links, state.b2_head, state.b2_tail, victim)
    links[victim, GHOST_SIZE] = held
    links[victim, WHERE] = IN_B2
    return replace(state, t2_head=t2_head, t2_tail=t2_tail, b2_head=b2_head, b2_tail=b2_tail,
                   t2_bytes=state.t2_bytes - held, b2_bytes=state.b2_bytes + held), victim  # fmt: skip


@njit(inline="always")
def _evict(state, arrays, cache, obj, size, now, i):
    links = arrays.links
    if state.ghost_hit == NO_GHOST:  # case IV: a miss in all four lists
        every_list_bytes = state.t1_bytes + state.b1_bytes + state.t2_bytes + state.b2_bytes
        if state.t1_bytes + state.b1_bytes + size > state.capacity:
            if state.b1_bytes <= 0:  # T1 alone fills the cache: evict its LRU without a ghost
                victim = state.t1_tail
                held = size_of(cache, victim)
                t1_head, t1_tail = unlink(links, state.t1_head, state.t1_tail, victim)
                links[victim, WHERE] = ABSENT
                return replace(state, t1_head=t1_head, t1_tail=t1_tail, t1_bytes=state.t1_bytes - held), victim
            state = _forget_b1_lru(state, links)
        elif every_list_bytes >= 2 * state.capacity and state.b2_tail >= 0:
            state = _forget_b2_lru(state, links)
    return _replace_lru(state, links, cache)


@njit(inline="always")
def _on_insert(state, arrays, cache, obj, size, now, i):
    links = arrays.links
    if state.ghost_hit == NO_GHOST:
        t1_head, t1_tail = push_head(links, state.t1_head, state.t1_tail, obj)
        links[obj, WHERE] = IN_T1
        return replace(state, t1_head=t1_head, t1_tail=t1_tail, t1_bytes=state.t1_bytes + size)
    t2_head, t2_tail = push_head(links, state.t2_head, state.t2_tail, obj)
    links[obj, WHERE] = IN_T2
    return replace(state, t2_head=t2_head, t2_tail=t2_tail, t2_bytes=state.t2_bytes + size, ghost_hit=NO_GHOST)


@njit(inline="always")
def _on_remove(state, arrays, cache, obj, now, i):
    links = arrays.links
    held = size_of(cache, obj)
    if links[obj, WHERE] == IN_T1:
        t1_head, t1_tail = unlink(links, state.t1_head, state.t1_tail, obj)
        links[obj, WHERE] = ABSENT
        return replace(state, t1_head=t1_head, t1_tail=t1_tail, t1_bytes=state.t1_bytes - held)
    t2_head, t2_tail = unlink(links, state.t2_head, state.t2_tail, obj)
    links[obj, WHERE] = ABSENT
    return replace(state, t2_head=t2_head, t2_tail=t2_tail, t2_bytes=state.t2_bytes - held)


@njit(cache=True, nogil=True)
def _replay(run, state, arrays):
    return replay_requests(run, state, arrays, _on_hit, _on_miss, _evict, _on_insert, _on_remove)


def _init(given: PolicyInput, params: Mapping[str, Any]) -> tuple[ArcState, ArcLinks]:
    if len(given.sizes) and int(given.sizes.max()) > LARGEST_SIZE:
        raise CachetuneError(f"arc keeps ghost sizes in 32 bits: objects above {LARGEST_SIZE} bytes are not supported")
    zero = np.int64(0)
    empty_lists, no_bytes = (NONE,) * 8, (zero,) * 4
    state = ArcState(*empty_lists, *no_bytes, p=0.0, ghost_hit=np.int32(NO_GHOST), capacity=np.int64(given.capacity))
    links = np.zeros((max(given.n_objects, 1), 4), np.int32)
    links[:, :2] = NONE
    return state, ArcLinks(links)


POLICY = Policy(
    name="arc",
    summary="Self-tuning recency/frequency balance; strong on OLTP and shifting mixes, nothing to tune.",
    init=_init,
    replay=_replay,
)
