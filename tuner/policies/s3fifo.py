"""S3-FIFO: a small probation FIFO, a main FIFO with reinsertion, and a ghost FIFO.

Definition (Yang, Zhang, Qiu, Yue and Rashmi, "FIFO queues are all you need
for cache eviction", SOSP 2023), with libCacheSim's ``S3FIFO`` defaults
``small-size-ratio=0.10, ghost-size-ratio=0.90, move-to-main-threshold=2``:

- S, a FIFO of ``int(small_ratio * C)`` bytes; M, a FIFO of the rest; G, a
  FIFO of ids only (no data), ``int(ghost_ratio * C)`` bytes of the evicted
  objects' sizes. ``C`` is the capacity in the trace's size unit.
- A hit counts one more access (``freq += 1``) wherever the object is.
- A miss on an id in G removes it from G and inserts the object into M;
  any other miss inserts into S. New objects start with ``freq = 0``.
- To evict: if M holds more than its share, or S is empty, evict from M,
  else from S.
- From S: the tail moves to M's head (with ``freq = 0``) if its
  ``freq >= move_threshold``; otherwise it is evicted and its id enters G
  (G drops its own oldest ids to make room). Repeat until one is evicted;
  if S empties first, evict from M.
- From M: a tail with ``freq >= 1`` is reinserted at the head with
  ``freq = min(freq, 3) - 1`` (a 2-bit CLOCK); the first with ``freq = 0`` is
  evicted.
- Admission at byte capacities, as libCacheSim implements it (S3FIFO.c,
  libcachesim 0.3.5): a missed object's id leaves G first, whatever follows
  (``S3FIFO_find``). An object larger than S is refused at once
  (``S3FIFO_can_insert``: ``obj_size <= small_fifo->cache_size``, ghost or
  not). One exactly as large as S passes that check, so ``cache_get_base``
  (cache/cache.c) evicts until it fits; then ``S3FIFO_insert`` puts it in M
  if its id was in G and otherwise refuses it (``obj_size >=
  small_fifo->cache_size``: it would flush S at once). A refused object is a
  miss and is counted as rejected; the victims evicted before its refusal
  stay evicted.

These are the exact counts of libCacheSim's S3FIFO.c as its own tests pin
them. Two places differ from libcachesim 0.3.5, on purpose:

- Warm-up: libcachesim 0.3.5 sends new objects to M while S is full before
  the first eviction (``S3FIFO_insert``: ``!has_evicted`` and S full); this
  module does not (the S3FIFO rows of expected.csv, from libCacheSim's older
  S3FIFO.c and an independent model, let S overfill until the first
  eviction). On tests/test_libcachesim_bytes.py's trace that leaves 0.2-0.4 %
  more misses than libcachesim 0.3.5; with the warm-up rule a plain model
  matches it exactly.
- At object capacities the size rule is not applied. Every object is one
  unit, so it would refuse them all only where S holds fewer than two
  objects (C < 20), where libCacheSim caches nothing (and aborts at S = 0);
  there this module keeps the paper's queues. At byte capacities it applies
  as written: a cache whose S is 0 bytes (C < 10) stores nothing.

S, M and G are ring buffers of ids. An id leaves a ring's middle in O(1) by
forgetting its slot (``slots[id, SLOT] = -1``: a ghost hit leaves G, a delete
leaves S or M); the dead entry is skipped when the ring's tail reaches it, or
dropped when the ring is full and compacted (each ring has room for twice the
ids it can hold, so that runs at most once per that many inserts). A removed
object leaves its FIFO and its byte count and never enters G. ``freq``
saturates at ``max(3, move_threshold)``, which changes no decision.
Wins on skewed traffic with many one-hit wonders (web, CDN, key-value).
"""

from collections import namedtuple
from collections.abc import Mapping
from typing import Any

import numpy as np
from numba import njit
from numba.extending import register_jitable

from tuner.engine.kernel import counts_objects, no_op, release, replay_requests, size_of
from tuner.engine.named_state import named_state
from tuner.errors import CachetuneError
from tuner.policies.base import Param, Policy, PolicyInput

# Access counts are int8 and saturate; a threshold above this could never be met.
MAX_FREQ = 127
DEAD = np.int64(-1)
# Each ring's head slot (the next to fill), tail slot (the oldest entry) and bytes; M's live
# objects (its ring may hold only dead entries); whether the object being admitted was a ghost
# hit; then constants (S's, M's and G's shares of the capacity, ...), among them where M's and G's
# slots start in the one slot numbering.
Queues, replace = named_state(
    "Queues",
    ["s_head", "s_tail", "s_bytes", "m_head", "m_tail", "m_bytes", "m_objects",
     "g_head", "g_tail", "g_bytes", "ghost_hit", "s_cap", "m_cap", "g_cap", "move_threshold", "freq_cap",
     "m_offset", "g_offset"],
)  # fmt: skip
# The three rings; per object its row of ``slots`` (below) and its access count.
QueueArrays = namedtuple("QueueArrays", ["small", "main", "ghost", "slots", "freq"])
# Columns of ``slots``: an object's live slot, numbered across S, M and G in turn (-1 in none: an
# object is in one ring at most), and the bytes it stands for as a ghost. One 16-byte row, so a
# request touches one cache line of it.
SLOT, GHOST_BYTES = 0, 1


@njit(inline="always")
def _next(ring, slot):
    return 0 if slot + 1 == ring.shape[0] else slot + 1


@njit(cache=True, nogil=True)
def _compact(ring, slots, head, tail, offset):
    """Move a ring's live entries to its front, oldest first; returns the new ``(head, tail)``.

    ``offset`` is where the ring's slots start in ``slots``' numbering.
    """
    live = np.empty(ring.shape[0], np.int32)
    kept = 0
    while tail != head:
        obj = ring[tail]
        if slots[obj, SLOT] == tail + offset:
            live[kept] = obj
            kept += 1
        tail = _next(ring, tail)
    for slot in range(kept):
        ring[slot] = live[slot]
        slots[live[slot], SLOT] = slot + offset
    return np.int64(kept), np.int64(0)


@njit(inline="always")
def _push(ring, slots, head, tail, offset, obj):
    """Append ``obj`` at a ring's head (compacting a full ring first); returns the new ``(head, tail)``."""
    if _next(ring, head) == tail:
        head, tail = _compact(ring, slots, head, tail, offset)
    ring[head] = obj
    slots[obj, SLOT] = head + offset
    return _next(ring, head), tail


@njit(inline="always")
def _on_hit(state, arrays, cache, obj, size, now, i):
    freq = arrays.freq
    if freq[obj] < state.freq_cap:
        freq[obj] += 1
    return state


@njit(inline="always")
def _evict(state, arrays, cache, obj, size, now, i):
    small, main, ghost, slots, freq = arrays
    m_offset, g_offset = state.m_offset, state.g_offset
    s_head, s_tail, s_bytes = state.s_head, state.s_tail, state.s_bytes
    m_head, m_tail, m_bytes, m_objects = state.m_head, state.m_tail, state.m_bytes, state.m_objects
    g_head, g_tail, g_bytes, g_cap = state.g_head, state.g_tail, state.g_bytes, state.g_cap
    chosen = -1  # the victim, once found
    if (m_bytes <= state.m_cap and s_bytes > 0) or m_objects == 0:
        while s_head != s_tail:
            victim, slot = small[s_tail], s_tail
            s_tail = _next(small, s_tail)
            if slots[victim, SLOT] != slot:
                continue
            slots[victim, SLOT] = DEAD
            victim_bytes = size_of(cache, victim)
            s_bytes -= victim_bytes
            if freq[victim] >= state.move_threshold:
                freq[victim] = 0
                m_head, m_tail = _push(main, slots, m_head, m_tail, m_offset, victim)
                m_bytes += victim_bytes
                m_objects += 1
                continue
            if victim_bytes <= g_cap:
                while g_bytes + victim_bytes > g_cap:
                    oldest, slot = ghost[g_tail], g_tail + g_offset
                    g_tail = _next(ghost, g_tail)
                    if slots[oldest, SLOT] == slot:
                        slots[oldest, SLOT] = DEAD
                        g_bytes -= slots[oldest, GHOST_BYTES]
                g_head, g_tail = _push(ghost, slots, g_head, g_tail, g_offset, victim)
                slots[victim, GHOST_BYTES] = victim_bytes
                g_bytes += victim_bytes
            chosen = victim
            break
    while chosen < 0:
        victim, slot = main[m_tail], m_tail + m_offset
        m_tail = _next(main, m_tail)
        if slots[victim, SLOT] != slot:
            continue
        seen = freq[victim]
        if seen == 0:
            slots[victim, SLOT] = DEAD
            m_bytes -= size_of(cache, victim)
            m_objects -= 1
            chosen = victim
        else:
            freq[victim] = min(seen, 3) - 1
            m_head, m_tail = _push(main, slots, m_head, m_tail, m_offset, victim)
    moved = replace(state, s_head=s_head, s_tail=s_tail, s_bytes=s_bytes, m_head=m_head, m_tail=m_tail,
                    m_bytes=m_bytes, m_objects=m_objects, g_head=g_head, g_tail=g_tail, g_bytes=g_bytes)  # fmt: skip
    return moved, chosen


@register_jitable(inline="always")
def _admit(state, arrays, cache, obj, size, now, i):
    """libCacheSim's order on a miss: the id leaves G (``S3FIFO_find``), then an object larger than S
    is refused (``S3FIFO_can_insert``), and one as large as S that was not in G is refused after the
    evictions that make room for it (``cache_get_base`` evicts, then ``S3FIFO_insert`` refuses).

    ``register_jitable``, not ``njit``: the loop passes ``admit`` through an overload that is not
    inlined, and a dispatcher passed there is a dynamic global, which keeps numba from caching
    ``_replay`` on disk (a NumbaWarning at every compile); a jitable function's type is a constant."""
    slots = arrays.slots
    ghost_hit = slots[obj, SLOT] >= state.g_offset
    if ghost_hit:
        slots[obj, SLOT] = DEAD
        state = replace(state, g_bytes=state.g_bytes - slots[obj, GHOST_BYTES])
    if counts_objects(cache.held) or size < state.s_cap or (size == state.s_cap and ghost_hit):
        return replace(state, ghost_hit=ghost_hit), True
    if size == state.s_cap:
        while state.s_bytes + state.m_bytes + size > state.s_cap + state.m_cap:
            state, victim = _evict(state, arrays, cache, obj, size, now, i)
            release(cache, victim)
    return replace(state, ghost_hit=False), False


@njit(inline="always")
def _on_insert(state, arrays, cache, obj, size, now, i):
    arrays.freq[obj] = 0
    if state.ghost_hit:
        m_head, m_tail = _push(arrays.main, arrays.slots, state.m_head, state.m_tail, state.m_offset, obj)
        return replace(state, m_head=m_head, m_tail=m_tail, m_bytes=state.m_bytes + size,
                       m_objects=state.m_objects + 1, ghost_hit=False)  # fmt: skip
    s_head, s_tail = _push(arrays.small, arrays.slots, state.s_head, state.s_tail, 0, obj)
    return replace(state, s_head=s_head, s_tail=s_tail, s_bytes=state.s_bytes + size)


@njit(inline="always")
def _on_remove(state, arrays, cache, obj, now, i):
    """Leave a dead entry in S or M (a resident is never in G) and take the object off that ring's bytes."""
    slots = arrays.slots
    held = size_of(cache, obj)
    in_small = slots[obj, SLOT] < state.m_offset
    slots[obj, SLOT] = DEAD
    if in_small:
        return replace(state, s_bytes=state.s_bytes - held)
    return replace(state, m_bytes=state.m_bytes - held, m_objects=state.m_objects - 1)


@njit(cache=True, nogil=True)
def _replay(run, state, arrays):
    return replay_requests(run, state, arrays, _on_hit, no_op, _evict, _on_insert, _on_remove, hooks_release=True,
                           admit=_admit)  # fmt: skip


def _most_ghosts(sizes: np.ndarray, n_objects: int, ghost_capacity: int) -> int:
    """How many ids G can hold at once: its bytes over the smallest size, and never more than the objects."""
    smallest = int(sizes.min()) if len(sizes) else 1
    return n_objects if smallest <= 0 else min(n_objects, ghost_capacity // smallest + 1)


def _init(given: PolicyInput, params: Mapping[str, Any]) -> tuple[Queues, QueueArrays]:
    capacity = given.capacity
    s_cap = int(capacity * params["small_ratio"])
    g_cap = int(capacity * params["ghost_ratio"])
    threshold = int(params["move_threshold"])
    if threshold > MAX_FREQ:
        raise CachetuneError(f"move_threshold must be at most {MAX_FREQ}, got {threshold}")
    n = max(given.n_objects, 1)
    zero = np.int64(0)
    ring_slots = 2 * n + 1  # half for live ids, half for dead ones
    ghost_slots = 2 * _most_ghosts(given.sizes, n, g_cap) + 2
    state = Queues(
        *(zero,) * 10,
        False,
        np.int64(s_cap),
        np.int64(capacity - s_cap),
        np.int64(g_cap),
        np.int8(threshold),
        np.int8(max(3, threshold)),
        np.int64(ring_slots),
        np.int64(2 * ring_slots),
    )
    slots = np.zeros((n, 2), np.int64)
    slots[:, SLOT] = DEAD
    rings = (np.empty(ring_slots, np.int32), np.empty(ring_slots, np.int32), np.empty(ghost_slots, np.int32))
    return state, QueueArrays(*rings, slots, np.zeros(n, np.int8))


POLICY = Policy(
    name="s3fifo",
    summary="Skewed traffic full of one-hit wonders (web, CDN, key-value): quick demotion wins.",
    init=_init,
    replay=_replay,
    params=(
        Param("small_ratio", 0.10, 0.01, 0.50, "share of the capacity for the small probation FIFO", most=1.0),
        Param("ghost_ratio", 0.90, 0.0, 3.0, "ghost FIFO size (ids of recent evictions) as a share of the capacity"),
        Param("move_threshold", 2, 1, 4, "accesses in the small FIFO that earn promotion to the main FIFO"),
    ),
)
