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


def optimal_misses(keys, sizes, capacity):
    """The fewest misses any cache of ``capacity`` bytes can have on ``keys`` (GETs; one size per
    key, ``sizes`` per request), found by trying every schedule: on a miss the object may be bypassed
    or admitted after evicting any residents that make room. Evicting only when admitting loses
    nothing (a later eviction frees the same room in time). Exponential: a dozen requests at most."""
    size_of = dict(zip(keys, sizes, strict=True))
    memo = {}

    def fewest(position, cached):
        if position == len(keys):
            return 0
        if (position, cached) in memo:
            return memo[position, cached]
        key = keys[position]
        if key in cached:
            best = fewest(position + 1, cached)
        else:
            best = 1 + fewest(position + 1, cached)  # bypass
            if size_of[key] <= capacity:
                residents = sorted(cached)
                for mask in range(1 << len(residents)):
                    kept = frozenset(r for bit, r in enumerate(residents) if mask >> bit & 1)
                    if sum(size_of[r] for r in kept) + size_of[key] <= capacity:
                        best = min(best, 1 + fewest(position + 1, kept | {key}))
        memo[position, cached] = best
        return best

    return fewest(0, frozenset())
