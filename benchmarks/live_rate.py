"""The real servers' replay rate, printed beside a model's by the Redis and memcached benchmarks.

A prefix of the benchmark's trace goes through a throwaway ``redis-server`` or ``memcached`` on a
free loopback port (``tuner.live.servers``), configured as the model is, by the same look-aside
replay ``cachetune verify`` uses; the rate is the trace's requests replayed per second of wall
time. What a model's speed is worth: the live replay is the only other way to get its answer.
"""

from __future__ import annotations

from typing import Any

import tuner
from tuner.errors import CachetuneError
from tuner.live import servers
from tuner.live.memcached_replay import replay_against_memcached
from tuner.live.redis_replay import redis_policy_config, replay_against_redis
from tuner.optimize.traces import prefix

LIVE_REQUESTS = 200_000
TIME_LIMIT = 120.0


def redis_rate(trace: tuner.Trace, policy: str, maxmemory: int, requests: int = LIVE_REQUESTS,
               **params: Any) -> float | None:  # fmt: skip
    """Requests per second of the first ``requests`` of ``trace`` through a redis-server set up as
    ``policy`` at ``maxmemory`` bytes; None when redis-server is not installed."""
    try:
        server = servers.start_redis(redis_policy_config(policy, maxmemory, params))
    except CachetuneError:
        return None
    with server:
        live = replay_against_redis(prefix(trace, min(requests, len(trace))), server.url, time_limit=TIME_LIMIT)
    return live.replayed / live.seconds


def memcached_rate(trace: tuner.Trace, memory_bytes: int, requests: int = LIVE_REQUESTS) -> float | None:
    """Requests per second of the first ``requests`` of ``trace`` through a memcached started with
    ``-m`` = ``memory_bytes`` (whole MiB); None when memcached is not installed."""
    try:
        server = servers.start_memcached(["-m", str(memory_bytes >> 20)])
    except CachetuneError:
        return None
    replayed = prefix(trace, min(requests, len(trace)))
    with server:
        live = replay_against_memcached(replayed, server.url, time_limit=TIME_LIMIT)
    return len(replayed) / live.seconds


def shown(rate: float | None) -> str:
    """A rate in thousands of requests/s for a table cell, or a dash when the server is missing."""
    return "-" if rate is None else f"{rate / 1e3:.0f}"
