"""A sequential loop: keys 0..objects-1 in order, again and again.

With a cache one object smaller than the loop, LRU and FIFO miss every request
while MRU and random eviction keep most of the loop."""

import numpy as np

from tuner.workloads.base import Generator


def loop_keys(rng: np.random.Generator, requests: int, objects: int) -> np.ndarray:
    """Keys ``0, 1, …, objects-1, 0, 1, …`` (``rng`` unused: a loop is deterministic)."""
    return np.arange(requests, dtype=np.int64) % objects


GENERATOR = Generator("loop", loop_keys)
