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

A block removed without being chosen (a delete) leaves S and Q at once and
stays in neither as a non-resident entry. A removed LIR block frees its bytes
of the LIR set (new blocks are LIR until it is full again) and S is pruned
again, as that block may have been its bottom; a resident HIR block is never
the bottom while S holds an LIR block.

Wins on loops and scans over a stable hot set (file systems, databases) where
LRU thrashes.
"""

from collections import namedtuple
from collections.abc import Mapping
from typing import Any

import numpy as np
from numba import njit

from tuner.engine.kernel import no_op, replay_requests, size_of
from tuner.engine.named_state import named_state
from tuner.policies.base import Param, Policy, PolicyInput
from tuner.policies.linked_list import NONE, move_to_head, new_links, push_head, unlink

# Per-object row of ``stack_links``: S's two links, then the object's status bits
# (one 16-byte row, so a request touches one cache line of it).
STATUS = 2
IN_STACK, LIR, IN_QUEUE, NONRESIDENT = 1, 2, 4, 8
# The authors' simulator keeps at least this many blocks for resident HIR blocks.
MIN_HIR_BLOCKS = 2

# The ends of S, of Q and of the list of non-resident HIR entries in S (oldest at the tail),
# the LIR set's bytes, the number of non-resident entries, and the limits of both.
LirsState, replace = named_state(
    "LirsState",
    ["s_head", "s_tail", "q_head", "q_tail", "nr_head", "nr_tail", "lir_bytes", "nonresident", "lir_limit",
     "nonresident_limit"],
)  # fmt: skip
# ``stack_links`` rows (S's links and the status bits) and ``hir_links``, which link Q and the
# non-resident list (a block is resident or not, so it is in at most one of them).
LirsArrays = namedtuple("LirsArrays", ["stack_links", "hir_links"])


@njit(inline="always")
def _prune(stack_links, hir_links, state):
    """Drop HIR entries from the bottom of S until an LIR block is there."""
    s_head, s_tail = state.s_head, state.s_tail
    nr_head, nr_tail, nonresident = state.nr_head, state.nr_tail, state.nonresident
    while s_tail >= 0 and not stack_links[s_tail, STATUS] & LIR:
        bottom = s_tail
        s_head, s_tail = unlink(stack_links, s_head, s_tail, bottom)
        if stack_links[bottom, STATUS] & NONRESIDENT:
            nr_head, nr_tail = unlink(hir_links, nr_head, nr_tail, bottom)
            nonresident -= 1
            stack_links[bottom, STATUS] = 0
        else:
            stack_links[bottom, STATUS] = IN_QUEUE
    return replace(state, s_head=s_head, s_tail=s_tail, nr_head=nr_head, nr_tail=nr_tail, nonresident=nonresident)


# Not inlined by numba: it runs only on promotions, and copying it (with its two prunes) into
# three call sites took the first compile from 6 s to 13 s for replays up to 10 % faster.
@njit
def _fit_lir_set(stack_links, hir_links, cache, obj, size, state):
    """Demote bottom LIR blocks to the end of Q until the LIR set fits its budget.

    Pruning first makes S's bottom an LIR block even when S held none before
    (a cache too small for any LIR block). ``obj`` (of ``size`` bytes) may be
    entering the cache, so its bytes are not in ``cache`` yet.
    """
    state = _prune(stack_links, hir_links, state)
    while state.lir_bytes > state.lir_limit:
        bottom = state.s_tail
        s_head, s_tail = unlink(stack_links, state.s_head, state.s_tail, bottom)
        q_head, q_tail = push_head(hir_links, state.q_head, state.q_tail, bottom)
        stack_links[bottom, STATUS] = IN_QUEUE
        lir_bytes = state.lir_bytes - (size if bottom == obj else size_of(cache, bottom))
        state = replace(state, s_head=s_head, s_tail=s_tail, q_head=q_head, q_tail=q_tail, lir_bytes=lir_bytes)
        state = _prune(stack_links, hir_links, state)
    return state


@njit(inline="always")
def _on_hit(state, arrays, cache, obj, size, now, i):
    stack_links, hir_links = arrays
    if obj == state.s_head:  # re-referenced at once: no new recency information
        return state
    flags = stack_links[obj, STATUS]
    if flags & LIR:
        s_head, s_tail = move_to_head(stack_links, state.s_head, state.s_tail, obj)
        return _prune(stack_links, hir_links, replace(state, s_head=s_head, s_tail=s_tail))
    if flags & IN_STACK:  # resident HIR with a low inter-reference recency: promote
        q_head, q_tail = unlink(hir_links, state.q_head, state.q_tail, obj)
        s_head, s_tail = move_to_head(stack_links, state.s_head, state.s_tail, obj)
        stack_links[obj, STATUS] = IN_STACK | LIR
        held = size_of(cache, obj)
        state = replace(state, s_head=s_head, s_tail=s_tail, q_head=q_head, q_tail=q_tail,
                        lir_bytes=state.lir_bytes + held)  # fmt: skip
        return _fit_lir_set(stack_links, hir_links, cache, obj, held, state)
    s_head, s_tail = push_head(stack_links, state.s_head, state.s_tail, obj)
    q_head, q_tail = move_to_head(hir_links, state.q_head, state.q_tail, obj)
    stack_links[obj, STATUS] = IN_STACK | IN_QUEUE
    return replace(state, s_head=s_head, s_tail=s_tail, q_head=q_head, q_tail=q_tail)


@njit(inline="always")
def _evict(state, arrays, cache, obj, size, now, i):
    stack_links, hir_links = arrays
    if state.q_tail >= 0:  # the resident HIR block at the front of Q
        victim = state.q_tail
        q_head, q_tail = unlink(hir_links, state.q_head, state.q_tail, victim)
        nr_head, nr_tail, nonresident = state.nr_head, state.nr_tail, state.nonresident
        if stack_links[victim, STATUS] & IN_STACK:
            nr_head, nr_tail = push_head(hir_links, nr_head, nr_tail, victim)
            nonresident += 1
            stack_links[victim, STATUS] = IN_STACK | NONRESIDENT
        else:
            stack_links[victim, STATUS] = 0
        return replace(state, q_head=q_head, q_tail=q_tail, nr_head=nr_head, nr_tail=nr_tail,
                       nonresident=nonresident), victim  # fmt: skip
    # With byte sizes, or once deletes emptied Q: no resident HIR block is left, so the bottom
    # LIR block goes (after pruning, as S may have held no LIR block when HIR blocks were pushed on it).
    state = _prune(stack_links, hir_links, state)
    victim = state.s_tail
    s_head, s_tail = unlink(stack_links, state.s_head, state.s_tail, victim)
    stack_links[victim, STATUS] = 0
    lir_bytes = state.lir_bytes - size_of(cache, victim)
    return _prune(stack_links, hir_links, replace(state, s_head=s_head, s_tail=s_tail, lir_bytes=lir_bytes)), victim


@njit(inline="always")
def _on_insert(state, arrays, cache, obj, size, now, i):
    stack_links, hir_links = arrays
    if stack_links[obj, STATUS] & IN_STACK:  # a non-resident HIR block still in S: it becomes LIR
        nr_head, nr_tail = unlink(hir_links, state.nr_head, state.nr_tail, obj)
        s_head, s_tail = move_to_head(stack_links, state.s_head, state.s_tail, obj)
        stack_links[obj, STATUS] = IN_STACK | LIR
        state = replace(state, s_head=s_head, s_tail=s_tail, nr_head=nr_head, nr_tail=nr_tail,
                        lir_bytes=state.lir_bytes + size, nonresident=state.nonresident - 1)  # fmt: skip
        state = _fit_lir_set(stack_links, hir_links, cache, obj, size, state)
    elif state.lir_bytes + size <= state.lir_limit:  # the LIR set is still filling up
        s_head, s_tail = push_head(stack_links, state.s_head, state.s_tail, obj)
        stack_links[obj, STATUS] = IN_STACK | LIR
        state = replace(state, s_head=s_head, s_tail=s_tail, lir_bytes=state.lir_bytes + size)
    else:
        s_head, s_tail = push_head(stack_links, state.s_head, state.s_tail, obj)
        q_head, q_tail = push_head(hir_links, state.q_head, state.q_tail, obj)
        stack_links[obj, STATUS] = IN_STACK | IN_QUEUE
        state = replace(state, s_head=s_head, s_tail=s_tail, q_head=q_head, q_tail=q_tail)
    s_head, s_tail = state.s_head, state.s_tail
    nr_head, nr_tail, nonresident = state.nr_head, state.nr_tail, state.nonresident
    while nonresident > state.nonresident_limit:  # forget the oldest non-resident entry
        oldest = nr_tail
        nr_head, nr_tail = unlink(hir_links, nr_head, nr_tail, oldest)
        s_head, s_tail = unlink(stack_links, s_head, s_tail, oldest)
        stack_links[oldest, STATUS] = 0
        nonresident -= 1
    return replace(state, s_head=s_head, s_tail=s_tail, nr_head=nr_head, nr_tail=nr_tail, nonresident=nonresident)


@njit(inline="always")
def _on_remove(state, arrays, cache, obj, now, i):
    stack_links, hir_links = arrays
    flags = stack_links[obj, STATUS]
    stack_links[obj, STATUS] = 0
    if flags & LIR:
        s_head, s_tail = unlink(stack_links, state.s_head, state.s_tail, obj)
        state = replace(state, s_head=s_head, s_tail=s_tail, lir_bytes=state.lir_bytes - size_of(cache, obj))
        return _prune(stack_links, hir_links, state)
    # A resident HIR block: never S's bottom while S holds an LIR block, so S needs no pruning.
    q_head, q_tail = unlink(hir_links, state.q_head, state.q_tail, obj)
    s_head, s_tail = state.s_head, state.s_tail
    if flags & IN_STACK:
        s_head, s_tail = unlink(stack_links, s_head, s_tail, obj)
    return replace(state, s_head=s_head, s_tail=s_tail, q_head=q_head, q_tail=q_tail)


@njit(cache=True, nogil=True)
def _replay(run, state, arrays):
    return replay_requests(run, state, arrays, _on_hit, no_op, _evict, _on_insert, _on_remove)


def _init(given: PolicyInput, params: Mapping[str, Any]) -> tuple[LirsState, LirsArrays]:
    capacity = int(given.capacity)
    hir_bytes = max(int(params["hir_ratio"] * capacity), MIN_HIR_BLOCKS)
    hir_bytes = min(hir_bytes, capacity - 1) if capacity > 1 else 1
    mean_size = float(np.mean(given.sizes)) if len(given.sizes) else 1.0
    capacity_objects = max(capacity / max(mean_size, 1.0), 1.0)
    nonresident_limit = int(params["nonresident_ratio"] * capacity_objects)
    zero = np.int64(0)
    state = LirsState(*(NONE,) * 6, lir_bytes=zero, nonresident=zero, lir_limit=np.int64(capacity - hir_bytes),
                      nonresident_limit=np.int64(nonresident_limit))  # fmt: skip
    stack_links = np.zeros((max(given.n_objects, 1), 4), np.int32)
    stack_links[:, :2] = NONE
    return state, LirsArrays(stack_links, new_links(given.n_objects))


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
