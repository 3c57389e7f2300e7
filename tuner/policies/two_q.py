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

A1in, Am and A1out share one intrusive linked-list array (an id is in at most
one of them), and a per-object byte tells which queue holds it. An object
removed without being chosen (a delete) leaves A1in or Am at once and leaves
no id in A1out, which remembers evictions only. Wins where scans and one-time
objects would flush an LRU, on database buffer pools and block traces.
"""

from collections import namedtuple
from collections.abc import Mapping
from typing import Any

import numpy as np
from numba import njit

from tuner.engine.kernel import replay_requests, size_of
from tuner.engine.named_state import named_state
from tuner.policies.base import Param, Policy, PolicyInput
from tuner.policies.linked_list import NONE, move_to_head, new_links, push_head, unlink

# Which queue holds an object, per object.
ABSENT, IN_A1IN, IN_AM, IN_A1OUT = np.int8(0), np.int8(1), np.int8(2), np.int8(3)

# The three queues' ends, A1in's and A1out's bytes, whether the object being admitted was
# found in A1out, and the target sizes Kin and Kout.
TwoQState, replace = named_state(
    "TwoQState",
    ["in_head", "in_tail", "in_bytes", "am_head", "am_tail", "out_head", "out_tail", "out_bytes",
     "ghost_hit", "kin", "kout"],
)  # fmt: skip
# ``queue[x]`` is where x is, ``links`` the three queues' links, ``ghost_bytes[x]`` the bytes of x in A1out.
TwoQArrays = namedtuple("TwoQArrays", ["queue", "links", "ghost_bytes"])


@njit(inline="always")
def _on_hit(state, arrays, cache, obj, size, now, i):
    if arrays.queue[obj] != IN_AM:
        return state
    am_head, am_tail = move_to_head(arrays.links, state.am_head, state.am_tail, obj)
    return replace(state, am_head=am_head, am_tail=am_tail)


@njit(inline="always")
def _on_miss(state, arrays, cache, obj, size, now, i):
    queue, links, ghost_bytes = arrays
    if queue[obj] != IN_A1OUT:
        return state
    out_head, out_tail = unlink(links, state.out_head, state.out_tail, obj)
    queue[obj] = ABSENT
    return replace(state, out_head=out_head, out_tail=out_tail, out_bytes=state.out_bytes - ghost_bytes[obj],
                   ghost_hit=True)  # fmt: skip


@njit(inline="always")
def _remember_in_a1out(state, arrays, victim, victim_bytes):
    """Put the id of ``victim`` (evicted from A1in) at A1out's head, forgetting A1out's oldest ids beyond Kout."""
    queue, links, ghost_bytes = arrays
    kout = state.kout
    if victim_bytes > kout:
        return state
    out_head, out_tail, out_bytes = state.out_head, state.out_tail, state.out_bytes
    while out_bytes + victim_bytes > kout:
        oldest = out_tail
        out_head, out_tail = unlink(links, out_head, out_tail, oldest)
        out_bytes -= ghost_bytes[oldest]
        queue[oldest] = ABSENT
    out_head, out_tail = push_head(links, out_head, out_tail, victim)
    ghost_bytes[victim] = victim_bytes
    queue[victim] = IN_A1OUT
    return replace(state, out_head=out_head, out_tail=out_tail, out_bytes=out_bytes + victim_bytes)


@njit(inline="always")
def _evict(state, arrays, cache, obj, size, now, i):
    queue, links, _ = arrays
    # A1in gives the victim above Kin, and when Am is empty (A1in then holds every resident).
    if state.in_bytes <= state.kin and state.am_tail >= 0:
        victim = state.am_tail
        am_head, am_tail = unlink(links, state.am_head, state.am_tail, victim)
        queue[victim] = ABSENT
        return replace(state, am_head=am_head, am_tail=am_tail), victim
    victim = state.in_tail
    victim_bytes = size_of(cache, victim)
    in_head, in_tail = unlink(links, state.in_head, state.in_tail, victim)
    queue[victim] = ABSENT
    state = replace(state, in_head=in_head, in_tail=in_tail, in_bytes=state.in_bytes - victim_bytes)
    return _remember_in_a1out(state, arrays, victim, victim_bytes), victim


@njit(inline="always")
def _on_insert(state, arrays, cache, obj, size, now, i):
    queue, links, _ = arrays
    if state.ghost_hit:
        am_head, am_tail = push_head(links, state.am_head, state.am_tail, obj)
        queue[obj] = IN_AM
        return replace(state, am_head=am_head, am_tail=am_tail, ghost_hit=False)
    in_head, in_tail = push_head(links, state.in_head, state.in_tail, obj)
    queue[obj] = IN_A1IN
    return replace(state, in_head=in_head, in_tail=in_tail, in_bytes=state.in_bytes + size)


@njit(inline="always")
def _on_remove(state, arrays, cache, obj, now, i):
    queue, links, _ = arrays
    if queue[obj] == IN_A1IN:
        in_head, in_tail = unlink(links, state.in_head, state.in_tail, obj)
        queue[obj] = ABSENT
        return replace(state, in_head=in_head, in_tail=in_tail, in_bytes=state.in_bytes - size_of(cache, obj))
    am_head, am_tail = unlink(links, state.am_head, state.am_tail, obj)
    queue[obj] = ABSENT
    return replace(state, am_head=am_head, am_tail=am_tail)


@njit(cache=True, nogil=True)
def _replay(run, state, arrays):
    return replay_requests(run, state, arrays, _on_hit, _on_miss, _evict, _on_insert, _on_remove)


def _init(given: PolicyInput, params: Mapping[str, Any]) -> tuple[TwoQState, TwoQArrays]:
    zero = np.int64(0)
    state = TwoQState(
        in_head=NONE, in_tail=NONE, in_bytes=zero, am_head=NONE, am_tail=NONE,
        out_head=NONE, out_tail=NONE, out_bytes=zero, ghost_hit=False,
        kin=np.int64(given.capacity * params["kin_ratio"]), kout=np.int64(given.capacity * params["kout_ratio"]),
    )  # fmt: skip
    n = max(given.n_objects, 1)
    return state, TwoQArrays(np.zeros(n, np.int8), new_links(given.n_objects), np.zeros(n, np.int64))


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
