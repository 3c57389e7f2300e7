"""Redis 7.0's ``allkeys-random`` and ``volatile-random`` (``volatile=1``).

Each eviction takes ``dict.c: dictGetRandomKey``'s key: a random non-empty bucket, then a uniform
key of its chain (so a key sharing its bucket is less likely than one alone). Every detail and
simplification is in ``tuner.policies.redis_eviction``.
"""

from collections.abc import Mapping
from typing import Any

from tuner.policies import redis_eviction as redis
from tuner.policies.base import Policy, PolicyInput


def _init(given: PolicyInput, params: Mapping[str, Any]):
    return redis.initial_state(redis.RANDOM, given, params)


POLICY = Policy(
    name="redis-random",
    summary="Redis's allkeys-random: no bookkeeping per access; fine for uniform or looping keys.",
    init=_init,
    replay=redis.replay,
    params=(redis.VOLATILE, redis.KEY_SIZE),
    randomized=True,
    target="redis",
    charge=redis.charge,
)
