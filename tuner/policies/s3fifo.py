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

These are the exact counts of libCacheSim's S3FIFO.c as its own tests pin
them. Two places differ, on purpose: later libCacheSim versions (the
``libcachesim`` 0.3.5 bindings among them) send new objects to M while S is
full before the first eviction, which this module does not; and libCacheSim
refuses objects at least as large as S, while cachetune's core admits
every object that fits the cache (it enters S and leaves it at once).

S, M and G are ring buffers of ids (objects only leave S and M from their
tails). A ghost hit takes an id out of G's middle in O(1) by forgetting its
slot (``ghost_slot_of[id] = -1``); the dead entry is skipped when G's tail
reaches it, or dropped when the ring is full and compacted. ``freq``
saturates at ``max(3, move_threshold)``, which changes no decision.
Wins on skewed traffic with many one-hit wonders (web, CDN, key-value).
"""

from collections.abc import Mapping
from typing import Any

import numpy as np
from numba import njit

from tuner.engine.kernel import replay_requests
from tuner.policies.base import Param, Policy, PolicyInput

# Access counts are int8 and saturate; a threshold above this could never be met.
MAX_FREQ = 127
# state = (S head, S tail, S bytes, M head, M tail, M bytes, G head, G tail,
#          G bytes, ghost hit?) followed by these constants:
M_CAP, G_CAP, MOVE_THRESHOLD, FREQ_CAP = 10, 11, 12, 13
# arrays = (S ring, M ring, freq per object, G ring of ids, G ring of bytes, G slot per object)
FREQ = 2


@njit(inline="always")
def _push(ring, head, obj):
    """Append ``obj`` at a ring buffer's head slot; returns the next head slot."""
    ring[head] = obj
    head += 1
    return 0 if head == ring.shape[0] else head


@njit(inline="always")
def _pop(ring, tail):
    """The id at a ring buffer's tail slot and the next tail slot."""
    obj = ring[tail]
    tail += 1
    return obj, (0 if tail == ring.shape[0] else tail)


@njit(cache=True, nogil=True)
def _compact_ghost(ring, ring_bytes, slot_of, head, tail):
    """Drop the ring's dead entries (ids that left G by a ghost hit); returns the new ``(head, tail)``.

    Entries die in place so that a ghost hit costs O(1); the ring has room for
    twice the ids G can hold, so this runs at most once per ``n_objects`` inserts.
    """
    live_ids = np.empty(ring.shape[0], np.int32)
    live_bytes = np.empty(ring.shape[0], np.int64)
    kept = 0
    while tail != head:
        obj = ring[tail]
        if slot_of[obj] == tail:
            live_ids[kept] = obj
            live_bytes[kept] = ring_bytes[tail]
            kept += 1
        tail = 0 if tail + 1 == ring.shape[0] else tail + 1
    for slot in range(kept):
        ring[slot] = live_ids[slot]
        ring_bytes[slot] = live_bytes[slot]
        slot_of[live_ids[slot]] = slot
    return np.int64(kept), np.int64(0)


@njit(inline="always")
def _on_hit(state, arrays, cached, obj, size, now, i):
    freq = arrays[FREQ]
    if freq[obj] < state[FREQ_CAP]:
        freq[obj] += 1
    return state


@njit(inline="always")
def _on_miss(state, arrays, cached, obj, size, now, i):
    ghost_bytes, ghost_slot_of = arrays[4], arrays[5]
    slot = ghost_slot_of[obj]
    if slot < 0:
        return state
    ghost_slot_of[obj] = -1
    return (*state[:8], state[8] - ghost_bytes[slot], True, *state[10:])


@njit(inline="always")
def _evict(state, arrays, cached, obj, size, now, i):
    small, main, freq, ghost, ghost_bytes, ghost_slot_of = arrays
    s_head, s_tail, s_bytes, m_head, m_tail, m_bytes, g_head, g_tail, g_bytes = state[:9]
    m_cap, g_cap, move_threshold = state[M_CAP], state[G_CAP], state[MOVE_THRESHOLD]
    if (m_bytes <= m_cap and s_bytes > 0) or m_head == m_tail:
        while s_head != s_tail:
            victim, s_tail = _pop(small, s_tail)
            victim_bytes = cached[victim]
            s_bytes -= victim_bytes
            if freq[victim] >= move_threshold:
                freq[victim] = 0
                m_head = _push(main, m_head, victim)
                m_bytes += victim_bytes
                continue
            if victim_bytes <= g_cap:
                while g_bytes + victim_bytes > g_cap:
                    oldest, slot = ghost[g_tail], g_tail
                    g_tail = 0 if g_tail + 1 == ghost.shape[0] else g_tail + 1
                    if ghost_slot_of[oldest] == slot:
                        ghost_slot_of[oldest] = -1
                        g_bytes -= ghost_bytes[slot]
                if (0 if g_head + 1 == ghost.shape[0] else g_head + 1) == g_tail:
                    g_head, g_tail = _compact_ghost(ghost, ghost_bytes, ghost_slot_of, g_head, g_tail)
                ghost[g_head] = victim
                ghost_bytes[g_head] = victim_bytes
                ghost_slot_of[victim] = g_head
                g_head = 0 if g_head + 1 == ghost.shape[0] else g_head + 1
                g_bytes += victim_bytes
            return (s_head, s_tail, s_bytes, m_head, m_tail, m_bytes, g_head, g_tail, g_bytes, *state[9:]), victim
    while True:
        victim, m_tail = _pop(main, m_tail)
        seen = freq[victim]
        if seen == 0:
            m_bytes -= cached[victim]
            return (s_head, s_tail, s_bytes, m_head, m_tail, m_bytes, g_head, g_tail, g_bytes, *state[9:]), victim
        freq[victim] = min(seen, 3) - 1
        m_head = _push(main, m_head, victim)


@njit(inline="always")
def _on_insert(state, arrays, cached, obj, size, now, i):
    small, main, freq = arrays[:3]
    s_head, s_tail, s_bytes, m_head, m_tail, m_bytes = state[:6]
    freq[obj] = 0
    if state[9]:
        m_head = _push(main, m_head, obj)
        m_bytes += size
    else:
        s_head = _push(small, s_head, obj)
        s_bytes += size
    return (s_head, s_tail, s_bytes, m_head, m_tail, m_bytes, *state[6:9], False, *state[10:])


@njit(cache=True, nogil=True)
def _replay(requests, config, state, arrays):
    return replay_requests(requests, config, state, arrays, _on_hit, _on_miss, _evict, _on_insert)


def _most_ghosts(sizes: np.ndarray, n_objects: int, ghost_capacity: int) -> int:
    """How many ids G can hold at once: its bytes over the smallest size, and never more than the objects."""
    smallest = int(sizes.min()) if len(sizes) else 1
    return n_objects if smallest <= 0 else min(n_objects, ghost_capacity // smallest + 1)


def _init(given: PolicyInput, params: Mapping[str, Any]) -> tuple[tuple, tuple]:
    capacity = given.capacity
    s_cap = int(capacity * params["small_ratio"])
    g_cap = int(capacity * params["ghost_ratio"])
    threshold = int(params["move_threshold"])
    if threshold > MAX_FREQ:
        raise ValueError(f"move_threshold must be at most {MAX_FREQ}, got {threshold}")
    n = max(given.n_objects, 1)
    zero = np.int64(0)
    state = (
        *(zero, zero, zero),  # S: head slot, tail slot, bytes
        *(zero, zero, zero),  # M: head slot, tail slot, bytes
        *(zero, zero, zero),  # G: head slot, tail slot, bytes
        False,  # the object being admitted was a ghost hit
        np.int64(capacity - s_cap),
        np.int64(g_cap),
        np.int8(threshold),
        np.int8(max(3, threshold)),
    )
    ghost_slots = 2 * _most_ghosts(given.sizes, n, g_cap) + 2  # half for live ids, half for dead ones
    arrays = (
        np.empty(n + 1, np.int32),
        np.empty(n + 1, np.int32),
        np.zeros(n, np.int8),
        np.empty(ghost_slots, np.int32),
        np.empty(ghost_slots, np.int64),
        np.full(n, -1, np.int32),
    )
    return state, arrays


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
