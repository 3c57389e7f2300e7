"""Recency-biased requests: the LRU stack model.

With probability ``reuse`` a request re-references an object already seen, at
an LRU stack distance drawn from a heavy-tailed (Pareto) law with tail index
``shape``: most re-references are to very recent objects, a few reach far
back. Otherwise it asks for a cold object: one never seen, or once all
``objects`` were seen, the least recently used. The stack is exact (a Fenwick
tree over last-access times finds the object at any depth in O(log n)), so
LRU's hit ratio at size C is about ``reuse`` * P(distance < C).
"""

import numpy as np
from numba import njit

from tuner.errors import WorkloadError
from tuner.workloads.base import Generator, Option


@njit(cache=True)
def _stack_model(reused, distances, objects):
    n = reused.shape[0]
    keys = np.empty(n, np.int64)
    tree = np.zeros(n + 1, np.int64)  # 1 at each seen object's last-access time (1-based)
    owner = np.empty(n + 1, np.int64)  # object whose last access is at that time
    last = np.zeros(objects, np.int64)  # 0: never seen
    top_bit = 1
    while top_bit * 2 <= n:
        top_bit *= 2
    seen = 0
    for i in range(n):
        if (reused[i] and seen > 0) or seen == objects:
            # The object at stack depth d is the (seen - d)-th oldest.
            rank = seen - min(distances[i], seen - 1) if reused[i] else 1
            position, step = 0, top_bit
            while step > 0:
                if position + step <= n and tree[position + step] < rank:
                    position += step
                    rank -= tree[position]
                step //= 2
            key = owner[position + 1]
            j = last[key]
            while j <= n:
                tree[j] -= 1
                j += j & -j
        else:
            key = seen
            seen += 1
        time = i + 1
        last[key] = time
        owner[time] = key
        j = time
        while j <= n:
            tree[j] += 1
            j += j & -j
        keys[i] = key
    return keys


def recency_keys(rng: np.random.Generator, requests: int, objects: int, *, reuse: float, shape: float) -> np.ndarray:
    """``requests`` keys from the stack model over at most ``objects`` objects."""
    if not 0.0 <= reuse <= 1.0:
        raise WorkloadError(f"reuse must be between 0 and 1, got {reuse}", parameter="reuse")
    if not shape > 0:
        raise WorkloadError(f"shape must be positive, got {shape}", parameter="shape")
    reused = rng.random(requests) < reuse
    distances = np.minimum(np.floor(rng.pareto(shape, requests)), objects).astype(np.int64)
    return _stack_model(reused, distances, objects)


GENERATOR = Generator(
    "recency",
    recency_keys,
    (
        Option("reuse", 0.8, "share of requests that re-reference an object already seen"),
        Option("shape", 1.0, "tail index of the stack distances (smaller: further back)"),
    ),
)
