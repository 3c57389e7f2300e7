"""Redis (7.0): ``maxmemory``, ``maxmemory-policy`` over the evicting policies, ``maxmemory-samples``,
``lfu-log-factor`` and ``lfu-decay-time``, written as a ``redis.conf`` snippet to include and as
``redis-cli CONFIG SET`` lines for a running server.

The models are ``redis-lru``, ``redis-lfu``, ``redis-random`` (``allkeys-*``,
or ``volatile-*`` with ``volatile`` 1) and ``redis-ttl`` (``volatile-ttl``).
Redis's default is ``allkeys-lru`` with 5 samples (a server's own default is
``noeviction``, which evicts nothing; ``allkeys-lru`` is what a cache is
configured with): ``redis-lru`` at its defaults. ``key_size`` describes the
workload (the keys' length), not a knob, so a search leaves it at its default.
Setting names and defaults as in redis 7.0 ``redis.conf`` and ``config.c``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tuner.calibrations import load_calibration
from tuner.capacity import BYTES
from tuner.deploy.base import Deployment, Target, own_params
from tuner.deploy.memcached import MIB

if TYPE_CHECKING:
    from tuner.optimize.space import Config

# Redis's defaults (config.c: maxmemory-samples 5, lfu-log-factor 10, lfu-decay-time 1), by model parameter.
DEFAULTS = {"samples": 5, "volatile": 0, "lfu_log_factor": 10, "lfu_decay_time": 1}
# The model of each maxmemory-policy family: its name after the allkeys-/volatile- prefix.
KINDS = {"redis-lru": "lru", "redis-lfu": "lfu", "redis-random": "random"}
TTL_POLICY = "redis-ttl"
# The least maxmemory worth a trial: a MiB of keys beyond what an empty Redis 7.0 holds (at its empty
# server's memory or below, a key is evicted as soon as it is written, and the models refuse it).
LEAST_MEMORY = int(load_calibration("redis", "7.0")["baseline_bytes"]) + MIB


def maxmemory_policy(policy: str, volatile: int) -> str:
    """``allkeys-lru`` and so on, as Redis spells it, for a model and its ``volatile`` parameter."""
    if policy == TTL_POLICY:
        return "volatile-ttl"
    return f"{'volatile' if int(volatile) else 'allkeys'}-{KINDS[policy]}"


def settings(config: Config) -> dict[str, int | str]:
    """The recommendation as Redis's configuration directives, in bytes and Redis's names."""
    params = own_params(config, DEFAULTS)
    return {
        "maxmemory": int(config.capacity),
        "maxmemory-policy": maxmemory_policy(config.policy, params["volatile"]),
        "maxmemory-samples": int(params["samples"]),
        "lfu-log-factor": int(params["lfu_log_factor"]),
        "lfu-decay-time": int(params["lfu_decay_time"]),
    }


def render(config: Config, unit: str) -> Deployment:
    chosen = settings(config)
    header = f"# cachetune's recommendation ({config.policy}); include from redis.conf: include /path/to/redis.conf\n"
    conf = header + "".join(f"{name} {value}\n" for name, value in chosen.items())
    usage = "# Apply cachetune's recommendation to a running Redis: sh redis-config-set.sh -h HOST -p PORT\n"
    lines = "".join(f'redis-cli "$@" CONFIG SET {name} {value}\n' for name, value in chosen.items())
    script = "#!/bin/sh\n" + usage + "set -e\n" + lines
    return Deployment(chosen, {"redis.conf": conf, "redis-config-set.sh": script})


TARGETS = (
    Target(
        name="redis",
        summary="Redis: maxmemory (bytes), maxmemory-policy, maxmemory-samples, lfu-log-factor, lfu-decay-time.",
        unit=BYTES,
        default_policy="redis-lru",
        render=render,
        held=frozenset({"key_size"}),
        least_capacity=LEAST_MEMORY,
    ),
)
