"""Replay a trace through Python's own caches (cachetools, ``functools.lru_cache``), as an application
would use them, to check a model against the library itself.

A GET reads the key (``cache[key]``: a hit, or ``KeyError`` and the application stores the value,
unless cachetools refuses it as too large); a SET stores it; a DELETE pops it. Values are the
request's size, which ``getsizeof`` reads when the capacity is in bytes. ``functools.lru_cache``
has no writes: its trace is calls, each GET one call of a cached function with the key.
TTLCache's timer reads the trace's clock.
"""

from __future__ import annotations

import contextlib
import functools
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from tuner.errors import CachetuneError
from tuner.trace import DELETE, GET, Trace


@dataclass(frozen=True)
class LibraryReplay:
    """What the library did: GETs, their hits, evictions (``popitem`` calls, or misses past a full
    ``lru_cache``), the keys it holds at the end and its ``currsize``, and the wall time taken."""

    gets: int
    hits: int
    evictions: int
    resident: int
    currsize: int
    seconds: float


def replay_through_library(trace: Trace, policy: str, maxsize: int, sized: bool, *, ttl: float | None = None,
                           seed: int = 0) -> LibraryReplay:  # fmt: skip
    """Replay ``trace`` through the library ``policy`` models (``cachetools-lru``, ``functools-lru`` …) at
    ``maxsize`` (objects, or bytes when ``sized``); ``cachetools-rr`` draws with ``random.Random(seed)``."""
    began = time.monotonic()
    if policy == "functools-lru":
        return _replay_lru_cache(trace, maxsize, began)
    cache = library_cache(policy, maxsize, sized, ttl=ttl, choice=random.Random(seed).choice)
    clock = cache.clock
    ids, ops, sizes, times = trace.ids, trace.ops, trace.sizes, trace.timestamps
    gets = hits = 0
    for at in range(len(trace)):
        key, op, size = int(ids[at]), int(ops[at]), int(sizes[at])
        clock[0] = float(times[at])
        if op == DELETE:
            cache.pop(key, None)
            continue
        if op == GET:
            gets += 1
            try:
                cache[key]
                hits += 1
                continue
            except KeyError:
                pass
        cache.setting = key
        with contextlib.suppress(ValueError):  # 'value too large': the application goes on without caching it
            cache[key] = size
        cache.setting = None
    resident = sum(1 for _ in cache)
    return LibraryReplay(gets, hits, cache.evicted, resident, int(cache.currsize), time.monotonic() - began)


def _replay_lru_cache(trace: Trace, maxsize: int, began: float) -> LibraryReplay:
    if trace.has_writes:
        raise CachetuneError("functools.lru_cache has no writes: verify it on a trace of GETs (calls)")

    @functools.lru_cache(maxsize=maxsize)
    def cached(key: int) -> int:
        return key

    for obj in trace.ids.tolist():
        cached(obj)
    info = cached.cache_info()
    evictions = max(0, info.misses - info.currsize)
    return LibraryReplay(info.hits + info.misses, info.hits, evictions, info.currsize, info.currsize,
                         time.monotonic() - began)  # fmt: skip


def library_cache(policy: str, maxsize: int, sized: bool, *, ttl: float | None = None,
                  choice: Callable[[Sequence], Any] | None = None) -> Any:  # fmt: skip
    """The cachetools class ``policy`` models, at ``maxsize`` (objects, or bytes when ``sized``: values are
    sizes), counting its evictions in ``evicted``; its timer reads ``clock[0]`` (set it to the trace's
    time), and RRCache draws its victims with ``choice``."""
    import cachetools

    classes = {"cachetools-lru": cachetools.LRUCache, "cachetools-fifo": cachetools.FIFOCache,
               "cachetools-lfu": cachetools.LFUCache, "cachetools-rr": cachetools.RRCache,
               "cachetools-ttl": cachetools.TTLCache}  # fmt: skip
    if policy not in classes:
        raise CachetuneError(f"{policy} is not a model of a Python cache")
    clock = [0.0]

    class Counting(classes[policy]):
        """The library's class counting evictions: every ``popitem`` but one taking the key being set."""

        evicted = 0
        setting = None

        def popitem(self):
            key, value = super().popitem()
            if key != self.setting:
                self.evicted += 1
            return key, value

    options: dict[str, Any] = {"getsizeof": (lambda value: value) if sized else None}
    if policy == "cachetools-ttl":
        if ttl is None:
            raise CachetuneError("cachetools-ttl needs the TTLCache's ttl (--ttl)", parameter="ttl")
        options.update(ttl=ttl, timer=lambda: clock[0])
    if policy == "cachetools-rr" and choice is not None:
        options["choice"] = choice
    cache = Counting(maxsize, **options)
    cache.clock = clock
    return cache
