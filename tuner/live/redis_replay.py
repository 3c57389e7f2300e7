"""Replay a trace against a real Redis as an application would, to check a model against the real thing.

Each GET is a ``GET``; on a miss the application writes the object back with ``SET`` (a value of the
request's size, ``PX`` its TTL when it has one); a SET is a ``SET``, a DELETE a ``DEL``. Requests go
in pipelined batches of consecutive requests to distinct keys (a batch ends before a key repeats, so
every request sees what the earlier ones did); the writes after a batch's misses follow it at once,
since an application needs a GET's answer before it writes. ``send_times[i]`` is when request ``i``'s
batch was sent (Unix seconds): replaying a model with those as the trace's timestamps gives it the
server's clock (``LiveReplay.as_sent``).

It never harms the server: it refuses a non-empty selected db (one line), writes only keys under
``prefix``, and deletes them at the end (unless ``keep_keys``); a setting it changes (``maxmemory``,
the policy, samples, LFU settings) is restored, and it refuses to change one while any db holds keys,
which eviction could take. A server that goes away ends it with a one-line CachetuneError, and a
replay stops at ``time_limit`` seconds (``LiveReplay.replayed`` says how far it got).

With a ``speed`` the replay is paced by the trace's clock (``tuner.live.pacing``): a batch holds only
requests already due, so request ``i`` goes no earlier than ``(ts_i - ts_0) / speed`` seconds after the
first; without one it goes as fast as it can.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tuner.errors import CachetuneError
from tuner.live.pacing import Pacer
from tuner.trace import GET, SET, Trace

PREFIX = "cachetune:"
# A pipelined batch holds at most this many requests and values of this many bytes in all: the replies
# pending while Redis runs a batch then fit the client's own 16 KB buffer, so no reply memory counts
# against maxmemory (which would evict keys an application sending one request at a time keeps).
BATCH = 32
BATCH_BYTES = 12_000


@dataclass(frozen=True)
class LiveReplay:
    """What the server did: GETs replayed and their hits, keys resident at the end (``DBSIZE``, after
    the server's last evictions), keys it evicted and expired meanwhile (``INFO stats``),
    ``used_memory`` then, when each request was sent, the requests' positions in the order the server
    wrote them (``executed``: in each batch the requests that wrote nothing or wrote themselves, then the
    GETs that missed, whose SETs came after the batch), how many were replayed (all, unless the time
    limit came first), which requests were GETs that missed (``missed``, by position: the misses of a part
    of the trace, such as optimize's held-out part), the key names' length, and the wall time taken."""

    gets: int
    hits: int
    resident_keys: int
    evicted_keys: int
    expired_keys: int
    used_memory: int
    send_times: np.ndarray = field(repr=False)
    executed: np.ndarray = field(repr=False)
    missed: np.ndarray = field(repr=False)
    replayed: int
    key_size: int
    seconds: float

    @property
    def hit_ratio(self) -> float:
        return self.hits / self.gets if self.gets else float("nan")

    def as_sent(self, trace: Trace) -> Trace:
        """The requests replayed, timed as they were sent and in the order the server admitted their keys
        (a batch's misses last, as their SETs followed it): what a model replays to compare. A model
        admits a key at its GET's miss, so without the reordering it would evict, at each miss, keys
        the batch's later GETs found on the server."""
        at = self.executed[: self.replayed]
        return Trace.from_codes(trace.ids[at], trace.keys, self.send_times[at], trace.sizes[at], trace.ops[at],
                                trace.ttls[at], name=f"{trace.name} as sent")  # fmt: skip


def key_names(trace: Trace, prefix: str = PREFIX) -> tuple[list[bytes], int]:
    """Every object's key name: ``prefix`` and its id, zero-padded so all names have one length."""
    digits = max(6, len(str(max(trace.n_objects - 1, 0))))
    return [f"{prefix}{k:0{digits}d}".encode() for k in range(trace.n_objects)], len(prefix) + digits


def replay_against_redis(trace: Trace, url: str, *, config: dict[str, Any] | None = None, prefix: str = PREFIX,
                         time_limit: float = 60.0, keep_keys: bool = False, speed: float | None = None,
                         ) -> LiveReplay:  # fmt: skip
    """Replay ``trace`` against the Redis at ``url`` with ``config`` set for the replay (``{"maxmemory":
    8000000, "maxmemory-policy": "allkeys-lru"}``; restored after), paced at ``speed``× trace time."""
    import redis

    client = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)
    saved: dict[str, str] = {}
    try:
        try:
            if client.dbsize():
                raise CachetuneError(f"{url}: the selected db is not empty; replay into an empty db")
            if config:
                _refuse_eviction_of_others(client, url)
                for name, value in config.items():
                    saved.update(client.config_get(name))
                    client.config_set(name, value)
            return replay_requests(client, trace, prefix, time_limit, keep_keys, speed)
        finally:
            for name, value in saved.items():
                client.config_set(name, value)
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as error:
        raise CachetuneError(f"{url}: the server went away ({error})") from None
    except redis.exceptions.ResponseError as error:
        raise CachetuneError(f"{url}: {error}") from None
    finally:
        client.close()


def _refuse_eviction_of_others(client, url: str) -> None:
    holding = {db: info["keys"] for db, info in client.info("keyspace").items() if info.get("keys")}
    if holding:
        db, keys = next(iter(holding.items()))
        raise CachetuneError(f"{url}: {db} holds {keys} keys that eviction could take; use a throwaway server")


def replay_requests(client, trace: Trace, prefix: str, time_limit: float, keep_keys: bool,
                    speed: float | None = None) -> LiveReplay:  # fmt: skip
    """The replay itself on a connected redis-py ``client``, with no check of the server (the caller's)."""
    names, key_size = key_names(trace, prefix)
    largest = trace.largest_size
    payload = b"v" * max(largest, 1)
    ids, ops, sizes, ttls = trace.ids, trace.ops, trace.sizes, trace.ttls
    send_times = np.zeros(len(trace), np.float64)
    executed = np.arange(len(trace), dtype=np.int64)
    missed = np.zeros(len(trace), bool)
    pacer = Pacer(trace.timestamps, speed)
    stats_before = client.info("stats")
    began = time.monotonic()
    deadline = began + time_limit
    hits = gets = 0
    at = 0
    n = len(trace)
    while at < n and time.monotonic() < deadline:
        due = pacer.wait(at, deadline)
        if due <= at:
            continue
        end = min(_batch_end(ids, sizes, at), due)
        pipe = client.pipeline(transaction=False)
        for i in range(at, end):
            name, op = names[ids[i]], ops[i]
            if op == GET:
                pipe.get(name)
            elif op == SET:
                pipe.set(name, payload[: sizes[i]], px=_px(ttls[i]))
            else:
                pipe.delete(name)
        send_times[at:end] = time.time()
        answers = pipe.execute()
        writes = client.pipeline(transaction=False)
        refills = []
        for i, answer in zip(range(at, end), answers, strict=True):
            if ops[i] == GET:
                gets += 1
                if answer is None:
                    writes.set(names[ids[i]], payload[: sizes[i]], px=_px(ttls[i]))
                    refills.append(i)
                else:
                    hits += 1
        if refills:
            writes.execute()
            missed[refills] = True
            kept = [i for i in range(at, end) if i not in set(refills)]
            executed[at:end] = kept + refills
        at = end
    resident = int(client.dbsize())
    used = int(client.info("memory")["used_memory"])
    stats = client.info("stats")
    evicted, expired = (int(stats[name]) - int(stats_before[name]) for name in ("evicted_keys", "expired_keys"))
    seconds = time.monotonic() - began
    if not keep_keys:
        _delete_prefixed(client, prefix)
    return LiveReplay(gets, hits, resident, evicted, expired, used, send_times, executed, missed, at, key_size,
                      seconds)  # fmt: skip


def _batch_end(ids: np.ndarray, sizes: np.ndarray, at: int) -> int:
    """One past the last request of the batch from ``at``: consecutive requests to distinct keys, at
    most ``BATCH`` of them and ``BATCH_BYTES`` of values (a first larger one goes alone)."""
    end, seen, batch_bytes = at, set(), 0
    while end < len(ids) and end - at < BATCH and ids[end] not in seen:
        if end > at and batch_bytes + sizes[end] > BATCH_BYTES:
            break
        seen.add(ids[end])
        batch_bytes += sizes[end]
        end += 1
    return end


def _px(ttl: float) -> int | None:
    return max(1, round(float(ttl) * 1000)) if ttl > 0 else None


def _delete_prefixed(client, prefix: str) -> None:
    batch = []
    for name in client.scan_iter(match=prefix + "*", count=1000):
        batch.append(name)
        if len(batch) == 1000:
            client.delete(*batch)
            batch = []
    if batch:
        client.delete(*batch)


@dataclass(frozen=True)
class ModelCheck:
    """A model against the real server on one trace: the server's replay, and the model's hit ratios,
    resident keys, evictions and memory over ``seeds`` runs replaying the requests as they were sent.
    A model's memory is what it accounts (keys as charged, TTL entries, buckets) plus the calibrated
    baseline of an empty server: the figure the server's ``used_memory`` stands beside."""

    policy: str
    maxmemory: int
    live: LiveReplay
    model_hit_ratios: tuple[float, ...]
    model_resident_keys: tuple[int, ...]
    model_evictions: tuple[int, ...]
    model_memory: tuple[int, ...]

    @property
    def model_hit_ratio(self) -> float:
        return float(np.mean(self.model_hit_ratios))

    @property
    def model_keys(self) -> float:
        return float(np.mean(self.model_resident_keys))

    @property
    def hit_ratio_gap(self) -> float:
        """The model's mean hit ratio less the server's."""
        return self.model_hit_ratio - self.live.hit_ratio

    @property
    def keys_gap(self) -> float:
        """The model's mean resident keys relative to the server's (0.01: 1 % more)."""
        return self.model_keys / self.live.resident_keys - 1 if self.live.resident_keys else float("nan")


def redis_policy_config(policy: str, maxmemory: int, params: dict[str, Any]) -> dict[str, Any]:
    """The server settings a Redis model stands for: ``maxmemory``, the policy and its parameters."""
    kind = policy.removeprefix("redis-")
    name = "volatile-ttl" if kind == "ttl" else ("volatile-" if params.get("volatile") else "allkeys-") + kind
    config: dict[str, Any] = {"maxmemory": maxmemory, "maxmemory-policy": name}
    if "samples" in params:
        config["maxmemory-samples"] = int(params["samples"])
    if "lfu_log_factor" in params:
        config["lfu-log-factor"] = int(params["lfu_log_factor"])
    if "lfu_decay_time" in params:
        config["lfu-decay-time"] = int(params["lfu_decay_time"])
    return config


def check_redis_model(trace: Trace, policy: str, maxmemory: int, *, url: str | None = None, seeds: int = 3,
                      seed: int = 0, time_limit: float = 60.0, speed: float | None = None,
                      **params: Any) -> ModelCheck:  # fmt: skip
    """Replay ``trace`` against Redis (a throwaway server when ``url`` is None) with ``policy``'s settings
    at ``maxmemory`` bytes, paced at ``speed``× trace time, then the model ``policy`` (``redis-lru`` …)
    on the requests as sent, with the seeds ``seed`` to ``seed + seeds - 1``. A model's seed draws its
    objects' hashes, as a server's start draws its siphash key: checks that each use other seeds
    average over table layouts as their servers do."""
    from tuner.engine.replay import replay_with_state
    from tuner.live.servers import start_redis
    from tuner.policies import get_policy
    from tuner.policies import redis_eviction as redis_model

    model = get_policy(policy)
    if model.target != "redis":
        raise CachetuneError(f"{policy} is not a model of Redis")
    resolved = model.resolve_params(params)
    config = redis_policy_config(model.name, maxmemory, resolved)
    if url is None:
        # Set at start: a server set at run time (CONFIG SET, as on a user's server) was measured to hold
        # about 50 KB more, which its keys make room for (2-3 % of keys at 2 MB of them).
        with start_redis(config) as server:
            live = replay_against_redis(trace, server.url, time_limit=time_limit, speed=speed)
    else:
        live = replay_against_redis(trace, url, config=config, time_limit=time_limit, speed=speed)
    sent = live.as_sent(trace)
    resolved["key_size"] = live.key_size
    baseline = int(redis_model.calibration()["baseline_bytes"])
    hit_ratios, keys, evictions, memory = [], [], [], []
    for one in range(seed, seed + seeds):
        result, state, _ = replay_with_state(sent, model, f"{maxmemory}B", seed=one, **resolved)
        hit_ratios.append(1.0 - result.miss_ratio)
        keys.append(int(state.keys))
        evictions.append(result.evictions)
        # The model's own account, read by its compiled function's Python original (one formula).
        memory.append(baseline + int(redis_model._memory.py_func(state)))
    return ModelCheck(model.name, maxmemory, live, tuple(hit_ratios), tuple(keys), tuple(evictions), tuple(memory))
