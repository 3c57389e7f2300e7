"""Hand-written LRU and FIFO replays: the ceiling the shared request loop is measured against.

Each is the least a compiled replay of one policy can do: one loop over dense
ids, the policy's links in local arrays, head and tail in local variables, a
residency flag, hits counted and nothing else. No hook, no statistics beyond
hits, no timeline. ``bench_throughput.py --ceiling`` prints the shared loop's
speed as a share of these on the same trace in the same run.
"""

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def lru_hits(ids, n_objects, capacity):
    """Hits of an LRU cache of ``capacity`` objects: a doubly linked recency list over dense ids."""
    prev = np.full(n_objects, -1, np.int32)
    nxt = np.full(n_objects, -1, np.int32)
    resident = np.zeros(n_objects, np.bool_)
    head = -1
    tail = -1
    used = 0
    hits = 0
    for i in range(ids.shape[0]):
        obj = ids[i]
        if resident[obj]:
            hits += 1
            if obj == head:
                continue
            before, after = prev[obj], nxt[obj]
            nxt[before] = after
            if after >= 0:
                prev[after] = before
            else:
                tail = before
        else:
            if used == capacity:
                victim = tail
                tail = prev[victim]
                if tail >= 0:
                    nxt[tail] = -1
                else:
                    head = -1
                resident[victim] = False
            else:
                used += 1
            resident[obj] = True
        prev[obj] = -1
        nxt[obj] = head
        if head >= 0:
            prev[head] = obj
        else:
            tail = obj
        head = obj
    return hits


@njit(cache=True, nogil=True)
def fifo_hits(ids, n_objects, capacity):
    """Hits of a FIFO cache of ``capacity`` objects: a ring of ids in insertion order."""
    ring = np.empty(capacity, np.int32)
    resident = np.zeros(n_objects, np.bool_)
    head = 0
    used = 0
    hits = 0
    for i in range(ids.shape[0]):
        obj = ids[i]
        if resident[obj]:
            hits += 1
            continue
        if used == capacity:
            resident[ring[head]] = False
        else:
            used += 1
        ring[head] = obj
        resident[obj] = True
        head += 1
        if head == capacity:
            head = 0
    return hits
