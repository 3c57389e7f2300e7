"""Redis 7.0's ``volatile-ttl``: among keys with a TTL, evict the one expiring soonest.

Keys with a TTL are sampled into the eviction pool by their expiry (``evict.c:
evictionPoolPopulate``); keys without one are never evicted, and with none left a write is refused
(as ``noeviction``). Expired keys also leave lazily on access and through the expire cycle every
100 ms (``expire.c: activeExpireCycle``). Every detail and simplification is in
``tuner.policies.redis_eviction``.
"""

from collections.abc import Mapping
from typing import Any

from tuner.policies import redis_eviction as redis
from tuner.policies.base import Policy, PolicyInput


def _init(given: PolicyInput, params: Mapping[str, Any]):
    return redis.initial_state(redis.TTL, given, params)


POLICY = Policy(
    name="redis-ttl",
    summary="Redis's volatile-ttl: evicts the soonest expiry; only for keys that all carry TTLs.",
    init=_init,
    replay=redis.replay,
    params=(redis.SAMPLES, redis.KEY_SIZE),
    randomized=True,
    target="redis",
    charge=redis.charge,
)
