"""Slow, obvious pure-Python caches: what the compiled policies must agree with."""

from collections import OrderedDict


def lru_misses(keys, capacity, sizes=None):
    """LRU over an OrderedDict; with ``sizes``, ``capacity`` is in bytes."""
    sizes = sizes or [1] * len(keys)
    cache, used, misses = OrderedDict(), 0, 0
    for key, size in zip(keys, sizes, strict=True):
        if key in cache:
            cache.move_to_end(key)
            continue
        misses += 1
        if size > capacity:
            continue
        while used + size > capacity:
            _, freed = cache.popitem(last=False)
            used -= freed
        cache[key] = size
        used += size
    return misses


def fifo_misses(keys, capacity):
    """FIFO: insertion order only; hits change nothing."""
    cache, misses = OrderedDict(), 0
    for key in keys:
        if key in cache:
            continue
        misses += 1
        if len(cache) == capacity:
            cache.popitem(last=False)
        cache[key] = True
    return misses


def mru_misses(keys, capacity):
    """MRU: the most recently used object leaves first."""
    cache, misses = OrderedDict(), 0
    for key in keys:
        if key in cache:
            cache.move_to_end(key)
            continue
        misses += 1
        if len(cache) == capacity:
            cache.popitem(last=True)
        cache[key] = True
    return misses
