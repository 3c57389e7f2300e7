"""LIRS: Low Inter-reference Recency Set replacement.

Jiang & Zhang, "LIRS: An Efficient Low Inter-reference Recency Set Replacement
Policy to Improve Buffer Cache Performance", ACM SIGMETRICS 2002, section 3.
Blocks whose last two references were close together (low inter-reference
recency, LIR) keep ``1 - hir_ratio`` of the cache; the rest, ``hir_ratio``
(1%, at least 2 blocks as in the authors' simulator), holds resident HIR
blocks in the list Q. The recency stack S holds LIR blocks and HIR
blocks (resident or not) newer than the oldest LIR block: its bottom is always
LIR, which stack pruning restores by dropping HIR entries from the bottom.

- Hit on an LIR block: move it to the top of S, prune.
- Hit on a resident HIR block in S: it becomes LIR (top of S, out of Q); the
  LIR block at the bottom of S becomes HIR at the end of Q; prune.
- Hit on a resident HIR block not in S: top of S, end of Q.
- Miss: the resident HIR block at the front of Q is evicted (staying in S as a
  non-resident HIR entry if it is there). The missed block then becomes LIR
  if it was in S (demoting S's bottom LIR block as above), or a resident HIR
  block at the top of S and the end of Q otherwise. Until the LIR set is full
  every new block is LIR.

As in the authors' simulator (Song Jiang's ``lirs.c``), a block referenced
again right after its own reference (it is still on top of S) changes
nothing: a resident HIR block is not promoted by an immediate repeat. This
reproduces the authors' miss counts exactly on all their traces.

With byte sizes the LIR set is a byte budget: promotions demote bottom LIR
blocks until it fits, and when Q is empty the bottom LIR block is evicted.
S may hold at most ``nonresident_ratio`` x the cache's object count of
non-resident HIR entries; beyond that the one made non-resident longest ago
leaves S (the paper leaves S unbounded; its authors' simulator caps S at 2500
x the cache size, libCacheSim at twice its size).

Wins on loops and scans over a stable hot set (file systems, databases) where
LRU thrashes.
"""

from collections.abc import Mapping
from typing import Any

import numpy as np
from numba import njit

from tuner.engine.kernel import no_op, replay_requests
from tuner.policies.base import Param, Policy, PolicyInput
from tuner.policies.linked_list import NONE, move_to_head, new_links, push_head, unlink

# Per-object row of ``stack_links``: S's two links, then the object's status bits
# (one 16-byte row, so a request touches one cache line of it).
STATUS = 2
IN_STACK, LIR, IN_QUEUE, NONRESIDENT = 1, 2, 4, 8
# The authors' simulator keeps at least this many blocks for resident HIR blocks.
MIN_HIR_BLOCKS = 2


@njit(inline="always")
def _prune(stack_links, hir_links, state):
    """Drop HIR entries from the bottom of S until an LIR block is there."""
    s_head, s_tail, q_head, q_tail, nr_head, nr_tail, lir_bytes, nonresident, lir_limit, nonresident_limit = state
    while s_tail >= 0 and not stack_links[s_tail, STATUS] & LIR:
        bottom = s_tail
        s_head, s_tail = unlink(stack_links, s_head, s_tail, bottom)
        if stack_links[bottom, STATUS] & NONRESIDENT:
            nr_head, nr_tail = unlink(hir_links, nr_head, nr_tail, bottom)
            nonresident -= 1
            stack_links[bottom, STATUS] = 0
        else:
            stack_links[bottom, STATUS] = IN_QUEUE
    return s_head, s_tail, q_head, q_tail, nr_head, nr_tail, lir_bytes, nonresident, lir_limit, nonresident_limit


# Not inlined by numba: it runs only on promotions, and copying it (with its two prunes) into
# three call sites took the first compile from 6 s to 13 s for replays up to 10 % faster.
@njit
def _fit_lir_set(stack_links, hir_links, cached, obj, size, state):
    """Demote bottom LIR blocks to the end of Q until the LIR set fits its budget.

    Pruning first makes S's bottom an LIR block even when S held none before
    (a cache too small for any LIR block). ``obj`` (of ``size`` bytes) may be
    entering the cache, so its bytes are not in ``cached`` yet.
    """
    state = _prune(stack_links, hir_links, state)
    s_head, s_tail, q_head, q_tail, nr_head, nr_tail, lir_bytes, nonresident, lir_limit, nonresident_limit = state
    while lir_bytes > lir_limit:
        bottom = s_tail
        s_head, s_tail = unlink(stack_links, s_head, s_tail, bottom)
        q_head, q_tail = push_head(hir_links, q_head, q_tail, bottom)
        stack_links[bottom, STATUS] = IN_QUEUE
        lir_bytes -= size if bottom == obj else cached[bottom]
        state = (s_head, s_tail, q_head, q_tail, nr_head, nr_tail, lir_bytes, nonresident, lir_limit, nonresident_limit)
        state = _prune(stack_links, hir_links, state)
        s_head, s_tail, q_head, q_tail, nr_head, nr_tail, lir_bytes, nonresident, lir_limit, nonresident_limit = state
    return state


@njit(inline="always")
def _on_hit(state, arrays, cached, obj, size, now, i):
    stack_links, hir_links = arrays
    s_head, s_tail, q_head, q_tail, nr_head, nr_tail, lir_bytes, nonresident, lir_limit, nonresident_limit = state
    if obj == s_head:  # re-referenced at once: no new recency information
        return state
    flags = stack_links[obj, STATUS]
    if flags & LIR:
        s_head, s_tail = move_to_head(stack_links, s_head, s_tail, obj)
        state = (s_head, s_tail, q_head, q_tail, nr_head, nr_tail, lir_bytes, nonresident, lir_limit, nonresident_limit)
        return _prune(stack_links, hir_links, state)
    if flags & IN_STACK:  # resident HIR with a low inter-reference recency: promote
        q_head, q_tail = unlink(hir_links, q_head, q_tail, obj)
        s_head, s_tail = move_to_head(stack_links, s_head, s_tail, obj)
        stack_links[obj, STATUS] = IN_STACK | LIR
        lir_bytes += cached[obj]
        state = (s_head, s_tail, q_head, q_tail, nr_head, nr_tail, lir_bytes, nonresident, lir_limit, nonresident_limit)
        return _fit_lir_set(stack_links, hir_links, cached, obj, cached[obj], state)
    s_head, s_tail = push_head(stack_links, s_head, s_tail, obj)
    q_head, q_tail = move_to_head(hir_links, q_head, q_tail, obj)
    stack_links[obj, STATUS] = IN_STACK | IN_QUEUE
    return s_head, s_tail, q_head, q_tail, nr_head, nr_tail, lir_bytes, nonresident, lir_limit, nonresident_limit


@njit(inline="always")
def _evict(state, arrays, cached, obj, size, now, i):
    stack_links, hir_links = arrays
    s_head, s_tail, q_head, q_tail, nr_head, nr_tail, lir_bytes, nonresident, lir_limit, nonresident_limit = state
    if q_tail >= 0:  # the resident HIR block at the front of Q
        victim = q_tail
        q_head, q_tail = unlink(hir_links, q_head, q_tail, victim)
        if stack_links[victim, STATUS] & IN_STACK:
            nr_head, nr_tail = push_head(hir_links, nr_head, nr_tail, victim)
            nonresident += 1
            stack_links[victim, STATUS] = IN_STACK | NONRESIDENT
        else:
            stack_links[victim, STATUS] = 0
        state = (s_head, s_tail, q_head, q_tail, nr_head, nr_tail, lir_bytes, nonresident, lir_limit, nonresident_limit)
        return state, victim
    # Only with byte sizes: no resident HIR block is left, so the bottom LIR block goes
    # (after pruning, as S may have held no LIR block when HIR blocks were pushed on it).
    state = _prune(stack_links, hir_links, state)
    s_head, s_tail, q_head, q_tail, nr_head, nr_tail, lir_bytes, nonresident, lir_limit, nonresident_limit = state
    victim = s_tail
    s_head, s_tail = unlink(stack_links, s_head, s_tail, victim)
    stack_links[victim, STATUS] = 0
    lir_bytes -= cached[victim]
    state = (s_head, s_tail, q_head, q_tail, nr_head, nr_tail, lir_bytes, nonresident, lir_limit, nonresident_limit)
    return _prune(stack_links, hir_links, state), victim


@njit(inline="always")
def _on_insert(state, arrays, cached, obj, size, now, i):
    stack_links, hir_links = arrays
    s_head, s_tail, q_head, q_tail, nr_head, nr_tail, lir_bytes, nonresident, lir_limit, nonresident_limit = state
    if stack_links[obj, STATUS] & IN_STACK:  # a non-resident HIR block still in S: it becomes LIR
        nr_head, nr_tail = unlink(hir_links, nr_head, nr_tail, obj)
        nonresident -= 1
        s_head, s_tail = move_to_head(stack_links, s_head, s_tail, obj)
        stack_links[obj, STATUS] = IN_STACK | LIR
        lir_bytes += size
        state = (s_head, s_tail, q_head, q_tail, nr_head, nr_tail, lir_bytes, nonresident, lir_limit, nonresident_limit)
        s_head, s_tail, q_head, q_tail, nr_head, nr_tail, lir_bytes, nonresident, lir_limit, nonresident_limit = (
            _fit_lir_set(stack_links, hir_links, cached, obj, size, state)
        )
    elif lir_bytes + size <= lir_limit:  # the LIR set is still filling up
        s_head, s_tail = push_head(stack_links, s_head, s_tail, obj)
        stack_links[obj, STATUS] = IN_STACK | LIR
        lir_bytes += size
    else:
        s_head, s_tail = push_head(stack_links, s_head, s_tail, obj)
        q_head, q_tail = push_head(hir_links, q_head, q_tail, obj)
        stack_links[obj, STATUS] = IN_STACK | IN_QUEUE
    while nonresident > nonresident_limit:  # forget the oldest non-resident entry
        oldest = nr_tail
        nr_head, nr_tail = unlink(hir_links, nr_head, nr_tail, oldest)
        s_head, s_tail = unlink(stack_links, s_head, s_tail, oldest)
        stack_links[oldest, STATUS] = 0
        nonresident -= 1
    return s_head, s_tail, q_head, q_tail, nr_head, nr_tail, lir_bytes, nonresident, lir_limit, nonresident_limit


@njit(cache=True, nogil=True)
def _replay(requests, config, state, arrays):
    return replay_requests(requests, config, state, arrays, _on_hit, no_op, _evict, _on_insert)


def _init(given: PolicyInput, params: Mapping[str, Any]) -> tuple[tuple, tuple]:
    capacity = int(given.capacity)
    hir_bytes = max(int(params["hir_ratio"] * capacity), MIN_HIR_BLOCKS)
    hir_bytes = min(hir_bytes, capacity - 1) if capacity > 1 else 1
    mean_size = float(np.mean(given.sizes)) if len(given.sizes) else 1.0
    capacity_objects = max(capacity / max(mean_size, 1.0), 1.0)
    nonresident_limit = int(params["nonresident_ratio"] * capacity_objects)
    zero = np.int64(0)
    state = (
        *(NONE,) * 6,
        zero,
        zero,
        np.int64(capacity - hir_bytes),
        np.int64(nonresident_limit),
    )
    stack_links = np.zeros((max(given.n_objects, 1), 4), np.int32)
    stack_links[:, :2] = NONE
    return state, (stack_links, new_links(given.n_objects))


POLICY = Policy(
    name="lirs",
    summary="Scan- and loop-resistant: keeps blocks with short reuse distance; strong on file-system and DB traces.",
    init=_init,
    replay=_replay,
    params=(
        Param(
            "hir_ratio", 0.01, 0.001, 0.5, "share of the cache for resident HIR blocks (queue Q)", log=True, most=1.0
        ),
        Param(
            "nonresident_ratio",
            2500.0,
            0.5,
            2500.0,
            "most non-resident HIR entries kept in stack S, as a multiple of the cache's object count",
            log=True,
        ),
    ),
)
