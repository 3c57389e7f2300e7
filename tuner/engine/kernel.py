"""The one request path every policy runs inside, compiled with numba.

Each policy module compiles its own copy of ``replay_requests`` with its hooks
(``@njit(inline="always")`` lets LLVM see the whole loop, so a policy's small
state tuple lives in registers). The loop owns what all policies share:
lookup, hit and miss counting, byte accounting, evict-until-it-fits, TTL
expiry and the per-window miss timeline. A policy only orders its residents
and names a victim.

Hook contract (all hooks are ``@njit`` functions):

- ``on_hit(state, arrays, cached, obj, size, now, i) -> state``
- ``on_miss(state, arrays, cached, obj, size, now, i) -> state``: before any
  eviction for an object that will be admitted (ghost bookkeeping, adaptation).
- ``evict(state, arrays, cached, obj, size, now, i) -> (state, victim)``:
  unlink one resident and return it; ``obj`` is the object waiting to enter.
- ``on_insert(state, arrays, cached, obj, size, now, i) -> state``

``state`` is a tuple of scalars whose types never change, ``arrays`` a tuple of
numpy arrays the policy allocated, ``cached[x]`` the bytes object ``x`` holds
in the cache (-1 when absent; read-only for policies), ``i`` the request's
position in the trace and ``now`` its timestamp in seconds.

An object keeps the size it was admitted with until it is evicted: a hit
with another size is a hit on the cached copy (trace readers give each
object one size, its largest, unless told otherwise).

The loop does the least it can per request, because every policy pays for it:
the timeline comes from window boundaries found before the loop (misses of a
window = its requests minus its hits; its bytes hit are noted as it ends), and evictions from the admissions less
the objects still cached at the end, so no counter but hits and used bytes is
touched on the common paths.
"""

import numpy as np
from numba import njit

from tuner.engine.borrowed import borrowed

# Positions in the statistics vector returned by replay_requests.
HITS, MISSES, BYTES_REQUESTED, BYTES_MISSED, EVICTIONS, PEAK_USED = range(6)
N_STATS = 6


@njit(inline="always")
def replay_requests(requests, config, state, arrays, on_hit, on_miss, evict, on_insert):
    """Replay ``requests = (ids, sizes, times, window_ends)`` under ``config``.

    ``window_ends[w]`` is one past the last request of time window ``w``.
    ``config = (capacity, count_objects, ttl, cached)``: with
    ``count_objects`` every request has size 1 and ``capacity`` counts
    objects, otherwise both are bytes; ``ttl <= 0`` disables expiry;
    ``cached`` is the caller's residency array, all -1, whose integer width
    (int32 unless an object is 2 GiB or larger) is chosen at compile time.
    Returns the final policy state, the statistics vector, and the misses and
    the bytes hit per time window.
    """
    ids, sizes, times, window_ends = requests
    capacity, count_objects, ttl, cached = config
    # Uncounted views: the hooks' array bindings then cost no atomic reference counting.
    cached = borrowed(cached)
    arrays = borrowed(arrays)
    has_ttl = ttl > 0.0
    fetched_at = np.zeros(cached.shape[0] if has_ttl else 1, np.float64)
    window_misses = np.zeros(window_ends.shape[0], np.int64)
    window_bytes_hit = np.zeros(window_ends.shape[0], np.int64)
    used = 0
    peak_used = 0
    hits = 0
    bytes_hit = 0
    refetched = 0
    too_large = 0
    begin = 0
    for window in range(window_ends.shape[0]):
        end = window_ends[window]
        hits_before = hits
        bytes_hit_before = bytes_hit
        for i in range(begin, end):
            obj = ids[i]
            size = np.int64(1) if count_objects else np.int64(sizes[i])
            now = times[i]
            if cached[obj] >= 0:
                if not (has_ttl and now - fetched_at[obj] >= ttl):
                    hits += 1
                    bytes_hit += size
                    state = on_hit(state, arrays, cached, obj, size, now, i)
                    continue
                # Expired: refetched in place, a miss the policy sees as an access.
                refetched += 1
                fetched_at[obj] = now
                state = on_hit(state, arrays, cached, obj, size, now, i)
            elif size <= capacity:
                state = on_miss(state, arrays, cached, obj, size, now, i)
                while used + size > capacity:
                    state, victim = evict(state, arrays, cached, obj, size, now, i)
                    used -= cached[victim]
                    cached[victim] = -1
                state = on_insert(state, arrays, cached, obj, size, now, i)
                cached[obj] = size
                used += size
                if used > peak_used:
                    peak_used = used
                if has_ttl:
                    fetched_at[obj] = now
            else:
                too_large += 1
        window_misses[window] = (end - begin) - (hits - hits_before)
        window_bytes_hit[window] = bytes_hit - bytes_hit_before
        begin = end
    requests_seen = ids.shape[0]
    misses = requests_seen - hits
    still_cached = np.count_nonzero(cached >= 0)
    bytes_requested = requests_seen if count_objects else np.int64(sizes.sum())
    stats = np.zeros(N_STATS, np.int64)
    stats[HITS] = hits
    stats[MISSES] = misses
    stats[BYTES_REQUESTED] = bytes_requested
    stats[BYTES_MISSED] = bytes_requested - bytes_hit
    stats[EVICTIONS] = misses - refetched - too_large - still_cached
    stats[PEAK_USED] = peak_used
    return state, stats, window_misses, window_bytes_hit


@njit(inline="always")
def no_op(state, arrays, cached, obj, size, now, i):
    """A hook for policies that need nothing at this point."""
    return state
