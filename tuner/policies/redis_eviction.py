"""Redis 7.0's key eviction as Redis does it: the machinery ``redis-lru``, ``redis-lfu``, ``redis-random``
and ``redis-ttl`` share (this module defines no POLICY; the four compile one loop, this module's ``replay``).

Followed from the redis 7.0.15 source:

- ``server.c: processCommand`` runs ``evict.c: performEvictions`` before every command, which
  evicts until the memory in use is at most ``maxmemory``. So a write may take the server over
  the limit, and the keys are evicted before the next command, the newly written key among the
  candidates. The model does the same right after the insertion (``on_insert`` sees the newcomer
  held, so it may evict it); with nothing to evict (``volatile-*`` and no key with a TTL) the next
  write is refused (``admit``), as Redis answers OOM to it (and the write that would cross the limit
  too, which Redis still takes).
- ``evict.c: evictionPoolPopulate``: ``maxmemory-samples`` keys from ``dict.c: dictGetSomeKeys``
  enter the 16-entry pool, best score right; the pool is kept between evictions; an entry is not
  looked up before insertion, so a key sampled twice sits in the pool twice, and an entry keeps
  its score when the key is touched later (it is a name and a score, not a pointer). A key
  enters left of entries of an equal score (``pool[k].idle < idle`` is strict), and a full pool
  drops its leftmost. ``performEvictions`` samples once per eviction, then takes the rightmost
  entry whose key still exists (``dictFind``; a key evicted and written again since it was
  sampled exists again, with a stale score); stale entries are dropped on the way.
- ``dict.c: dictGetSomeKeys`` reads *consecutive buckets from a random position* (restarting at a
  new random bucket after more than ``count`` and at least 5 empty ones), takes whole chains
  (newest key first, as ``dictAddRaw`` links it at the head), and for the chain that overflows
  the sample keeps a reservoir of it; at most ``10·count`` buckets are read. Bucket order is by
  the key's hash, so a sample is a cluster of neighbours in hash order, not ``count`` independent
  draws: the model keeps each object's hash (random, seeded: Redis's siphash seed is random per
  start) and the same table of chains.
- ``dict.c: _dictExpandIfNeeded``: a table doubles when its keys reach its buckets, but
  ``server.c: dictExpandAllowed`` refuses while the new bucket array (8 bytes a bucket) would take
  the memory over ``maxmemory``, unless the load factor exceeds 1.618. Tables start at 4 buckets.
- ``dict.c: dictGetRandomKey`` (``allkeys-random``): a random non-empty bucket, then a uniform
  entry of its chain.
- ``evict.c: estimateObjectIdleTime``, ``server.c: LRU_CLOCK`` (``allkeys-lru``): a key's clock is
  the server's clock in seconds (24 bits, wrapping), set when it is created and on every access
  (``db.c: lookupKey``); the score is the idle time at one-second resolution, so keys touched in
  the same second tie. The model's clock is the trace's timestamp, floored to the second.
- ``evict.c: LFULogIncr, LFUDecrAndReturn, updateLFU`` (``allkeys-lfu``): an 8-bit counter starting
  at 5, incremented on an access with probability ``1/((c−5)·lfu-log-factor+1)``, decremented by
  one per ``lfu-decay-time`` minutes elapsed since its last access (16-bit minutes; 0 = never),
  scored as ``255 − counter``. A write to an existing key keeps its counter (``db.c: dbOverwrite``).
- ``volatile-ttl``: the score is the expiry, soonest best, sampled from the keys with a TTL.
- ``expire.c: activeExpireCycle`` (slow cycle, from ``serverCron`` at hz 10, every 100 ms of trace
  time): a cursor walks the expiry table's buckets, 20 keys per round (at most 400 buckets), and
  rounds repeat while more than 10 % of those sampled were expired (the acceptable-stale share of
  the default effort). Lazy expiry on access is the loop's own. The model keeps, per bucket of the
  expiry table, its count of keys and a time none of them expires before, so a bucket with nothing
  expired counts as sampled without its keys being read (the same keys sampled, the same expired).

Memory is what ``charge`` (below) gives each key, measured on a real 7.0 server
(``tuner.live.calibrate.calibrate_redis``, shipped as ``tuner/calibrations/redis-7.0.json``): per
key its dict entry, key, object and value as the allocator rounds them; the model adds what depends
on the table: the buckets of the key table and of the expiry table (8 bytes each, tables as above)
and each TTL's expiry entry. The loop's capacity is ``maxmemory`` less the server's baseline, plus
the largest charge (the room a write may take before its evictions); the model keeps its own
account within the limit.

Simplifications: rehashing is done at once when a table doubles (Redis moves a bucket per
operation, the two tables both in use meanwhile, sampled both); tables never shrink (Redis halves
a table below 10 % full from ``serverCron``); the fast expire cycle (in 7.0 it runs only after
a slow cycle hit its time limit: ``activeExpireCycle`` compares a fraction with a percentage) and
the cycle's 25 ms time limit are left out (a cycle reads at most a whole table); the server clock
is the request's time (Redis caches it every 100 ms); a key resized by a write is a new key (its
LFU counter restarts at 5); random numbers are the model's own (SplitMix64), not ``random()``/``genrand64``.

Versions: 7.2 and 7.4 keep this eviction (7.4 adds per-field hash TTLs and splits the dicts per
slot only in cluster mode); Valkey 8 replaces the dict with ``kvstore``s of per-slot hashtables and,
in 8.1, an open-addressing ``hashtable`` whose random sampling differs. Counts at an object capacity
(no ``maxmemory``, keys as units) ignore buckets and TTL entries.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import numpy as np
from numba import njit
from numba.extending import register_jitable

from tuner.capacity import OBJECTS
from tuner.engine.kernel import NEVER, expire, is_write, release, replay_requests, size_of
from tuner.engine.named_state import named_state
from tuner.engine.prefetch import prefetch
from tuner.errors import CachetuneError
from tuner.policies.base import Charge, Param, PolicyInput
from tuner.policies.rng import next_u64, seed_state

VERSION = "7.0"
LRU, LFU, RANDOM, TTL = 0, 1, 2, 3
POOL_SIZE = 16  # EVPOOL_SIZE
MOST_SAMPLES = 64
INITIAL_BUCKETS = 4  # DICT_HT_INITIAL_SIZE
MAX_LOAD = 1.618  # HASHTABLE_MAX_LOAD_FACTOR: past it a table doubles whatever the memory
LRU_CLOCK_MAX = (1 << 24) - 1
LFU_INIT = 5
CRON_SECONDS = 0.1  # serverCron at hz 10
EXPIRE_KEYS_PER_LOOP = 20
EXPIRE_ACCEPTABLE_STALE = 10  # per cent
EMPTY = np.int32(-1)  # no entry: an empty bucket's head, a chain's end
UNLISTED = np.int32(-2)  # a record's link when its table does not hold the key

# The scalars: what the model is (kind, scope, parameters), its generator, the two tables' buckets
# and keys, the memory it accounts (key charges, limit, the calibrated bytes a bucket and a TTL
# entry take), when the next serverCron runs with the expire cycle's cursor, and how many entries the
# eviction pool holds (they fill its left: entries leave from the right).
RedisState, replace = named_state(
    "RedisState",
    ["kind", "volatile", "samples", "log_factor", "decay_minutes", "rng",
     "key_buckets", "keys", "expire_buckets", "expiring_keys",
     "key_bytes", "limit", "bucket_bytes", "ttl_bytes", "next_cron", "cursor", "pooled"],
)  # fmt: skip
# Per object: its hash, its chain links in the key table and the expiry table (``UNLISTED`` when that
# table does not hold it), its LRU clock or LFU word; per bucket of either table, its chain's head and
# its count of keys (see ``_some_keys``); per expiry bucket, a time no key of it expires before (see
# ``_expire_cycle``); the eviction pool; a sample buffer and its keys' scores; the requests' operations
# (``PolicyInput.ops``: a hit changes a key's expiry only when it is a SET).
# ``hashes``, ``key_next``, ``expire_next`` and ``clock`` are columns of one record per object
# (``OBJECT_RECORD``), so a sampled key's link and score, whether a pool entry's key still exists, and
# its unlinking, read one cache line, not four: an eviction mostly waits for memory.
RedisArrays = namedtuple(
    "RedisArrays",
    ["hashes", "key_heads", "key_counts", "key_next", "expire_heads", "expire_next", "expire_counts", "expire_soonest",
     "clock", "pool_keys", "pool_scores", "sample", "sample_scores", "ops"],
)  # fmt: skip

# The hash keeps its low 32 bits: a table's bucket is the hash's low bits, and a table never has more
# buckets than the objects' count rounded up to a power of two (ids are 32-bit). The clock holds 24 bits
# (an LRU clock, or an LFU word: 16-bit minutes and an 8-bit counter).
OBJECT_RECORD = np.dtype([("hash", np.uint32), ("key_next", np.int32), ("expire_next", np.int32), ("clock", np.int32)])

SAMPLES = Param("samples", 5, 1, 64, "maxmemory-samples: keys sampled per eviction into the pool", log=True,
                most=MOST_SAMPLES)  # fmt: skip
VOLATILE = Param("volatile", 0, 0, 0, "1: volatile-* (only keys with a TTL are evicted), 0: allkeys-*", most=1)
KEY_SIZE = Param("key_size", 0, 0, 0, "bytes of every key name (0: each trace key's own length)")
LFU_LOG_FACTOR = Param("lfu_log_factor", 10, 0, 100, "lfu-log-factor: higher, slower counter growth", most=255)
LFU_DECAY_TIME = Param("lfu_decay_time", 1, 0, 60, "lfu-decay-time in minutes (0: counters never decay)")


# ---------------------------------------------------------------- clocks and scores


@njit(inline="always")
def _lru_clock(now):
    return np.int64(np.floor(now)) & LRU_CLOCK_MAX


@njit(inline="always")
def _minutes(now):
    return (np.int64(np.floor(now)) // 60) & 65535


@njit(inline="always")
def _lfu_counter(word, now, decay_minutes):
    """LFUDecrAndReturn: the counter less one per decay period since the last access."""
    last = word >> 8
    counter = word & 255
    current = _minutes(now)
    elapsed = current - last if current >= last else 65535 - last + current
    if decay_minutes <= 0:
        periods = 0
    elif decay_minutes == 1:  # the default: no division
        periods = elapsed
    else:
        periods = elapsed // decay_minutes
    return counter - periods if periods < counter else np.int64(0)


@njit(inline="always")
def _uniform(rng):
    rng, bits = next_u64(rng)
    return rng, np.float64(bits >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(inline="always")
def _touch(state, arrays, obj, now):
    """An access (lookupKey): the LRU clock is now; the LFU counter decays, then grows by chance.
    (random and volatile-ttl never read the clock, so they leave it.)"""
    if state.kind == LFU:
        counter = _lfu_counter(arrays.clock[obj], now, state.decay_minutes)
        rng = state.rng
        if counter < 255:
            rng, draw = _uniform(rng)
            base = max(counter - LFU_INIT, 0)
            if base == 0 or draw < 1.0 / (base * state.log_factor + 1.0):  # at base 0 the chance is 1
                counter += 1
        arrays.clock[obj] = (_minutes(now) << 8) | counter
        return replace(state, rng=rng)
    if state.kind == LRU:
        arrays.clock[obj] = _lru_clock(now)
    return state


@njit(inline="always")
def _score(state, arrays, cache, obj, now):
    """The pool's score (``idle``): higher is a better victim."""
    if state.kind == LFU:
        return 255 - _lfu_counter(arrays.clock[obj], now, state.decay_minutes)
    if state.kind == TTL:
        return -np.int64(np.floor(cache.expires[obj] * 1000.0))
    clock, last = _lru_clock(now), arrays.clock[obj]
    return clock - last if clock >= last else clock + (LRU_CLOCK_MAX - last)


# ---------------------------------------------------------------- the dict: chained buckets by hash


@njit(inline="always")
def _bucket(hashes, buckets, obj):
    """The bucket of ``obj`` in a table of ``buckets`` (a power of two): its hash's low bits."""
    return hashes[np.uint32(obj)] & np.uint64(buckets - 1)


@njit(inline="always")
def _link(heads, counts, links, hashes, buckets, obj):
    """dictAddRaw: the new entry heads its bucket's chain."""
    bucket = _bucket(hashes, buckets, obj)
    links[np.uint32(obj)] = heads[bucket]
    heads[bucket] = obj
    counts[bucket] += 1


@njit(inline="always")
def _unlink(heads, counts, links, hashes, buckets, obj):
    bucket = _bucket(hashes, buckets, obj)
    previous, entry = EMPTY, heads[bucket]
    while entry != obj:
        previous, entry = entry, links[np.uint32(entry)]
    if previous < 0:
        heads[bucket] = links[np.uint32(obj)]
    else:
        links[np.uint32(previous)] = links[np.uint32(obj)]
    links[np.uint32(obj)] = UNLISTED
    counts[bucket] -= 1


@njit
def _double(heads, counts, links, hashes, buckets):
    """Rehash into twice the buckets, as dictRehash moves them: each old chain head first, each entry
    to the head of its new bucket (old bucket j feeds only j and j + buckets, both empty beyond the
    old table)."""
    mask = np.uint64(2 * buckets - 1)
    for j in range(buckets):
        entry = heads[j]
        heads[j] = EMPTY
        counts[j] = 0
        while entry >= 0:
            following = links[entry]
            bucket = hashes[entry] & mask
            links[entry] = heads[bucket]
            heads[bucket] = entry
            counts[bucket] += 1
            entry = following
    return 2 * buckets


@njit
def _double_expiries(arrays, buckets):
    """Rehash the expiry table into twice the buckets, with each bucket's bound (a bucket's keys come
    from one old bucket, so its bound still holds)."""
    doubled = _double(arrays.expire_heads, arrays.expire_counts, arrays.expire_next, arrays.hashes, buckets)
    for j in range(buckets, doubled):
        arrays.expire_soonest[j] = arrays.expire_soonest[j - buckets]
    return doubled


@njit(inline="always")
def _memory(state):
    """The bytes the model accounts: keys, TTL entries and both tables' buckets."""
    buckets = state.key_buckets + state.expire_buckets
    return state.key_bytes + state.expiring_keys * state.ttl_bytes + buckets * state.bucket_bytes


@njit(inline="always")
def _may_grow(state, buckets, keys):
    """_dictExpandIfNeeded with dictExpandAllowed: whether a table of ``buckets`` holding ``keys``
    doubles before its next key."""
    if keys < buckets:
        return False
    if keys > MAX_LOAD * buckets or state.bucket_bytes == 0:
        return True
    return _memory(state) + 2 * buckets * state.bucket_bytes <= state.limit


@njit(inline="always")
def _add_key(state, arrays, obj):
    buckets = state.key_buckets
    if buckets == 0:
        buckets = INITIAL_BUCKETS
    elif _may_grow(state, buckets, state.keys):
        buckets = _double(arrays.key_heads, arrays.key_counts, arrays.key_next, arrays.hashes, buckets)
    _link(arrays.key_heads, arrays.key_counts, arrays.key_next, arrays.hashes, buckets, obj)
    return replace(state, key_buckets=buckets, keys=state.keys + 1)


@njit(inline="always")
def _add_expiry(state, arrays, cache, obj):
    buckets = state.expire_buckets
    if buckets == 0:
        buckets = INITIAL_BUCKETS
    elif _may_grow(state, buckets, state.expiring_keys):
        buckets = _double_expiries(arrays, buckets)
    state = replace(state, expire_buckets=buckets, expiring_keys=state.expiring_keys + 1)
    _link(arrays.expire_heads, arrays.expire_counts, arrays.expire_next, arrays.hashes, buckets, obj)
    bucket = _bucket(arrays.hashes, buckets, obj)
    arrays.expire_soonest[bucket] = min(arrays.expire_soonest[bucket], cache.expires[obj])
    return state


@njit(inline="always")
def _drop_expiry(state, arrays, obj):
    _unlink(arrays.expire_heads, arrays.expire_counts, arrays.expire_next, arrays.hashes, state.expire_buckets, obj)
    return replace(state, expiring_keys=state.expiring_keys - 1)


@njit(inline="always")
def _forget(state, arrays, cache, obj):
    """The key leaves both tables and the account (its pool entries stay, as Redis's do)."""
    if _expiring(arrays, obj):
        state = _drop_expiry(state, arrays, obj)
    _unlink(arrays.key_heads, arrays.key_counts, arrays.key_next, arrays.hashes, state.key_buckets, obj)
    return replace(state, keys=state.keys - 1, key_bytes=state.key_bytes - size_of(cache, obj))


@njit(inline="always")
def _expiring(arrays, obj):
    """Whether the expiry table holds ``obj``."""
    return arrays.expire_next[obj] != UNLISTED


@njit(inline="always")
def _has_ttl(cache, obj):
    return cache.expires.shape[0] > obj and cache.expires[obj] < NEVER


@njit(inline="always")
def _sync_expiry(state, arrays, cache, obj, expiring):
    """A write set or cleared the key's TTL: it enters or leaves the expiry table (or, listed, may
    now expire sooner than its bucket's bound)."""
    listed = _expiring(arrays, obj)
    if expiring and not listed:
        return _add_expiry(state, arrays, cache, obj)
    if listed and not expiring:
        return _drop_expiry(state, arrays, obj)
    if listed:
        bucket = _bucket(arrays.hashes, state.expire_buckets, obj)
        arrays.expire_soonest[bucket] = min(arrays.expire_soonest[bucket], cache.expires[obj])
    return state


# ---------------------------------------------------------------- sampling and the pool


@njit(inline="always")
def _from_expiry_table(state):
    """Whether the candidates are the keys with a TTL, sampled from the expiry table (``volatile-*``, and
    ``volatile-ttl`` always), rather than every key, from the key table."""
    return state.volatile or state.kind == TTL


@njit(inline="always")
def _candidate_count(state):
    return state.expiring_keys if _from_expiry_table(state) else state.keys


@njit(inline="always")
def _candidate_table(state, arrays):
    """The candidates' table: its bucket heads, counts, chain links and number of buckets."""
    if _from_expiry_table(state):
        return arrays.expire_heads, arrays.expire_counts, arrays.expire_next, state.expire_buckets
    return arrays.key_heads, arrays.key_counts, arrays.key_next, state.key_buckets


@njit(inline="always")
def _some_keys(state, heads, counts, links, buckets, keys, sample):
    """dictGetSomeKeys: up to ``samples`` keys from consecutive buckets at a random start, into
    ``sample``; returns the generator state and how many.

    A bucket's count of keys says what it adds to the sample without reading its chain: its head is
    stored whether or not the bucket is empty (an empty one's is overwritten by the next key), and
    only a chain of two or more is walked. Whether a bucket is empty, and where its chain ends, cannot
    be predicted: branching on them cost a mispredicted branch per bucket, each resolved only once a
    key's record had loaded."""
    wanted = np.uint64(min(state.samples, keys))
    rng = state.rng
    mask = np.uint64(buckets - 1)
    rng, bits = next_u64(rng)
    at = bits & mask
    steps = wanted * np.uint64(10)
    empty_run = np.uint64(0)
    stored = np.uint64(0)
    while stored < wanted and steps > 0:
        steps -= np.uint64(1)
        count = np.uint64(counts[at])
        entry = heads[at]
        sample[stored] = entry
        stored += np.uint64(count > 0)
        empty_run = (empty_run + np.uint64(1)) * np.uint64(count == 0)
        if count > 1:
            for _ in range(count - np.uint64(1)):
                entry = links[np.uint32(entry)]
                if stored < wanted:
                    sample[stored] = entry
                else:  # the chain overflows the sample: a reservoir of it
                    rng, bits = next_u64(rng)
                    slot = bits % (stored + np.uint64(1))
                    if slot < wanted:
                        sample[slot] = entry
                stored += np.uint64(1)
        elif empty_run >= 5 and empty_run > wanted:
            rng, bits = next_u64(rng)
            at = bits & mask
            empty_run = np.uint64(0)
        at = (at + np.uint64(1)) & mask
    return rng, min(stored, wanted)


@njit(inline="always")
def _populate(state, arrays, cache, now):
    """evictionPoolPopulate: sample the candidates' table and file each key in the pool by score.

    The sampled keys are all scored before any is filed: where a key is filed cannot be predicted, and
    each mispredicted branch would hold back the next key's score (its record's load, the eviction's
    longest wait), so the scores load together."""
    heads, counts, links, buckets = _candidate_table(state, arrays)
    rng, got = _some_keys(state, heads, counts, links, buckets, _candidate_count(state), arrays.sample)
    pool_keys, pool_scores = arrays.pool_keys, arrays.pool_scores
    pooled = state.pooled
    for j in range(got):
        arrays.sample_scores[j] = _score(state, arrays, cache, np.uint32(arrays.sample[j]), now)
    for j in range(got):
        obj, score = arrays.sample[j], arrays.sample_scores[j]
        k = np.uint64(0)
        while k < pooled and pool_scores[k] < score:
            k += np.uint64(1)
        if pooled < POOL_SIZE:  # room on the right: shift right from k
            for m in range(pooled, k, -1):
                pool_keys[np.uint64(m)] = pool_keys[np.uint64(m - 1)]
                pool_scores[np.uint64(m)] = pool_scores[np.uint64(m - 1)]
            pooled += np.uint64(1)
        elif k == 0:
            continue  # worse than all, and no room
        else:  # full: drop the leftmost, insert at k - 1
            k -= np.uint64(1)
            for m in range(k):
                pool_keys[np.uint64(m)] = pool_keys[np.uint64(m + 1)]
                pool_scores[np.uint64(m)] = pool_scores[np.uint64(m + 1)]
        pool_keys[k] = obj
        pool_scores[k] = score
    return replace(state, rng=rng, pooled=pooled)


@njit(inline="always")
def _candidate(state, arrays, obj):
    """Whether a pool entry's key still exists (``dictFind`` in the candidates' table)."""
    links = _candidate_table(state, arrays)[2]
    return links[np.uint32(obj)] != UNLISTED


@njit(inline="always")
def _random_key(state, heads, counts, links, buckets):
    """dictGetRandomKey: a random non-empty bucket, then a uniform entry of its chain."""
    rng = state.rng
    mask = np.uint64(buckets - 1)
    entry, bucket = EMPTY, np.uint64(0)
    while entry < 0:
        rng, bits = next_u64(rng)
        bucket = bits & mask
        entry = heads[bucket]
    length = np.uint64(counts[bucket])
    rng, bits = next_u64(rng)
    if length > 1:  # (a chain of one needs no division)
        for _ in range(bits % length):
            entry = links[np.uint32(entry)]
    return rng, entry


@njit(inline="always")
def _choose(state, arrays, cache, now):
    """performEvictions' choice of one key, or -1 when no key is a candidate."""
    if _candidate_count(state) == 0:
        return state, EMPTY
    if state.kind == RANDOM:
        heads, counts, links, buckets = _candidate_table(state, arrays)
        rng, victim = _random_key(state, heads, counts, links, buckets)
        return replace(state, rng=rng), victim
    while True:
        state = _populate(state, arrays, cache, now)
        pooled = state.pooled
        while pooled > 0:  # the rightmost entry whose key exists; the others taken are dropped
            pooled -= np.uint64(1)
            obj = arrays.pool_keys[pooled]
            if _candidate(state, arrays, obj):
                return replace(state, pooled=pooled), obj
        state = replace(state, pooled=0)


@njit(inline="always")
def _settle(state, arrays, cache, now):
    """Evict until the memory is within the limit, or nothing is left to evict."""
    while _memory(state) > state.limit:
        state, victim = _choose(state, arrays, cache, now)
        if victim < 0:
            break
        state = _forget(state, arrays, cache, victim)
        release(cache, victim)
    return state


# ---------------------------------------------------------------- active expiry


@njit(inline="always")
def _expire_cycle(state, arrays, cache, now):
    """activeExpireCycle (slow): walk the expiry table from the cursor, 20 keys a round, while more
    than 10 % of a round's keys were expired (reading at most the whole table).

    A bucket whose bound (``expire_soonest``: no key of it expires before) is still ahead holds no
    expired key, so its keys count as sampled without reading them (each key's expiry is a read from
    memory, the cycle's whole cost); a bucket read has its bound made exact again. Inlined: called,
    with every array of the model as arguments, at each 100 ms of trace time, it took half of a
    replay with TTLs at 128 MiB."""
    cursor = state.cursor
    read = 0
    while state.expiring_keys > 0 and read < state.expire_buckets:
        buckets = state.expire_buckets
        if buckets > INITIAL_BUCKETS and state.expiring_keys * 100 // buckets < 1:
            break
        wanted = min(state.expiring_keys, EXPIRE_KEYS_PER_LOOP)
        sampled = expired = checked = 0
        while sampled < wanted and checked < wanted * 20:
            bucket = cursor & np.uint64(state.expire_buckets - 1)
            checked += 1
            cursor += np.uint64(1)
            if now < arrays.expire_soonest[bucket]:
                sampled += arrays.expire_counts[bucket]
                continue
            soonest = NEVER
            entry = arrays.expire_heads[bucket]
            while entry >= 0:
                following = arrays.expire_next[entry]
                if now >= cache.expires[entry]:
                    state = _forget(state, arrays, cache, entry)
                    expire(cache, entry)
                    expired += 1
                else:
                    soonest = min(soonest, cache.expires[entry])
                sampled += 1
                entry = following
            arrays.expire_soonest[bucket] = soonest
        read += checked
        if sampled and expired * 100 // sampled <= EXPIRE_ACCEPTABLE_STALE:
            break
    return replace(state, cursor=cursor)


@njit(inline="always")
def _cron(state, arrays, cache, now):
    """serverCron's expire cycles up to ``now`` (one per 100 ms tick, at most ten in a row)."""
    if now < state.next_cron:
        return state
    ticks = np.int64(np.floor((now - state.next_cron) / CRON_SECONDS)) + 1
    state = replace(state, next_cron=state.next_cron + ticks * CRON_SECONDS)
    if state.expiring_keys > 0:
        for _ in range(min(ticks, 10)):
            state = _expire_cycle(state, arrays, cache, now)
    return state


# ---------------------------------------------------------------- the hooks


@njit(inline="always")
def _on_hit(state, arrays, cache, obj, size, now, i):
    state = _cron(state, arrays, cache, now)
    state = _touch(state, arrays, obj, now)
    if cache.expires.shape[0] > 1 and is_write(arrays.ops, i):  # a GET leaves the expiry as it was
        listed = _expiring(arrays, obj)
        if _has_ttl(cache, obj) != listed:
            state = _sync_expiry(state, arrays, cache, obj, not listed)
            state = _settle(state, arrays, cache, now)
        elif listed:  # a write may have brought its expiry nearer
            state = _sync_expiry(state, arrays, cache, obj, True)
    return state


@njit(inline="always")
def _on_miss(state, arrays, cache, obj, size, now, i):
    return _cron(state, arrays, cache, now)


@njit(inline="always")
def _on_insert(state, arrays, cache, obj, size, now, i):
    state = _add_key(state, arrays, obj)
    if state.kind == LFU:
        arrays.clock[obj] = (_minutes(now) << 8) | LFU_INIT
    elif state.kind == LRU:
        arrays.clock[obj] = _lru_clock(now)
    if _has_ttl(cache, obj):
        state = _add_expiry(state, arrays, cache, obj)
    state = replace(state, key_bytes=state.key_bytes + size)
    return _settle(state, arrays, cache, now)


@njit(inline="always")
def _on_remove(state, arrays, cache, obj, now, i):
    return _forget(state, arrays, cache, obj)


@njit(inline="always")
def _evict(state, arrays, cache, obj, size, now, i):
    """The loop's own eviction (its capacity leaves room for a write, so only a caller that gives no
    room asks): a candidate as ``performEvictions`` chooses it, else any key."""
    state, victim = _choose(state, arrays, cache, now)
    if victim < 0:
        rng, victim = _random_key(state, arrays.key_heads, arrays.key_counts, arrays.key_next, state.key_buckets)
        state = replace(state, rng=rng)
    return _forget(state, arrays, cache, victim), victim


@register_jitable(inline="always")
def _admit(state, arrays, cache, obj, size, now, i):
    """Before a write, performEvictions brings the memory within the limit; if it cannot (no key is a
    candidate) the write is refused, as Redis answers OOM. With no candidate, the model also refuses
    the write that would cross the limit (Redis takes that one and refuses the next), so the memory
    stays within it. ``register_jitable``: see s3fifo's.

    The evictions themselves are already done: every hook that adds memory (a key, a TTL entry, a
    table doubling) settles right after, so the memory is over the limit here only when that found no
    candidate, and none has appeared since (a candidate comes only with a key or a TTL, settled at
    once). So this hook stays small enough to be inlined into the loop: called, with every array of the
    model as arguments, it took 40 % of a replay's time at 16 MiB (redis-random)."""
    if _memory(state) > state.limit:
        return state, False
    stuck = _candidate_count(state) == 0
    return state, not (stuck and _memory(state) + size > state.limit)


@register_jitable(inline="always")
def _ahead(state, arrays, cache, obj):
    """Start loading the record of a key a coming request reads (its link and clock; to a miss, where it
    will be linked): a miss's work is mostly waits on records, and these then overlap it. Measured
    (paired replays in one process, 16 / 128 MiB, median ratio, two runs): redis-lru 1.15-1.28 /
    1.16-1.18, redis-lfu 1.27 / 1.21 times as fast, counts unchanged."""
    prefetch(arrays.hashes, obj)
    return state


@njit(cache=True, nogil=True)
def replay(run, state, arrays):
    """The loop of every Redis model (the kind is in the state)."""
    return replay_requests(run, state, arrays, _on_hit, _on_miss, _evict, _on_insert, _on_remove,
                           hooks_release=True, admit=_admit, ahead=_ahead)  # fmt: skip


# ---------------------------------------------------------------- setting up, and memory


def initial_state(kind: int, given: PolicyInput, params: Mapping[str, Any]) -> tuple[RedisState, RedisArrays]:
    """The empty server for a model of ``kind`` (``LRU``, ``LFU``, ``RANDOM`` or ``TTL``)."""
    n = max(given.n_objects, 1)
    most_buckets = 1 << max(int(n - 1).bit_length(), 2)
    unit = len(given.sizes) == 0 or int(np.max(given.sizes)) <= 1
    largest = 0 if len(given.sizes) == 0 else int(np.max(given.sizes))
    if unit:  # keys as units: no buckets, no TTL entries
        bucket_bytes = ttl_bytes = 0
    else:
        constants = calibration()
        bucket_bytes, ttl_bytes = int(constants["bucket_bytes"]), int(constants["ttl_bytes"])
    hashes = np.random.default_rng([int(given.seed) % (1 << 63), 0x5EED]).integers(0, 1 << 63, n, dtype=np.uint64)
    records = np.empty(n, OBJECT_RECORD)
    records["hash"] = hashes & np.uint64(0xFFFFFFFF)
    records["key_next"] = records["expire_next"] = UNLISTED
    records["clock"] = 0
    start = float(given.times[0]) if len(given.times) else 0.0
    state = RedisState(
        np.int64(kind), bool(params.get("volatile", 0)), np.int64(params.get("samples", 5)),
        np.float64(params.get("lfu_log_factor", 10)), np.int64(params.get("lfu_decay_time", 1)),
        seed_state(given.seed), np.int64(0), np.int64(0), np.int64(0), np.int64(0),
        np.int64(0), np.int64(given.capacity - largest), np.int64(bucket_bytes), np.int64(ttl_bytes),
        np.float64(np.floor(start / CRON_SECONDS) * CRON_SECONDS + CRON_SECONDS), np.uint64(0), np.uint64(0),
    )  # fmt: skip
    arrays = RedisArrays(
        records["hash"], np.full(most_buckets, EMPTY), np.zeros(most_buckets, np.int32), records["key_next"],
        np.full(most_buckets, EMPTY),
        records["expire_next"], np.zeros(most_buckets, np.int32), np.full(most_buckets, NEVER), records["clock"],
        np.full(POOL_SIZE, EMPTY), np.zeros(POOL_SIZE, np.int64), np.zeros(MOST_SAMPLES, np.int32),
        np.zeros(MOST_SAMPLES, np.int64), given.ops,
    )  # fmt: skip
    return state, arrays


@lru_cache(maxsize=4)
def calibration(path: str | None = None) -> dict[str, Any]:
    """The measured constants of Redis 7.0 (the shipped file, or ``path``)."""
    from tuner.calibrations import load_calibration

    return load_calibration("redis", VERSION, path)


def step_lookup(steps: list[list[int]], values: np.ndarray, what: str) -> np.ndarray:
    """A measured step function ``[[largest input, output], …]`` (inputs ascending) at ``values``."""
    table = np.asarray(steps, np.int64)
    at = np.searchsorted(table[:, 0], values, side="left")
    if len(values) and int(at.max()) >= len(table):
        raise CachetuneError(f"a {what} of {int(np.max(values))} bytes is beyond the calibration "
                             f"(up to {int(table[-1, 0])}); run cachetune calibrate with larger values")  # fmt: skip
    return table[at, 1]


def key_lengths(trace, key_size: int) -> np.ndarray:
    """Each object's key length in bytes: ``key_size`` when given, else its trace key's (as text)."""
    if key_size > 0:
        return np.full(trace.n_objects, key_size, np.int64)
    return np.fromiter((len(str(key).encode()) for key in trace.keys), np.int64, trace.n_objects)


def charge(trace, capacity, params: Mapping[str, Any]) -> Charge:
    """What each request's key costs on Redis 7.0 and the room ``maxmemory`` leaves for keys.

    A key costs its value's object and allocation, its name's and its dict entry's, as measured
    (``per_key_bytes``: by value size at the calibration's key length, ``key_extra_bytes``: by key
    length beyond it); buckets and TTL entries the model adds as its tables grow. At an object
    capacity every key counts one.
    """
    if capacity.unit == OBJECTS:
        return Charge(np.ones(len(trace), np.int64), capacity.amount + 1)
    constants = calibration()
    lengths = key_lengths(trace, int(params.get("key_size", 0)))
    key_costs = step_lookup(constants["key_extra_bytes"], lengths, "key")
    available = capacity.amount - int(constants["baseline_bytes"])
    if available <= 0:
        raise CachetuneError(f"maxmemory {capacity.amount} is below what Redis {VERSION} holds empty "
                             f"({constants['baseline_bytes']} bytes)")  # fmt: skip
    sizes = step_lookup(constants["per_key_bytes"], trace.sizes, "value") + key_costs[trace.ids]
    return Charge(sizes, available + (int(sizes.max()) if len(sizes) else 0))
