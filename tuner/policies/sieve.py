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
middle). Wins on skewed web and key-value traffic, often beating LRU and ARC;
loses on loops that need recency.
"""

from collections.abc import Mapping
from typing import Any

import numpy as np
from numba import njit

from tuner.engine.kernel import no_op, replay_requests
from tuner.policies.base import Policy, PolicyInput
from tuner.policies.linked_list import NONE, new_links, push_head, unlink


@njit(inline="always")
def _on_hit(state, arrays, cached, obj, size, now, i):
    visited = arrays[1]
    visited[obj] = 1
    return state


@njit(inline="always")
def _evict(state, arrays, cached, obj, size, now, i):
    links, visited = arrays
    head, tail, hand = state
    victim = hand if hand >= 0 else tail
    while visited[victim]:
        visited[victim] = 0
        victim = links[victim, 0]
        if victim < 0:
            victim = tail
    hand = links[victim, 0]
    head, tail = unlink(links, head, tail, victim)
    return (head, tail, hand), victim


@njit(inline="always")
def _on_insert(state, arrays, cached, obj, size, now, i):
    links, visited = arrays
    head, tail, hand = state
    visited[obj] = 0
    head, tail = push_head(links, head, tail, obj)
    return (head, tail, hand)


@njit(cache=True, nogil=True)
def _replay(requests, config, state, arrays):
    return replay_requests(requests, config, state, arrays, _on_hit, no_op, _evict, _on_insert)


def _init(given: PolicyInput, params: Mapping[str, Any]) -> tuple[tuple, tuple]:
    visited = np.zeros(max(given.n_objects, 1), np.uint8)
    return (NONE, NONE, NONE), (new_links(given.n_objects), visited)


POLICY = Policy(
    name="sieve",
    summary="Skewed web and key-value traffic: LRU-or-better hit ratios with no work on hits.",
    init=_init,
    replay=_replay,
)
