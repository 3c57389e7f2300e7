"""Replay a trace against a real memcached as an application would, to check a model against it.

Each GET reads the key; on a miss the application SETs a value of the
object's size (a look-aside cache); the trace's own SETs and DELETEs are sent
as they are. A request's size is its key plus its value (as the memcached
model reads it), so keys have one fixed length and each value is the size
less the key (empty when the size is smaller than the key: ``short_sizes``
counts those, whose items are larger than the model's).

Requests are pipelined where that keeps their order: a run of GETs of
distinct keys (up to ``batch``) goes as one ``get k1 k2 …`` (memcached serves
the keys in order, bumping each hit as a lone GET would), then the misses'
SETs go at once (``noreply``), in order, before the next request. The one
difference from a strict request-by-request replay: a SET for a miss in a
batch comes after the batch's later GETs, so a key evicted by such a SET
within the same batch is still a hit (``batch=1`` replays strictly, about ten
times slower). With a ``speed`` the replay is paced by the trace's clock
(``tuner.live.pacing``): a batch holds only requests already due.

Careful with a server it did not start: every key it writes starts with its
own prefix (``cachetune:<random>:``), it never flushes, reads every setting
it reports without changing one, stops with a CachetuneError after
``time_limit`` seconds, removes the keys it wrote when ``remove_keys`` is
set, and a server that goes away or stops answering (``timeout`` seconds per
reply) ends in a one-line CachetuneError.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlparse

import numpy as np

from tuner.errors import CachetuneError
from tuner.live.pacing import Pacer
from tuner.trace import DELETE, GET, SET, Trace

ID_DIGITS = 8  # hex digits of an object id in a key: 4 billion objects


@dataclass(frozen=True)
class LiveReplay:
    """What a replay against a real memcached measured: GETs and hits counted by the client, and the
    server's ``stats`` when it ended (``curr_items``, ``bytes``, ``evictions`` are the server's own, so
    on a shared server they include other clients' items)."""

    gets: int
    hits: int
    sets: int
    deletes: int
    curr_items: int
    bytes: int
    evictions: int
    short_sizes: int
    seconds: float

    @property
    def hit_ratio(self) -> float:
        return self.hits / self.gets if self.gets else float("nan")


def parse_address(server: str | tuple[str, int]) -> tuple[str, int]:
    """``(host, port)`` from ``memcached://host:port``, ``host:port`` or a tuple."""
    if isinstance(server, tuple):
        return server
    parsed = urlparse(server if "://" in server else f"memcached://{server}")
    if parsed.scheme != "memcached" or not parsed.hostname:
        raise CachetuneError(f"cannot read memcached address {server!r} (try memcached://127.0.0.1:11211)")
    return parsed.hostname, parsed.port or 11211


def replay_against_memcached(
    trace: Trace,
    server: str | tuple[str, int],
    *,
    batch: int = 64,
    prefix: str | None = None,
    timeout: float = 5.0,
    time_limit: float = 600.0,
    remove_keys: bool = False,
    speed: float | None = None,
) -> LiveReplay:
    """Replay ``trace`` against the memcached at ``server``, paced at ``speed``× trace time (see the
    module's docstring)."""
    from pymemcache.client.base import Client
    from pymemcache.exceptions import MemcacheError, MemcacheUnexpectedCloseError

    if batch < 1:
        raise CachetuneError(f"batch must be at least 1, got {batch}", parameter="batch")
    host, port = parse_address(server)
    prefix = prefix if prefix is not None else f"cachetune:{secrets.token_hex(3)}:"
    key_length = len(prefix) + ID_DIGITS
    if key_length > 250:
        raise CachetuneError("memcached keys are at most 250 bytes: use a shorter prefix", parameter="prefix")
    pacer = Pacer(trace.timestamps, speed)
    client = Client((host, port), connect_timeout=timeout, timeout=timeout, no_delay=True)
    began = time.monotonic()
    try:
        counts = _Replayer(client, trace, prefix, key_length, batch, began + time_limit, pacer).run()
        stats = client.stats()
        if remove_keys:
            _remove(client, prefix, trace)
    except (OSError, MemcacheUnexpectedCloseError) as error:
        raise CachetuneError(f"memcached at {host}:{port} went away or stopped answering: {error}") from None
    except MemcacheError as error:
        raise CachetuneError(f"memcached at {host}:{port} refused the replay: {error}") from None
    finally:
        client.close()
    gets, hits, sets, deletes = counts
    short = int(np.count_nonzero(trace.sizes < key_length))
    return LiveReplay(gets, hits, sets, deletes, int(stats[b"curr_items"]), int(stats[b"bytes"]),
                      int(stats[b"evictions"]), short, time.monotonic() - began)  # fmt: skip


class _Replayer:
    """One replay's walk through the trace, pipelining runs of GETs."""

    def __init__(self, client, trace: Trace, prefix: str, key_length: int, batch: int, deadline: float,
                 pacer: Pacer):  # fmt: skip
        self.client, self.trace, self.prefix = client, trace, prefix
        self.key_length, self.batch, self.deadline = key_length, batch, deadline
        self.pacer, self.due = pacer, 0  # one past the last request due
        self.values: dict[int, bytes] = {}
        self.pending: dict[str, int] = {}  # the GET run, in order: key -> its request position
        self.gets = self.hits = self.sets = self.deletes = 0

    def key(self, obj: int) -> str:
        return f"{self.prefix}{obj:0{ID_DIGITS}x}"

    def value(self, size: int) -> bytes:
        length = max(0, int(size) - self.key_length)
        found = self.values.get(length)
        if found is None:
            found = self.values[length] = b"v" * length
        return found

    def run(self) -> tuple[int, int, int, int]:
        trace = self.trace
        ids, sizes, ops = trace.ids, trace.sizes, trace.ops
        expires = np.ceil(trace.ttls).astype(np.int64) if trace.has_ttls else None
        self.expires = expires
        for at in range(len(trace)):
            self.wait_until_due(at)
            key = self.key(int(ids[at]))
            op = ops[at]
            if op == GET:
                if key in self.pending or len(self.pending) >= self.batch:
                    self.flush()
                self.pending[key] = at
                continue
            self.flush()
            if op == SET:
                self.client.set(key, self.value(sizes[at]), expire=self.expire(at), noreply=True)
                self.sets += 1
            elif op == DELETE:
                self.client.delete(key, noreply=True)
                self.deletes += 1
        self.flush()
        self.client.version()  # waits until every unreplied write before it has been served
        return self.gets, self.hits, self.sets, self.deletes

    def wait_until_due(self, at: int) -> None:
        """Send what is pending, then wait for request ``at``'s time, when it is not yet due."""
        while at >= self.due:
            self.flush()
            if time.monotonic() > self.deadline:
                raise CachetuneError("the replay against memcached ran past its time limit")
            self.due = self.pacer.wait(at, self.deadline)

    def expire(self, at: int) -> int:
        return 0 if self.expires is None else int(self.expires[at])

    def flush(self) -> None:
        """Send the pending GETs as one multi-get, then the SETs of their misses."""
        if not self.pending:
            return
        if time.monotonic() > self.deadline:
            raise CachetuneError("the replay against memcached ran past its time limit")
        found = self.client.get_many(list(self.pending))
        self.gets += len(self.pending)
        self.hits += len(found)
        sizes = self.trace.sizes
        missed = {key: at for key, at in self.pending.items() if key not in found}
        self.pending = {}
        if not missed:
            return
        if self.expires is None:
            self.client.set_many({key: self.value(sizes[at]) for key, at in missed.items()}, noreply=True)
        else:
            for key, at in missed.items():
                self.client.set(key, self.value(sizes[at]), expire=self.expire(at), noreply=True)
        self.sets += len(missed)


def _remove(client, prefix: str, trace: Trace) -> None:
    """Delete every key the replay may have written (its own prefix only)."""
    keys = [f"{prefix}{obj:0{ID_DIGITS}x}" for obj in range(trace.n_objects)]
    for start in range(0, len(keys), 1_000):
        client.delete_many(keys[start : start + 1_000], noreply=True)
    client.version()
