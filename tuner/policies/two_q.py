"""2Q: a FIFO for first-time objects, a ghost FIFO of their ids, and an LRU for proven ones.

Definition (Johnson and Shasha, "2Q: A Low Overhead High Performance Buffer
Management Replacement Algorithm", VLDB 1994, the full version with A1in,
A1out and Am),
with libCacheSim's ``TwoQ`` defaults ``Ain-size-ratio=0.25,
Aout-size-ratio=0.5``:

- A1in, a FIFO of new objects with target size ``Kin = int(kin_ratio * C)``;
  A1out, a FIFO of ids only (no data) of ``Kout = int(kout_ratio * C)``;
  Am, an LRU of the rest. ``C`` is the capacity in the trace's size unit.
- A hit in Am moves the object to Am's head; a hit in A1in changes nothing
  (correlated references are not evidence of reuse).
- A miss on an id in A1out removes it there and inserts the object at Am's
  head; any other miss inserts it at A1in's head.
- To make room: if A1in holds more than Kin, its tail is evicted and its id
  enters A1out (which drops its own oldest ids beyond Kout); otherwise Am's
  LRU tail is evicted (and forgotten). With Am empty, A1in gives the victim.

libCacheSim differs in two places: it gives Am its own capacity ``C - Kin``
and evicts from Am before a ghost hit enters it even when the cache has free
room (the paper uses free room first, as here), and it refuses objects
larger than Kin (cachetune's core admits anything that fits the cache).
Neither matters at unit sizes once A1in has filled (it never shrinks below
Kin again): the miss counts equal libCacheSim's on every ``TwoQ`` row of the
shared expected.csv (LIRS, OLTP and Scarab traces).

A1in is a ring buffer (objects leave only from its tail); Am and A1out share
one intrusive linked-list array (an id is in at most one of them), and a
per-object byte tells which queue holds it. Wins where scans and one-time
objects would flush an LRU, on database buffer pools and block traces.
"""

from collections.abc import Mapping
from typing import Any

import numpy as np
from numba import njit

from tuner.engine.kernel import replay_requests
from tuner.policies.base import Param, Policy, PolicyInput
from tuner.policies.linked_list import NONE, move_to_head, new_links, push_head, unlink

# Which queue holds an object, per object.
ABSENT, IN_A1IN, IN_AM, IN_A1OUT = np.int8(0), np.int8(1), np.int8(2), np.int8(3)
# state = (A1in head slot, A1in tail slot, A1in bytes, Am head, Am tail,
#          A1out head, A1out tail, A1out bytes, ghost hit?, Kin, Kout)
KIN, KOUT = 9, 10


@njit(inline="always")
def _on_hit(state, arrays, cached, obj, size, now, i):
    _, queue, links, _ = arrays
    if queue[obj] != IN_AM:
        return state
    am_head, am_tail = move_to_head(links, state[3], state[4], obj)
    return (*state[:3], am_head, am_tail, *state[5:])


@njit(inline="always")
def _on_miss(state, arrays, cached, obj, size, now, i):
    _, queue, links, ghost_bytes = arrays
    if queue[obj] != IN_A1OUT:
        return state
    out_head, out_tail = unlink(links, state[5], state[6], obj)
    queue[obj] = ABSENT
    return (*state[:5], out_head, out_tail, state[7] - ghost_bytes[obj], True, *state[9:])


@njit(inline="always")
def _evict(state, arrays, cached, obj, size, now, i):
    a1in, queue, links, ghost_bytes = arrays
    in_head, in_tail, in_bytes, am_head, am_tail, out_head, out_tail, out_bytes = state[:8]
    kin, kout = state[KIN], state[KOUT]
    if in_bytes > kin or (am_tail < 0 and in_head != in_tail):
        victim = a1in[in_tail]
        in_tail += 1
        if in_tail == a1in.shape[0]:
            in_tail = 0
        victim_bytes = cached[victim]
        in_bytes -= victim_bytes
        queue[victim] = ABSENT
        if victim_bytes <= kout:
            while out_bytes + victim_bytes > kout:
                oldest = out_tail
                out_head, out_tail = unlink(links, out_head, out_tail, oldest)
                out_bytes -= ghost_bytes[oldest]
                queue[oldest] = ABSENT
            out_head, out_tail = push_head(links, out_head, out_tail, victim)
            ghost_bytes[victim] = victim_bytes
            out_bytes += victim_bytes
            queue[victim] = IN_A1OUT
    else:
        victim = am_tail
        am_head, am_tail = unlink(links, am_head, am_tail, victim)
        queue[victim] = ABSENT
    return (in_head, in_tail, in_bytes, am_head, am_tail, out_head, out_tail, out_bytes, *state[8:]), victim


@njit(inline="always")
def _on_insert(state, arrays, cached, obj, size, now, i):
    a1in, queue, links, _ = arrays
    in_head, in_tail, in_bytes, am_head, am_tail = state[:5]
    if state[8]:
        am_head, am_tail = push_head(links, am_head, am_tail, obj)
        queue[obj] = IN_AM
    else:
        a1in[in_head] = obj
        in_head += 1
        if in_head == a1in.shape[0]:
            in_head = 0
        in_bytes += size
        queue[obj] = IN_A1IN
    return (in_head, in_tail, in_bytes, am_head, am_tail, *state[5:8], False, *state[9:])


@njit(cache=True, nogil=True)
def _replay(requests, config, state, arrays):
    return replay_requests(requests, config, state, arrays, _on_hit, _on_miss, _evict, _on_insert)


def _init(given: PolicyInput, params: Mapping[str, Any]) -> tuple[tuple, tuple]:
    zero = np.int64(0)
    state = (
        *(zero, zero, zero),  # A1in: head slot, tail slot, bytes
        *(NONE, NONE),  # Am: head id, tail id
        *(NONE, NONE, zero),  # A1out: head id, tail id, bytes
        False,  # the object being admitted was found in A1out
        np.int64(given.capacity * params["kin_ratio"]),
        np.int64(given.capacity * params["kout_ratio"]),
    )
    n = max(given.n_objects, 1)
    arrays = (
        np.empty(given.n_objects + 1, np.int32),
        np.zeros(n, np.int8),
        new_links(given.n_objects),
        np.zeros(n, np.int64),
    )
    return state, arrays


POLICY = Policy(
    name="2q",
    summary="Scan-resistant LRU: one-time objects pass through a small FIFO; database and block traces.",
    init=_init,
    replay=_replay,
    params=(
        Param(
            "kin_ratio",
            0.25,
            0.01,
            0.75,
            "share of the capacity A1in (first-time objects) may hold before it yields",
            most=1.0,
        ),
        Param("kout_ratio", 0.50, 0.0, 3.0, "A1out size (ids of objects evicted from A1in) as a share of the capacity"),
    ),
)
