"""Hand-written LRU and FIFO replays: the ceiling the shared request loop is measured against.

Each is the least a compiled replay of one policy can do: one loop over dense
ids, the policy's links in local arrays, head and tail in local variables, a
residency flag, hits counted and nothing else. No hook, no statistics beyond
hits, no timeline. Every index is unsigned (``np.uint32``/``np.uint64``), as
in the shared loop: numba checks each signed index for a negative value, and
dropping those checks alone made these loops 20-40 % faster here, so a signed
ceiling would flatter the shared loop. ``bench_throughput.py`` prints the
shared loop's speed as a share of these on the same trace in the same run.
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
        obj = np.uint32(ids[np.uint64(i)])
        if resident[obj]:
            hits += 1
            if obj == head:
                continue
            before, after = prev[obj], nxt[obj]
            nxt[np.uint32(before)] = after
            if after >= 0:
                prev[np.uint32(after)] = before
            else:
                tail = before
        else:
            if used == capacity:
                victim = np.uint32(tail)
                tail = prev[victim]
                if tail >= 0:
                    nxt[np.uint32(tail)] = -1
                else:
                    head = -1
                resident[victim] = False
            else:
                used += 1
            resident[obj] = True
        prev[obj] = -1
        nxt[obj] = head
        if head >= 0:
            prev[np.uint32(head)] = obj
        else:
            tail = obj
        head = obj
    return hits


@njit(cache=True, nogil=True)
def fifo_hits(ids, n_objects, capacity):
    """Hits of a FIFO cache of ``capacity`` objects: a ring of ids in insertion order."""
    ring = np.empty(capacity, np.int32)
    resident = np.zeros(n_objects, np.bool_)
    head = np.uint64(0)
    used = 0
    hits = 0
    for i in range(ids.shape[0]):
        obj = np.uint32(ids[np.uint64(i)])
        if resident[obj]:
            hits += 1
            continue
        if used == capacity:
            resident[np.uint32(ring[head])] = False
        else:
            used += 1
        ring[head] = obj
        resident[obj] = True
        head += np.uint64(1)
        if head == capacity:
            head = np.uint64(0)
    return hits
