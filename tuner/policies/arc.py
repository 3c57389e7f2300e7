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
enters T2.

Wins on traffic that shifts between recency and frequency (OLTP, mixed scans);
no parameter to tune.
"""

from collections.abc import Mapping
from typing import Any

import numpy as np
from numba import njit

from tuner.engine.kernel import replay_requests
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


@njit(inline="always")
def _step(numerator, denominator):
    """ARC's adaptation step ``max(|B_other| / |B_hit|, 1)``; 1 when the hit list holds only zero-byte ghosts."""
    return max(numerator / denominator, 1.0) if denominator > 0 else 1.0


@njit(inline="always")
def _on_hit(state, arrays, cached, obj, size, now, i):
    (links,) = arrays
    t1h, t1t, t2h, t2t, b1h, b1t, b2h, b2t, t1_bytes, t2_bytes, b1_bytes, b2_bytes, p, ghost_hit, capacity = state
    if links[obj, WHERE] == IN_T1:
        t1h, t1t = unlink(links, t1h, t1t, obj)
        t2h, t2t = push_head(links, t2h, t2t, obj)
        links[obj, WHERE] = IN_T2
        t1_bytes -= cached[obj]
        t2_bytes += cached[obj]
    else:
        t2h, t2t = move_to_head(links, t2h, t2t, obj)
    return t1h, t1t, t2h, t2t, b1h, b1t, b2h, b2t, t1_bytes, t2_bytes, b1_bytes, b2_bytes, p, ghost_hit, capacity


@njit(inline="always")
def _on_miss(state, arrays, cached, obj, size, now, i):
    """Cases II and III of Fig. 4: adapt ``p`` and forget the ghost."""
    (links,) = arrays
    t1h, t1t, t2h, t2t, b1h, b1t, b2h, b2t, t1_bytes, t2_bytes, b1_bytes, b2_bytes, p, ghost_hit, capacity = state
    if links[obj, WHERE] == IN_B1:
        p = min(p + _step(b2_bytes, b1_bytes), float(capacity))
        b1h, b1t = unlink(links, b1h, b1t, obj)
        b1_bytes -= links[obj, GHOST_SIZE]
        links[obj, WHERE] = ABSENT
        ghost_hit = np.int32(HIT_B1)
    elif links[obj, WHERE] == IN_B2:
        p = max(p - _step(b1_bytes, b2_bytes), 0.0)
        b2h, b2t = unlink(links, b2h, b2t, obj)
        b2_bytes -= links[obj, GHOST_SIZE]
        links[obj, WHERE] = ABSENT
        ghost_hit = np.int32(HIT_B2)
    return t1h, t1t, t2h, t2t, b1h, b1t, b2h, b2t, t1_bytes, t2_bytes, b1_bytes, b2_bytes, p, ghost_hit, capacity


@njit(inline="always")
def _evict(state, arrays, cached, obj, size, now, i):
    (links,) = arrays
    t1h, t1t, t2h, t2t, b1h, b1t, b2h, b2t, t1_bytes, t2_bytes, b1_bytes, b2_bytes, p, ghost_hit, capacity = state
    replace = True
    if ghost_hit == NO_GHOST:  # case IV: a miss in all four lists
        if t1_bytes + b1_bytes + size > capacity:
            if b1_bytes > 0:
                ghost = b1t
                b1h, b1t = unlink(links, b1h, b1t, ghost)
                b1_bytes -= links[ghost, GHOST_SIZE]
                links[ghost, WHERE] = ABSENT
            else:
                replace = False
        elif t1_bytes + b1_bytes + t2_bytes + b2_bytes >= 2 * capacity and b2t >= 0:
            ghost = b2t
            b2h, b2t = unlink(links, b2h, b2t, ghost)
            b2_bytes -= links[ghost, GHOST_SIZE]
            links[ghost, WHERE] = ABSENT
    if not replace:  # T1 alone fills the cache: evict its LRU without a ghost
        victim = t1t
        t1h, t1t = unlink(links, t1h, t1t, victim)
        t1_bytes -= cached[victim]
        links[victim, WHERE] = ABSENT
    elif (t1_bytes > 0 and (t1_bytes > p or (t1_bytes == p and ghost_hit == HIT_B2))) or t2t < 0:
        victim = t1t
        t1h, t1t = unlink(links, t1h, t1t, victim)
        b1h, b1t = push_head(links, b1h, b1t, victim)
        t1_bytes -= cached[victim]
        b1_bytes += cached[victim]
        links[victim, GHOST_SIZE] = cached[victim]
        links[victim, WHERE] = IN_B1
    else:
        victim = t2t
        t2h, t2t = unlink(links, t2h, t2t, victim)
        b2h, b2t = push_head(links, b2h, b2t, victim)
        t2_bytes -= cached[victim]
        b2_bytes += cached[victim]
        links[victim, GHOST_SIZE] = cached[victim]
        links[victim, WHERE] = IN_B2
    state = (t1h, t1t, t2h, t2t, b1h, b1t, b2h, b2t, t1_bytes, t2_bytes, b1_bytes, b2_bytes, p, ghost_hit, capacity)
    return state, victim


@njit(inline="always")
def _on_insert(state, arrays, cached, obj, size, now, i):
    (links,) = arrays
    t1h, t1t, t2h, t2t, b1h, b1t, b2h, b2t, t1_bytes, t2_bytes, b1_bytes, b2_bytes, p, ghost_hit, capacity = state
    if ghost_hit == NO_GHOST:
        t1h, t1t = push_head(links, t1h, t1t, obj)
        t1_bytes += size
        links[obj, WHERE] = IN_T1
    else:
        t2h, t2t = push_head(links, t2h, t2t, obj)
        t2_bytes += size
        links[obj, WHERE] = IN_T2
        ghost_hit = np.int32(NO_GHOST)
    return t1h, t1t, t2h, t2t, b1h, b1t, b2h, b2t, t1_bytes, t2_bytes, b1_bytes, b2_bytes, p, ghost_hit, capacity


@njit(cache=True, nogil=True)
def _replay(requests, config, state, arrays):
    return replay_requests(requests, config, state, arrays, _on_hit, _on_miss, _evict, _on_insert)


def _init(given: PolicyInput, params: Mapping[str, Any]) -> tuple[tuple, tuple]:
    if len(given.sizes) and int(given.sizes.max()) > LARGEST_SIZE:
        raise ValueError(f"arc keeps ghost sizes in 32 bits: objects above {LARGEST_SIZE} bytes are not supported")
    zero = np.int64(0)
    lists = (NONE,) * 8
    state = (*lists, zero, zero, zero, zero, 0.0, np.int32(NO_GHOST), np.int64(given.capacity))
    links = np.zeros((max(given.n_objects, 1), 4), np.int32)
    links[:, :2] = NONE
    return state, (links,)


POLICY = Policy(
    name="arc",
    summary="Self-tuning recency/frequency balance; strong on OLTP and shifting mixes, nothing to tune.",
    init=_init,
    replay=_replay,
)
