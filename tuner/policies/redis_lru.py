"""Redis 7.0's ``allkeys-lru`` and ``volatile-lru`` (``volatile=1``): approximated LRU.

Each eviction samples ``maxmemory-samples`` keys (``evict.c: evictionPoolPopulate``) into the
16-entry eviction pool and evicts the one idle longest, idle times counted in whole seconds of the
server's clock (``evict.c: estimateObjectIdleTime``). A trace replayed faster than its timestamps
say makes the real server nearly random: every key ties. Every detail and simplification is in
``tuner.policies.redis_eviction``.
"""

from collections.abc import Mapping
from typing import Any

from tuner.policies import redis_eviction as redis
from tuner.policies.base import Policy, PolicyInput


def _init(given: PolicyInput, params: Mapping[str, Any]):
    return redis.initial_state(redis.LRU, given, params)


POLICY = Policy(
    name="redis-lru",
    summary="Redis's allkeys-lru: sampled LRU at one-second resolution; more samples, closer to LRU.",
    init=_init,
    replay=redis.replay,
    params=(redis.SAMPLES, redis.VOLATILE, redis.KEY_SIZE),
    randomized=True,
    target="redis",
    charge=redis.charge,
)
