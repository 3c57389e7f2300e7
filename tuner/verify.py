"""Check a model of a real cache against the real thing on your own trace: what ``cachetune verify`` runs.

The trace is replayed against the product itself as an application would
use it: a throwaway server this process starts with the configuration under
test (``server=None``), a user's own server (left as it was: see
``tuner.live``), or, for Python's caches, the library in this process. Then
the model replays the same requests, timed as they were sent where the
product keeps time by the clock (Redis), and the two sets of figures come
side by side. A model is checked against its product only: a textbook
policy has no real thing to be checked against.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from tuner.capacity import BYTES, Capacity, parse_capacity
from tuner.engine.replay import ReplayResult, replay
from tuner.errors import CachetuneError
from tuner.live.pacing import check_speed
from tuner.policies import Policy, get_policy
from tuner.seeds import DEFAULT_SEED
from tuner.trace import Trace

MIB = 1 << 20


@dataclass(frozen=True)
class Figures:
    """One side of a check: GETs, their hits, evictions, objects resident at the end and the memory they
    take in bytes (None where that side cannot tell)."""

    gets: int
    hits: int
    evictions: int | None
    resident: int | None
    memory: int | None

    @property
    def misses(self) -> int:
        return self.gets - self.hits

    @property
    def hit_ratio(self) -> float:
        return self.hits / self.gets if self.gets else math.nan


@dataclass(frozen=True)
class Verification:
    """A model against its product on one trace: the real figures, the simulated ones, and how fast the
    real replay ran (requests per second of wall time)."""

    policy: str
    target: str
    capacity: Capacity
    params: dict[str, Any]
    real: Figures
    simulated: Figures
    real_requests_per_second: float
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def hit_ratio_gap(self) -> float:
        """The model's hit ratio less the real one."""
        return self.simulated.hit_ratio - self.real.hit_ratio

    @property
    def table(self) -> pd.DataFrame:
        """One row a figure: real, simulated and their difference (simulated less real)."""
        rows = []
        for name in ("gets", "hits", "misses", "hit_ratio", "evictions", "resident", "memory"):
            real, simulated = getattr(self.real, name), getattr(self.simulated, name)
            known = real is not None and simulated is not None
            rows.append({"figure": name, "real": real, "simulated": simulated,
                         "difference": simulated - real if known else None})  # fmt: skip
        return pd.DataFrame(rows)

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        return {"verify": self.table}


def verify(
    trace: Trace,
    policy: str | Policy,
    capacity: int | str | Capacity,
    *,
    server: str | None = None,
    ttl: float | None = None,
    time_limit: float = 600.0,
    speed: float | None = None,
    seed: int = DEFAULT_SEED,
    **params: Any,
) -> Verification:
    """Replay ``trace`` against the product ``policy`` models, configured as the model is (its
    ``params``, at ``capacity``), and through the model; see the module's docstring.

    ``server`` is the URL of the user's own server (``redis://host:port/db``,
    ``memcached://host:port``); without one a throwaway server is started on
    loopback and stopped after. ``ttl`` is cachetools-ttl's TTLCache ttl. The
    real replay stops with a CachetuneError after ``time_limit`` seconds. With
    ``speed`` a server's replay is paced at ``speed``× trace time (1: as the
    trace ran; ``tuner.live.pacing``), else it goes as fast as it can.
    """
    model = model_of(policy)
    check_options(model, server=server, speed=speed)
    size = parse_capacity(capacity, trace.n_objects)
    resolved = model.resolve_params(params)
    check = _CHECKS[model.target]
    real, simulated, seconds = check(trace, model, size, resolved, server=server, ttl=ttl, time_limit=time_limit,
                                     speed=speed, seed=seed)  # fmt: skip
    options = {"policy": model.name, "capacity": str(size), "params": resolved, "server": server, "ttl": ttl,
               "time_limit": time_limit, "speed": speed, "seed": seed}  # fmt: skip
    rate = len(trace) / seconds if seconds > 0 else math.nan
    return Verification(model.name, model.target, size, resolved, real, simulated, rate, options)


def model_of(policy: str | Policy) -> Policy:
    """The model ``policy`` names; a CachetuneError for a textbook policy, which has no real thing."""
    model = get_policy(policy) if isinstance(policy, str) else policy
    if model.target is None:
        raise CachetuneError(f"verify checks a model of a real cache against the real thing; {model.name} is a "
                             "textbook policy (try redis-lru, memcached, cachetools-lru, functools-lru)",
                             parameter="policies")  # fmt: skip
    return model


def check_options(model: Policy, *, server: str | None, speed: float | None) -> None:
    """A one-line CachetuneError for options the check of ``model`` cannot take, before anything runs:
    a speed that is not positive; a server or a speed for Python's caches, replayed in this process by
    the trace's own clock."""
    check_speed(speed)
    if model.target in _LIBRARIES:
        if server is not None:
            raise CachetuneError(f"{model.name} is checked against the library in this process: no --server")
        if speed is not None:
            raise CachetuneError(f"{model.name} is replayed by the trace's own clock: no --speed")


def _figures(result: ReplayResult) -> Figures:
    return Figures(int(result.requests), int(result.hits), result.evictions, result.resident, result.used)


def _memcached_check(trace, model, size, params, *, server, ttl, time_limit, speed, seed):
    from tuner.live.memcached_replay import replay_against_memcached
    from tuner.live.servers import start_memcached

    if size.unit != BYTES:
        raise CachetuneError("memcached's memory is in bytes: give --size as 64MiB", parameter="size")
    if server is None:
        with start_memcached(memcached_args(size.amount, params)) as started:
            live = replay_against_memcached(trace, started.url, time_limit=time_limit, speed=speed)
    else:
        _refuse_a_server_holding_items(server)
        live = replay_against_memcached(trace, server, time_limit=time_limit, remove_keys=True, speed=speed)
    simulated = replay(trace, model, size, seed=seed, ttl=ttl, **params)
    real = Figures(live.gets, live.hits, live.evictions, live.curr_items, live.bytes)
    return real, _figures(simulated), live.seconds


def _refuse_a_server_holding_items(server: str) -> None:
    """A memcached that holds items is someone's: its hit ratio and evictions would not be the trace's
    alone, and its items could be evicted by the replay. Refused in one line, nothing written."""
    from pymemcache.client.base import Client

    from tuner.live.memcached_replay import parse_address

    host, port = parse_address(server)
    client = Client((host, port), connect_timeout=5, timeout=5)
    try:
        items = int(client.stats()[b"curr_items"])
    except OSError as error:
        raise CachetuneError(f"memcached at {host}:{port} does not answer: {error}") from None
    finally:
        client.close()
    if items:
        raise CachetuneError(f"memcached at {host}:{port} holds {items:,} items; verify replays into an empty "
                             "server only (or omit --server to start one)")  # fmt: skip


def memcached_args(memory: int, params: dict[str, Any]) -> list[str]:
    """memcached's command line for ``memory`` bytes and the model's parameters (``-m`` in MiB, as
    memcached takes it)."""
    if memory % MIB:
        raise CachetuneError(f"memcached takes -m in whole MiB; {memory} bytes is not", parameter="size")
    args = ["-m", str(memory // MIB)]
    if "growth_factor" in params:
        args += ["-f", f"{params['growth_factor']:g}"]
    if "item_size_max" in params:
        args += ["-I", str(int(params["item_size_max"]))]
    shares = [f"{name}={int(params[name])}" for name in ("hot_lru_pct", "warm_lru_pct") if name in params]
    if shares:
        args += ["-o", ",".join(shares)]
    return args


def _python_check(trace, model, size, params, *, server, ttl, time_limit, speed, seed):
    from tuner.live.python_caches import replay_through_library

    live = replay_through_library(trace, model.name, size.amount, size.unit == BYTES, ttl=ttl, seed=seed)
    simulated = replay(trace, model, size, seed=seed, ttl=ttl, **params)
    # currsize is in maxsize's unit (objects or bytes), as the model's capacity in use is.
    real = Figures(live.gets, live.hits, live.evictions, live.resident, live.currsize)
    return real, _figures(simulated), live.seconds


def _redis_check(trace, model, size, params, *, server, ttl, time_limit, speed, seed):
    from tuner.live.redis_replay import check_redis_model

    if size.unit != BYTES:
        raise CachetuneError("Redis's maxmemory is in bytes: give --size as 64MiB", parameter="size")
    check = check_redis_model(trace, model.name, size.amount, url=server, seeds=1, seed=seed,
                              time_limit=time_limit, speed=speed, **params)  # fmt: skip
    live = check.live
    real = Figures(live.gets, live.hits, live.evicted_keys, live.resident_keys, live.used_memory)
    # One seed: each figure is that replay's (memory: the model's account and the server's baseline).
    simulated = Figures(live.gets, round(check.model_hit_ratio * live.gets), check.model_evictions[0],
                        check.model_resident_keys[0], check.model_memory[0])  # fmt: skip
    return real, simulated, live.seconds


_LIBRARIES = frozenset({"cachetools", "functools"})
_CHECKS: dict[str, Callable[..., tuple[Figures, Figures, float]]] = {
    "memcached": _memcached_check,
    "cachetools": _python_check,
    "functools": _python_check,
    "redis": _redis_check,
}
