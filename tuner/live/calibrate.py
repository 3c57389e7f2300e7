"""Measure the memory constants the Redis models use, on a real server a user can start again.

``calibrate_redis(url)`` writes keys and reads ``INFO memory``'s ``used_memory`` (what
``performEvictions`` compares with ``maxmemory``) around them. Every figure is a difference between
two batches of the same shape, so the client's own buffers cancel out, and is taken while the key
table's size stays put (filler keys hold it between two powers of two):

- ``per_key_bytes``: ``[[largest value size, bytes], …]``, what one key costs by its value's size
  at a key of ``key_length`` bytes (dict entry, key name, object and value, as the allocator
  rounds them): a step function, each step found by bisection;
- ``key_extra_bytes``: the same by key length, relative to ``key_length``;
- ``ttl_bytes``: what a TTL adds to a key (its entry in the expiry table);
- ``bucket_bytes``: what a bucket of a table costs, from the jump when a table of 2**14 keys doubles;
- ``baseline_bytes``: ``used_memory`` of the server with no key and one client (without ``url``,
  the throwaway server's; with ``url``, the user's, as it is).

Without ``url`` it starts a throwaway ``redis-server`` (``tuner.live.servers``) and measures key
lengths from 1 byte. With a user's ``url`` it refuses a non-empty selected db, writes only keys under
``cachetune:cal:`` (so key lengths start at that prefix's), deletes them at the end, and changes no
setting; a server with ``maxmemory`` set must have room for the 2**14 filler keys.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np

from tuner.errors import CachetuneError
from tuner.live.redis_replay import key_names, replay_requests
from tuner.live.servers import start_redis
from tuner.trace import Trace

PREFIX = "cachetune:cal:"  # the keys written to a user's server
TABLE_KEYS = 1 << 14  # the table whose doubling measures a bucket's bytes
FILLER = 1100  # keys that hold the key table at 2048 buckets while batches come and go
BATCH_KEYS = 256
STEADY_SECONDS = 5.0


def calibrate_redis(url: str | None = None, *, largest_value: int = 1 << 20, largest_key: int = 512,
                    key_length: int = 24) -> dict[str, Any]:  # fmt: skip
    """The constants of the Redis at ``url`` (a throwaway server when None), as a calibration dict
    (``tuner.calibrations.save_calibration`` writes it): values measured up to ``largest_value``
    bytes, key names up to ``largest_key``."""
    import redis

    if url is None:
        with start_redis() as server:
            client = redis.Redis.from_url(server.url)
            try:
                return _Calibration(client, "", largest_value, largest_key, key_length).run()
            finally:
                client.close()
    client = redis.Redis.from_url(url, socket_timeout=30)
    try:
        if client.dbsize():
            raise CachetuneError(f"{url}: the selected db is not empty; calibrate against an empty db")
        return _Calibration(client, PREFIX, largest_value, largest_key, key_length).run()
    except redis.exceptions.ConnectionError as error:
        raise CachetuneError(f"{url}: {error}") from None
    finally:
        with contextlib.suppress(redis.exceptions.RedisError):
            _delete_prefixed(client)
        client.close()


def _charges(trace, values, keys, key_length) -> int:
    """The measured bytes of every key of ``trace`` held at once (each at its last request's size)."""
    from tuner.policies.redis_eviction import step_lookup

    last = np.zeros(trace.n_objects, np.int64)
    last[trace.ids] = trace.sizes
    names = np.full(trace.n_objects, key_length, np.int64)
    return int(step_lookup(values, last, "value").sum() + step_lookup(keys, names, "key").sum())


def _confirmed(measure: Callable[[], float]) -> float:
    """``measure()`` confirmed by a second run, else the median of three: a client buffer the server frees
    between two readings of ``used_memory`` moves one measure (by tens of bytes a key, or a bucket's 8), which
    would be taken for a cost of its own."""
    first, second = measure(), measure()
    if first == second:
        return first
    return sorted((first, second, measure()))[1]


def _delete_prefixed(client) -> None:
    names = list(client.scan_iter(match=PREFIX + "*", count=1000))
    for start in range(0, len(names), 1000):
        client.delete(*names[start : start + 1000])


class _Calibration:
    def __init__(self, client, prefix: str, largest_value: int, largest_key: int, key_length: int):
        self.client = client
        self.prefix = prefix
        self.largest_value = largest_value
        self.largest_key = largest_key
        self.key_length = max(key_length, len(prefix) + 4)
        self.serial = 0

    def used(self) -> int:
        return int(self.client.info("memory")["used_memory"])

    def name(self, length: int) -> bytes:
        """A key name of ``length`` bytes (the prefix, then a serial number in base 256) that no key
        written since its batch began has (batches are far fewer than 65536 keys)."""
        self.serial += 1
        room = length - len(self.prefix)
        if room < 2:
            raise CachetuneError(f"cannot name a key of {length} bytes under {self.prefix!r}")
        return self.prefix.encode() + (self.serial % (1 << (8 * min(room, 7)))).to_bytes(room, "big")

    def write(self, names: list[bytes], value_size: int, ttl_ms: int = 0) -> None:
        value = b"v" * value_size
        chunk = max(1, min(len(names), 65536 // (value_size + 64)))
        for start in range(0, len(names), chunk):
            pipe = self.client.pipeline(transaction=False)
            for name in names[start : start + chunk]:
                pipe.set(name, value, px=ttl_ms or None)
            pipe.execute()

    def delete(self, names: list[bytes]) -> None:
        for start in range(0, len(names), 1000):
            self.client.delete(*names[start : start + 1000])

    def settle(self) -> None:
        """Let serverCron finish any rehashing (1 ms of it every 100 ms) before reading memory."""
        time.sleep(0.25)

    def steady(self) -> int:
        """``used_memory`` once it holds still for ``settle``'s time (up to ``STEADY_SECONDS``): a table that
        doubled holds both tables until serverCron has moved every key, later on a busy host."""
        self.settle()
        last, deadline = self.used(), time.monotonic() + STEADY_SECONDS
        while time.monotonic() < deadline:
            self.settle()
            now = self.used()
            if now == last:
                break
            last = now
        return last

    def per_key(self, value_size: int, key_length: int, ttl_ms: int = 0) -> int:
        """Bytes one key takes (confirmed: ``_confirmed``)."""
        return _confirmed(lambda: self._per_key_once(value_size, key_length, ttl_ms))

    def _per_key_once(self, value_size: int, key_length: int, ttl_ms: int) -> int:
        """Bytes one key takes: the second of two equal batches, so buffers and rehashing cancel."""
        keys = BATCH_KEYS if value_size <= 4096 else max(4, min(BATCH_KEYS, (8 << 20) // value_size))
        first = [self.name(key_length) for _ in range(keys)]
        second = [self.name(key_length) for _ in range(keys)]
        self.write(first, value_size, ttl_ms)
        before = self.used()
        self.write(second, value_size, ttl_ms)
        after = self.used()
        self.delete(first + second)
        return round((after - before) / keys)

    def steps(self, cost: Callable[[int], int], start: int, end: int) -> list[list[int]]:
        """``cost`` (non-decreasing) on ``start..end`` as ``[[last input of a step, cost], …]``."""
        found = []
        at = start
        while at <= end:
            here = cost(at)
            low, high = at, end
            if cost(high) != here:  # bisect for the last input costing ``here``
                while high - low > 1:
                    middle = (low + high) // 2
                    if cost(middle) == here:
                        low = middle
                    else:
                        high = middle
                high = low
            found.append([high, here])
            at = high + 1
        return found

    def bucket_bytes(self, per_key: int) -> int:
        """The jump when a table of ``TABLE_KEYS`` keys doubles, less the key that made it double."""
        names = [self.name(self.key_length) for _ in range(TABLE_KEYS - FILLER - 1)]
        self.write(names, 8)
        last = [self.name(self.key_length)]
        self.write(last, 8)
        before = self.steady()
        extra = [self.name(self.key_length)]
        self.write(extra, 8)
        after = self.steady()
        self.delete(names + last + extra)
        return round((after - before - per_key) / TABLE_KEYS)  # whole pointers: a freed buffer rounds away

    def loaded(self) -> tuple[int, Any]:
        """``used_memory`` after a replay as ``tuner.live.redis_replay`` sends one (pipelined GETs, a SET
        after each miss) into the empty server, and the trace it replayed (its keys still held)."""
        from tuner.workloads import generate

        trace = generate("zipf", requests=6_000, objects=3_000, alpha=0.8, seed=11)
        sizes = np.random.default_rng(11).integers(64, 2_000, trace.n_objects)[trace.ids]
        trace = Trace.from_codes(trace.ids, trace.keys, trace.timestamps, sizes)
        replay_requests(self.client, trace, PREFIX, 60.0, keep_keys=True)
        used = self.used()
        self.delete(list(self.client.scan_iter(match=PREFIX + "*", count=1000)))
        self.settle()
        return used, trace

    def run(self) -> dict[str, Any]:
        server = self.client.info("server")
        idle = self.used()
        loaded, replayed = self.loaded()
        filler = [self.name(self.key_length) for _ in range(FILLER)]
        self.write(filler, 8, ttl_ms=3_600_000)  # both tables held at 2048 buckets
        self.settle()
        values = self.steps(lambda size: self.per_key(size, self.key_length), 0, self.largest_value)
        shortest = len(self.prefix) + 2
        reference = self.per_key(64, self.key_length)
        keys = self.steps(lambda length: self.per_key(64, length) - reference, shortest, self.largest_key)
        if shortest > 1:
            keys.insert(0, [shortest - 1, keys[0][1]])  # shorter names are taken to cost as the shortest measured
        ttl = self.per_key(64, self.key_length, ttl_ms=3_600_000) - reference
        bucket = self.bucket_bytes(self.per_key(8, self.key_length))
        self.delete(filler)
        # What a replay holds besides its keys and their table: the server's own memory with a client
        # that pipelines (its buffers) and what the replay leaves allocated.
        key_bytes = _charges(replayed, values, keys, key_names(replayed, PREFIX)[1])
        held = replayed.n_objects
        buckets = 1 << max((held - 1).bit_length(), 2)
        baseline = loaded - key_bytes - round(bucket * buckets)
        version = server["redis_version"]
        return {
            "product": "redis",
            "version": ".".join(version.split(".")[:2]),
            "server_version": version,
            "allocator": self.client.info("memory").get("mem_allocator", ""),
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "key_length": self.key_length,
            "baseline_bytes": baseline,
            "idle_bytes": idle,
            "per_key_bytes": values,
            "key_extra_bytes": keys,
            "ttl_bytes": ttl,
            "bucket_bytes": round(bucket, 3),
        }
