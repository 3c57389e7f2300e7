"""functools-lru: the standard library's ``functools.lru_cache(maxsize)``, a decorated function called
with each request's key.

Follows CPython 3.11 ``Modules/_functoolsmodule.c: bounded_lru_cache_wrapper``
(the C wrapper every ``lru_cache`` with a positive ``maxsize`` uses): a call
whose key is cached is a hit and moves its link to the newest end of one
circular list (``lru_cache_extract_link``, ``lru_cache_append_link``); a
miss calls the function and, once the cache holds ``maxsize`` results,
reuses the oldest link (``root.next``) for the new key, so exactly one
result is evicted per miss, the least recently called. That is LRU over
object counts, so the model is ``lru``'s hooks with a charge that admits
only object counts (``hits`` as ``cache_info()`` counts them).

Simplifications: none within what lru_cache can express. It caches a
function's results: it has no byte capacity, no per-key SET or DELETE and no
expiry, so a byte capacity, a trace with writes or a cache timeout is a
CachetuneError rather than a guess. Keys are compared as the trace's ids
(lru_cache with ``typed=False`` treats ``1`` and ``1.0`` as one key; a trace
reader has already made each key one id).
"""

from collections.abc import Mapping
from typing import Any

import numpy as np

from tuner.capacity import OBJECTS, Capacity
from tuner.errors import CachetuneError
from tuner.policies import lru
from tuner.policies.base import Charge, Policy, PolicyInput
from tuner.policies.lru import RecencyLinks, RecencyList, init_recency_list
from tuner.trace import Trace


def _calls(trace: Trace, capacity: Capacity, params: Mapping[str, Any]) -> Charge:
    """One unit per cached call, ``maxsize`` of them; refuses what lru_cache cannot be given."""
    if capacity.unit != OBJECTS:
        raise CachetuneError(f"functools-lru: lru_cache(maxsize) counts cached calls, not bytes: give the capacity "
                             f"as a number of objects, not {capacity.spec!r}", parameter="capacity")  # fmt: skip
    if trace.has_writes or trace.has_ttls:
        raise CachetuneError("functools-lru: lru_cache caches a function's results, with no SET, DELETE or TTL: "
                             "replay a read-only trace without TTLs, or use cachetools-lru")  # fmt: skip
    return Charge(np.ones(len(trace), np.int64), capacity.amount)


def _init(given: PolicyInput, params: Mapping[str, Any]) -> tuple[RecencyList, RecencyLinks]:
    if given.ttl is not None:
        raise CachetuneError("functools-lru: lru_cache has no timeout: replay it without ttl "
                             "(cachetools-ttl models TTLCache)", parameter="ttl")  # fmt: skip
    return init_recency_list(given, params)


POLICY = Policy(
    name="functools-lru",
    summary="functools.lru_cache(maxsize): LRU over a count of cached calls, read-only.",
    init=_init,
    replay=lru.POLICY.replay,
    target="functools",
    charge=_calls,
)
