"""Sharded fleets: route each key to one of N caches as the client library would, and replay each shard alone.

A fleet of N caches (a Redis Cluster, a ring of memcached servers) holds each
key on the shard its client's hash picks, so one hot shard can miss while the
fleet's totals look fine. ``shard_replay`` splits a trace by shard, replays
every shard's requests through its own cache of ``capacity // N`` (or
``shard_capacity``), and reports the fleet's totals beside each shard's figures
and the imbalance (the hottest shard over the mean).

The routings (``SHARD_HASHES``), each computed once per distinct key:

- ``redis-cluster``: redis 7.0 ``cluster.c: keyHashSlot``: CRC16 (XMODEM:
  polynomial 0x1021, initial 0, ``crc16.c``) of the key, or of what lies
  between its first ``{`` and the first ``}`` after it when that is not empty,
  mod 16384; shard ``i`` of N owns the equal contiguous slot range
  ``slot * N // 16384 == i`` (as ``redis-cli --cluster create`` splits them).
- ``ketama``: libmemcached's ``hosts.cc: update_continuum`` in weighted-ketama
  mode (``MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED``, libketama compatible), every
  server of equal weight: 160 points per server, four from each MD5 of
  ``"<host>-<i>"`` (i = 0..39; the default port 11211 is left out of the
  string), each the little-endian 32-bit word ``digest[4a:4a+4]``; a key goes
  to the first point at or after the little-endian first word of its MD5,
  wrapping to the first point. The servers are named ``shard-0``, ``shard-1``,
  ... on port 11211, so the ring is the one a client configured with those
  host names would build; real host names give another (equally balanced) ring.
- ``rendezvous``: pymemcache 4 ``HashClient``'s ``RendezvousHash``: the node
  with the highest ``murmur3_32(f"{node}-{key}")`` (seed 0) wins, nodes named
  ``shard-0``, ``shard-1``, ... (a tie goes to the larger name, as there).
  ``HashClient`` refuses non-ASCII keys by default; a non-ASCII key is hashed
  here by its UTF-8 bytes (pymemcache would take each character's low byte).
- ``modulo``: the key mod N when keys are integers (generators' object ids),
  otherwise the trace's dense object id mod N.

Keys that are not ``str`` or ``bytes`` (integer ids from generators) are
hashed by their decimal string; ``str`` keys by their UTF-8 bytes, ``bytes`` as
they are (``rendezvous`` formats a ``bytes`` key as pymemcache's f-string does).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tuner.bench import RESULT_COLUMNS
from tuner.capacity import Capacity, parse_capacity
from tuner.engine.replay import Counts, ReplayResult
from tuner.errors import CachetuneError
from tuner.grid import ReplayTask, run_tasks
from tuner.lineup import named_policies
from tuner.seeds import DEFAULT_SEED
from tuner.trace import Trace

REDIS_CLUSTER_SLOTS = 16384
KETAMA_POINTS_PER_SERVER = 160  # MEMCACHED_POINTS_PER_SERVER_KETAMA
KETAMA_POINTS_PER_HASH = 4
MEMCACHED_DEFAULT_PORT = 11211
# Keys are hashed in chunks of this many, each as one zero-padded byte matrix (bounded memory).
_CHUNK = 1 << 15
_MATRIX_BYTES = 1 << 24


def shard_label(index: int) -> str:
    """The server name shard ``index`` hashes as (ketama's host, rendezvous' node)."""
    return f"shard-{index}"


# ---------------------------------------------------------------- keys as bytes


def _key_bytes(key: Any) -> bytes:
    if isinstance(key, bytes):
        return key
    return str(key).encode("utf-8")


def _padded(encoded: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """Keys as one zero-padded uint8 matrix, a row each, and their lengths."""
    lengths = np.fromiter((len(one) for one in encoded), np.int64, len(encoded))
    width = max(int(lengths.max()) if len(lengths) else 0, 1)
    matrix = np.zeros((len(encoded), width), np.uint8)
    matrix[np.arange(width) < lengths[:, None]] = np.frombuffer(b"".join(encoded), np.uint8)
    return matrix, lengths


def _chunks(keys: np.ndarray, encode: Callable[[Any], bytes]):
    """``(first key's position, (matrix, lengths))`` for runs of keys, each matrix at most ``_MATRIX_BYTES``
    unless one key alone is longer (long keys split a run, so one odd key does not widen thousands of rows)."""
    for start in range(0, len(keys), _CHUNK):
        encoded = [encode(key) for key in keys[start : start + _CHUNK]]
        pending = [(start, encoded)]
        while pending:
            first, run = pending.pop()
            if len(run) > 1 and len(run) * max(map(len, run)) > _MATRIX_BYTES:
                half = len(run) // 2
                pending += [(first + half, run[half:]), (first, run[:half])]
            else:
                yield first, _padded(run)


# ---------------------------------------------------------------- redis cluster


def _crc16_table() -> np.ndarray:
    table = np.zeros(256, np.uint32)
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
        table[byte] = crc & 0xFFFF
    return table


_CRC16 = _crc16_table()


def _crc16(matrix: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """CRC16-XMODEM of each row's bytes ``[start, start + length)``, a column at a time."""
    crc = np.zeros(len(matrix), np.uint32)
    rows = np.arange(len(matrix))
    last = matrix.shape[1] - 1
    for column in range(int(lengths.max()) if len(lengths) else 0):
        active = lengths > column
        byte = matrix[rows, np.minimum(starts + column, last)].astype(np.uint32)
        updated = ((crc << 8) & 0xFFFF) ^ _CRC16[((crc >> 8) ^ byte) & 0xFF]
        crc = np.where(active, updated, crc)
    return crc


def _hashed_part(matrix: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each key's hashed bytes start and how many: its hash tag (``keyHashSlot``) or the whole key."""
    columns = np.arange(matrix.shape[1])
    inside = columns < lengths[:, None]
    opens = (matrix == ord("{")) & inside
    has_open = opens.any(axis=1)
    first_open = opens.argmax(axis=1)
    closes = (matrix == ord("}")) & inside & (columns > first_open[:, None])
    has_close = closes.any(axis=1)
    first_close = closes.argmax(axis=1)
    tagged = has_open & has_close & (first_close > first_open + 1)
    starts = np.where(tagged, first_open + 1, 0)
    return starts, np.where(tagged, first_close - first_open - 1, lengths)


def redis_cluster_slots(keys) -> np.ndarray:
    """Each key's Redis Cluster hash slot (0..16383), as ``CLUSTER KEYSLOT`` answers."""
    keys = np.asarray(keys, dtype=object)
    slots = np.zeros(len(keys), np.int64)
    for start, (matrix, lengths) in _chunks(keys, _key_bytes):
        part_starts, part_lengths = _hashed_part(matrix, lengths)
        slots[start : start + len(matrix)] = _crc16(matrix, part_starts, part_lengths) & (REDIS_CLUSTER_SLOTS - 1)
    return slots


# ---------------------------------------------------------------- ketama


def _ketama_points_per_server(n_shards: int) -> int:
    """``update_continuum``'s weighted share in C float arithmetic (equal weights): 160, unless float rounding
    takes a hash off (the floor of a product a hair under 40)."""
    f = np.float32
    share = f(1) / f(n_shards) * f(KETAMA_POINTS_PER_SERVER) / f(KETAMA_POINTS_PER_HASH) * f(n_shards) + f(1e-10)
    return int(np.floor(share)) * KETAMA_POINTS_PER_HASH


def ketama_continuum(n_shards: int) -> tuple[np.ndarray, np.ndarray]:
    """The ring's points (uint32, sorted) and the shard each belongs to, ties ordered by shard as ``qsort``
    with ``continuum_item_cmp`` orders them."""
    hashes = _ketama_points_per_server(n_shards) // KETAMA_POINTS_PER_HASH
    values, owners = [], []
    for shard in range(n_shards):
        for index in range(hashes):
            digest = hashlib.md5(f"{shard_label(shard)}-{index}".encode()).digest()
            values.extend(np.frombuffer(digest, "<u4").tolist())
            owners.extend([shard] * KETAMA_POINTS_PER_HASH)
    values_array, owners_array = np.asarray(values, np.uint32), np.asarray(owners, np.int64)
    order = np.lexsort((owners_array, values_array))
    return values_array[order], owners_array[order]


def ketama_hashes(keys) -> np.ndarray:
    """Each key's ketama hash: the little-endian first word of its MD5 (``hashkit_md5``)."""
    keys = np.asarray(keys, dtype=object)
    digests = b"".join(hashlib.md5(_key_bytes(key)).digest()[:4] for key in keys)
    return np.frombuffer(digests, "<u4").astype(np.uint32)


def _ketama(keys: np.ndarray, n_shards: int) -> np.ndarray:
    points, owners = ketama_continuum(n_shards)
    # The first point at or after the hash, wrapping to the first (libmemcached's dispatch_host).
    found = np.searchsorted(points, ketama_hashes(keys), side="left")
    return owners[np.where(found == len(points), 0, found)]


# ---------------------------------------------------------------- rendezvous


def _rotl(value: np.ndarray, bits: int) -> np.ndarray:
    return (value << np.uint32(bits)) | (value >> np.uint32(32 - bits))


def _murmur3_32(matrix: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """MurmurHash3 x86 32-bit, seed 0, of each row's first ``length`` bytes, four bytes at a time."""
    c1, c2 = np.uint32(0xCC9E2D51), np.uint32(0x1B873593)
    rows = len(matrix)
    width = matrix.shape[1]
    padded = np.zeros((rows, width + 4 - width % 4), np.uint32)
    padded[:, :width] = matrix
    words = padded[:, 0::4] | (padded[:, 1::4] << 8) | (padded[:, 2::4] << 16) | (padded[:, 3::4] << 24)
    h1 = np.zeros(rows, np.uint32)
    blocks = lengths // 4
    with np.errstate(over="ignore"):
        for block in range(int(blocks.max()) if rows else 0):
            k1 = _rotl(words[:, block] * c1, 15) * c2
            mixed = _rotl(h1 ^ k1, 13) * np.uint32(5) + np.uint32(0xE6546B64)
            h1 = np.where(blocks > block, mixed, h1)
        # The tail: the last one to three bytes, already in the word after the full blocks (zeros beyond).
        tail = words[np.arange(rows), blocks]
        k1 = _rotl(tail * c1, 15) * c2
        h1 = np.where(lengths % 4 > 0, h1 ^ k1, h1)
        h1 ^= lengths.astype(np.uint32)
        h1 ^= h1 >> np.uint32(16)
        h1 *= np.uint32(0x85EBCA6B)
        h1 ^= h1 >> np.uint32(13)
        h1 *= np.uint32(0xC2B2AE35)
        h1 ^= h1 >> np.uint32(16)
    return h1


def _rendezvous(keys: np.ndarray, n_shards: int) -> np.ndarray:
    shards = np.zeros(len(keys), np.int64)
    labels = [shard_label(shard) for shard in range(n_shards)]
    for start, (matrix, lengths) in _chunks(keys, lambda key: str(key).encode("utf-8")):
        best = np.full(len(matrix), -1, np.int64)
        winner = np.zeros(len(matrix), np.int64)
        for shard, label in enumerate(labels):
            prefix = np.frombuffer(f"{label}-".encode(), np.uint8)
            prefixed = np.concatenate([np.broadcast_to(prefix, (len(matrix), len(prefix))), matrix], axis=1)
            score = _murmur3_32(prefixed, lengths + len(prefix)).astype(np.int64)
            # pymemcache keeps the first highest score, and on a tie the larger name (as a string).
            take = score > best
            for row in np.flatnonzero(score == best):
                take[row] = label > labels[winner[row]]
            best = np.where(take, score, best)
            winner = np.where(take, shard, winner)
        shards[start : start + len(matrix)] = winner
    return shards


# ---------------------------------------------------------------- routing


def _redis_cluster(keys: np.ndarray, n_shards: int) -> np.ndarray:
    return redis_cluster_slots(keys) * n_shards // REDIS_CLUSTER_SLOTS


SHARD_HASHES: dict[str, Callable[[np.ndarray, int], np.ndarray] | None] = {
    "redis-cluster": _redis_cluster,
    "ketama": _ketama,
    "rendezvous": _rendezvous,
    "modulo": None,  # by the trace's ids, not the keys' bytes (see ``shard_of_objects``)
}


def check_shards(n_shards: int, hash_name: str, hash_parameter: str = "hash") -> None:
    """A one-line CachetuneError unless ``n_shards`` is at least 1 and ``hash_name`` a known routing
    (``hash_parameter`` names the option that gave it: the CLI's is ``shard_hash``)."""
    if isinstance(n_shards, bool) or not isinstance(n_shards, (int, np.integer)) or n_shards < 1:
        raise CachetuneError(f"shards must be a whole number of at least 1, got {n_shards!r}", parameter="shards")
    if hash_name not in SHARD_HASHES:
        raise CachetuneError(f"{hash_parameter} must be one of {', '.join(SHARD_HASHES)}, got {hash_name!r}",
                             parameter=hash_parameter)  # fmt: skip


def shard_of_objects(trace: Trace, n_shards: int, hash_name: str = "redis-cluster") -> np.ndarray:
    """The shard of each of ``trace``'s distinct objects (indexed by id)."""
    check_shards(n_shards, hash_name)
    keys = np.asarray(trace.keys)
    if hash_name == "modulo":
        by_value = keys.dtype.kind in "iu" and (len(keys) == 0 or keys.min() >= 0)
        return (keys.astype(np.int64) if by_value else np.arange(len(keys), dtype=np.int64)) % n_shards
    return SHARD_HASHES[hash_name](keys.astype(object), int(n_shards)).astype(np.int64)


def sub_trace(trace: Trace, requests: np.ndarray, name: str) -> Trace:
    """The requests of ``trace`` that the boolean mask ``requests`` selects, ids renumbered densely."""
    ids, keys = pd.factorize(trace.ids[requests], sort=False)
    return Trace(ids=ids.astype(np.int32), timestamps=trace.timestamps[requests], sizes=trace.sizes[requests],
                 ops=trace.ops[requests], ttls=trace.ttls[requests], keys=np.asarray(trace.keys)[keys], name=name,
                 info=dict(trace.info))  # fmt: skip


# ---------------------------------------------------------------- replay


SHARD_COLUMNS = ["shard", "requests", "hits", "misses", "miss_ratio", "used", "resident", "evictions"]


@dataclass(frozen=True)
class ShardResult:
    """A fleet's replay: its totals, each shard's figures (``table``, one row per shard) and the imbalance.

    ``imbalance_requests`` (``imbalance_misses``) is the busiest shard's
    requests (misses) over the mean over shards: 1.0 for a perfectly even
    fleet, N when one shard takes everything (NaN when there are none).
    """

    policy: str
    hash: str
    shards: int
    shard_capacity: Capacity
    totals: Counts  # the fleet's: every shard's requests and misses, over the whole trace's span
    table: pd.DataFrame
    replays: tuple[ReplayResult, ...]

    @property
    def requests(self) -> int:
        return int(self.totals.requests)

    @property
    def hits(self) -> int:
        return int(self.totals.hits)

    @property
    def misses(self) -> int:
        return int(self.totals.misses)

    @property
    def miss_ratio(self) -> float:
        return self.totals.miss_ratio

    @property
    def imbalance_requests(self) -> float:
        return _over_mean(self.table["requests"])

    @property
    def imbalance_misses(self) -> float:
        return _over_mean(self.table["misses"])


def _over_mean(column: pd.Series) -> float:
    mean = float(column.mean())
    return float(column.max()) / mean if mean > 0 else float("nan")


def shard_capacity_of(trace: Trace, capacity, n_shards: int, shard_capacity=None) -> Capacity:
    """Each shard's capacity: ``shard_capacity`` when given, otherwise the fleet's ``capacity // n_shards``
    (a percentage is of the whole trace's distinct objects in both)."""
    if shard_capacity is not None:
        return parse_capacity(shard_capacity, trace.n_objects)
    fleet = parse_capacity(capacity, trace.n_objects)
    amount = fleet.amount // n_shards
    if amount < 1:
        raise CachetuneError(f"cache size {fleet.spec} is less than one {fleet.unit[:-1]} for each of "
                             f"{n_shards} shards", parameter="capacity")  # fmt: skip
    return Capacity(amount, fleet.unit, f"{fleet.spec}/{n_shards}")


def shard_replay(trace: Trace, policy: str, capacity=None, *, shards: int, hash: str = "redis-cluster",
                 shard_capacity=None, routing: np.ndarray | None = None, jobs: int | None = None,
                 dask: str | None = None, scratch=None, **options: Any) -> ShardResult:  # fmt: skip
    """Replay ``trace`` through a fleet of ``shards`` caches of ``policy``, each key on the shard ``hash`` picks.

    Each shard's requests are replayed alone (``tuner.replay`` with
    ``options``: seed, write policy, TTL, ...) at ``capacity // shards`` or
    ``shard_capacity``. ``routing`` (each object's shard, from
    ``shard_of_objects``) saves routing again when many replays share it.
    The shards replay in ``jobs`` threads, or as tasks of the Dask cluster
    ``dask``, each reading only its shard's requests from ``scratch``
    (``tuner.grid.run_tasks``).
    """
    if routing is None:
        routing = shard_of_objects(trace, shards, hash)
    else:
        check_shards(shards, hash)
    if capacity is None and shard_capacity is None:
        raise CachetuneError("a sharded replay needs a capacity or a shard capacity", parameter="capacity")
    size = shard_capacity_of(trace, capacity, shards, shard_capacity)
    tasks = [ReplayTask(shard, policy, size, options) for shard in range(shards)]
    return _fleet(trace, hash, size, run_tasks(shard_parts(trace, routing), tasks, jobs=jobs, dask=dask,
                                               scratch=scratch))  # fmt: skip


def shard_parts(trace: Trace, routing: np.ndarray) -> Callable[[int], Trace]:
    """Shard ``i``'s requests (``routing`` gives each object's shard) as a trace of their own, for ``run_tasks``."""
    by_request = routing[trace.ids]
    return lambda shard: sub_trace(trace, by_request == shard, f"{trace.name} [{shard_label(shard)}]")


def _fleet(trace: Trace, hash: str, size: Capacity, replays: list[ReplayResult]) -> ShardResult:
    """A fleet's result from its shards' replays, in shard order."""
    rows = [{"shard": shard, "requests": result.requests, "hits": result.hits, "misses": result.misses,
             "miss_ratio": result.miss_ratio, "used": result.used, "resident": result.resident,
             "evictions": result.evictions} for shard, result in enumerate(replays)]  # fmt: skip
    return ShardResult(policy=replays[0].policy, hash=hash, shards=len(replays), shard_capacity=size,
                       totals=summed_counts(replays, trace.span_seconds),
                       table=pd.DataFrame(rows, columns=SHARD_COLUMNS), replays=tuple(replays))  # fmt: skip


def summed_counts(counts: Sequence[Counts], span_seconds: float) -> Counts:
    """A fleet's counts: its shards' (or their counts at one instant) added up, over the whole trace's span."""
    return Counts(sum(one.requests for one in counts), sum(one.misses for one in counts),
                  sum(one.bytes_requested for one in counts), sum(one.bytes_missed for one in counts),
                  span_seconds)  # fmt: skip


@dataclass(frozen=True)
class ShardBenchResult:
    """``bench`` over a fleet: ``table`` has a bench results row per (policy, size) with the fleet's totals;
    ``shards`` has each shard's figures for each (policy, size), with the imbalance of its fleet."""

    table: pd.DataFrame
    shards: pd.DataFrame
    options: dict[str, Any]

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table by the name of the run file it is saved as (``results.csv``, ``shards.csv``)."""
        return {"results": self.table, "shards": self.shards}


def shard_bench(trace: Trace, policies, sizes, *, shards: int, hash: str = "redis-cluster", shard_capacity=None,
                seed: int | None = None, jobs: int | None = None, dask: str | None = None, scratch=None,
                on_progress: Callable[[int, int], None] | None = None, **options: Any) -> ShardBenchResult:  # fmt: skip
    """Every policy at every fleet size (or once at ``shard_capacity``), each fleet as ``shard_replay`` replays it.

    The rows carry the columns of ``tuner.bench``'s table; the figures only a
    single cache has (the floor, intervals over seeds, the hourly timeline) are
    left empty. Every shard's replay at every size is one task of one grid
    (``tuner.grid.run_tasks``: ``jobs`` threads, or the Dask cluster ``dask``
    with the shards' requests written once to ``scratch``); ``on_progress``
    is called as each one finishes.
    """
    chosen = named_policies(policies)
    routing = shard_of_objects(trace, shards, hash)
    fleet_sizes = [None] if shard_capacity is not None else list(sizes)
    seed = DEFAULT_SEED if seed is None else seed
    tasks = [ReplayTask(shard, policy.name, shard_capacity_of(trace, size, shards, shard_capacity),
                        {"seed": seed, **options})
             for size in fleet_sizes for policy in chosen for shard in range(shards)]  # fmt: skip
    replays = run_tasks(shard_parts(trace, routing), tasks, jobs=jobs, dask=dask, scratch=scratch,
                        on_progress=on_progress)  # fmt: skip
    rows, shard_tables = [], []
    for size in fleet_sizes:
        for _ in chosen:
            first = len(rows) * shards  # this fleet's replays, one a shard, where the tasks listed them
            result = _fleet(trace, hash, tasks[first].capacity, replays[first : first + shards])
            each = result.shard_capacity
            fleet = parse_capacity(size, trace.n_objects) if size is not None else None
            row = dict.fromkeys(RESULT_COLUMNS, float("nan"))
            row.update(workload=trace.name, policy=result.policy, params="{}",
                       cache_size=fleet.amount if fleet else each.amount * shards, size_unit=each.unit,
                       size_spec=fleet.spec if fleet else f"{shards}×{each.spec}", requests=result.requests,
                       hits=result.hits, misses=result.misses, miss_ratio=result.miss_ratio,
                       byte_miss_ratio=result.totals.byte_miss_ratio, misses_per_hour=result.totals.misses_per_hour,
                       evictions=sum(one.evictions for one in result.replays),
                       backend_reads=sum(one.backend_reads for one in result.replays),
                       seconds=sum(one.seconds for one in result.replays), seeds=1,
                       imbalance_requests=result.imbalance_requests,
                       imbalance_misses=result.imbalance_misses)  # fmt: skip
            rows.append(row)
            table = result.table.copy()
            table.insert(0, "policy", result.policy)
            table.insert(1, "cache_size", row["cache_size"])
            table.insert(2, "shard_capacity", each.amount)
            table.insert(3, "size_unit", each.unit)
            table["imbalance_requests"] = result.imbalance_requests
            table["imbalance_misses"] = result.imbalance_misses
            shard_tables.append(table)
    run_options = {"policies": [policy.name for policy in chosen], "sizes": [str(size) for size in sizes],
                   "shards": shards, "shard_hash": hash,
                   "shard_capacity": None if shard_capacity is None else str(shard_capacity), "seed": seed,
                   "jobs": jobs, "dask": dask, "scratch": None if scratch is None else str(scratch),
                   **{name: value for name, value in options.items()}}  # fmt: skip
    return ShardBenchResult(pd.DataFrame(rows), pd.concat(shard_tables, ignore_index=True), run_options)
