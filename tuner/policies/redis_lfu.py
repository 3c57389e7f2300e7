"""Redis 7.0's ``allkeys-lfu`` and ``volatile-lfu`` (``volatile=1``): sampled LFU on a logarithmic counter.

A key's 8-bit counter starts at 5, grows on an access with probability ``1/((c−5)·lfu_log_factor+1)``
and loses one per ``lfu_decay_time`` minutes without access (``evict.c: LFULogIncr,
LFUDecrAndReturn``); the pool evicts the lowest counter among sampled keys. Every detail and
simplification is in ``tuner.policies.redis_eviction``.
"""

from collections.abc import Mapping
from typing import Any

from tuner.policies import redis_eviction as redis
from tuner.policies.base import Policy, PolicyInput


def _init(given: PolicyInput, params: Mapping[str, Any]):
    return redis.initial_state(redis.LFU, given, params)


POLICY = Policy(
    name="redis-lfu",
    summary="Redis's allkeys-lfu: sampled frequency with decay; keeps a stable hot set through scans.",
    init=_init,
    replay=redis.replay,
    params=(redis.SAMPLES, redis.VOLATILE, redis.LFU_LOG_FACTOR, redis.LFU_DECAY_TIME, redis.KEY_SIZE),
    randomized=True,
    target="redis",
    charge=redis.charge,
)
