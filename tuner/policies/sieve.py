"""SIEVE: a FIFO queue, one visited bit, and a hand that stays where it stopped.

Definition (Zhang, Yang, Yue, Vigfusson and Rashmi, "SIEVE is Simpler than
LRU: an Efficient Turn-Key Eviction Algorithm for Web Caches", NSDI 2024;
libCacheSim's ``Sieve``): a new object enters at the head, unvisited; a hit
sets its visited bit and moves nothing. To evict, the hand starts where it
last stopped (at the tail the first time) and walks toward the head, clearing
the visited bits it passes and wrapping to the tail when it falls off the
head; the first unvisited object is evicted and the hand stays at its
predecessor (the next object toward the head). Unlike CLOCK, survivors keep
their place, so new objects are examined before old ones that proved popular.

Residents sit in an intrusive doubly linked list (the victim leaves from the
middle). An object removed without being chosen (a delete, an expiry) is
unlinked; if the hand was on it, the hand moves to its predecessor, just as
after an eviction, so the sweep goes on where it would have.

Wins on skewed web and key-value traffic, often beating LRU and ARC; loses on
loops that need recency.
"""

from collections import namedtuple
from collections.abc import Mapping
from typing import Any

import numpy as np
from numba import njit

from tuner.engine.kernel import no_op, replay_requests
from tuner.engine.named_state import named_state
from tuner.policies.base import Policy, PolicyInput
from tuner.policies.linked_list import NONE, new_links, push_head, unlink

# The queue (newest at the head) and the hand: the next object to examine, NONE for the tail.
Queue, replace = named_state("Queue", ["head", "tail", "hand"])
QueueArrays = namedtuple("QueueArrays", ["links", "visited"])


@njit(inline="always")
def _on_hit(state, arrays, cache, obj, size, now, i):
    arrays.visited[obj] = 1
    return state


@njit(inline="always")
def _on_remove(state, arrays, cache, obj, now, i):
    links = arrays.links
    hand = links[np.uint32(obj), 0] if obj == state.hand else state.hand
    head, tail = unlink(links, state.head, state.tail, obj)
    return replace(state, head=head, tail=tail, hand=hand)


@njit(inline="always")
def _evict(state, arrays, cache, obj, size, now, i):
    links, visited = arrays
    tail = state.tail
    victim = state.hand if state.hand >= 0 else tail
    # Unsigned indices: no negative-index wraparound on the eviction path.
    while visited[np.uint32(victim)]:
        visited[np.uint32(victim)] = 0
        victim = links[np.uint32(victim), 0]
        if victim < 0:
            victim = tail
    # The hand was on the victim: leaving, it moves the hand to its predecessor.
    return _on_remove(replace(state, hand=victim), arrays, cache, victim, now, i), victim


@njit(inline="always")
def _on_insert(state, arrays, cache, obj, size, now, i):
    arrays.visited[obj] = 0
    head, tail = push_head(arrays.links, state.head, state.tail, obj)
    return replace(state, head=head, tail=tail)


@njit(cache=True, nogil=True)
def _replay(run, state, arrays):
    return replay_requests(run, state, arrays, _on_hit, no_op, _evict, _on_insert, _on_remove)


def _init(given: PolicyInput, params: Mapping[str, Any]) -> tuple[Queue, QueueArrays]:
    visited = np.zeros(max(given.n_objects, 1), np.uint8)
    return Queue(NONE, NONE, NONE), QueueArrays(new_links(given.n_objects), visited)


POLICY = Policy(
    name="sieve",
    summary="Skewed web and key-value traffic: LRU-or-better hit ratios with no work on hits.",
    init=_init,
    replay=_replay,
)
