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
"""

import numpy as np
from numba import njit

# Positions in the statistics vector returned by replay_requests.
HITS, MISSES, BYTES_REQUESTED, BYTES_MISSED, EVICTIONS, PEAK_BYTES, PEAK_OBJECTS = range(7)
N_STATS = 7


@njit(inline="always")
def replay_requests(requests, config, state, arrays, on_hit, on_miss, evict, on_insert):
    """Replay ``requests = (ids, sizes, times)`` under ``config``.

    ``config = (capacity, n_objects, ttl, window_start, window_seconds,
    n_windows)``; ``ttl <= 0`` disables expiry. Returns the final policy
    state, the statistics vector and the misses per time window.
    """
    ids, sizes, times = requests
    capacity, n_objects, ttl, window_start, window_seconds, n_windows = config
    cached = np.full(n_objects, -1, np.int64)
    has_ttl = ttl > 0.0
    windows_per_second = 1.0 / window_seconds
    fetched_at = np.zeros(n_objects if has_ttl else 1, np.float64)
    stats = np.zeros(N_STATS, np.int64)
    window_misses = np.zeros(n_windows, np.int64)
    used = 0
    residents = 0
    hits = 0
    bytes_requested = 0
    bytes_missed = 0
    evictions = 0
    peak_bytes = 0
    peak_objects = 0
    for i in range(ids.shape[0]):
        obj = ids[i]
        size = np.int64(sizes[i])
        now = times[i]
        bytes_requested += size
        if cached[obj] >= 0:
            if not (has_ttl and now - fetched_at[obj] >= ttl):
                hits += 1
                state = on_hit(state, arrays, cached, obj, size, now, i)
                continue
            # Expired: refetched in place, a miss the policy sees as an access.
            fetched_at[obj] = now
            state = on_hit(state, arrays, cached, obj, size, now, i)
        elif size <= capacity:
            state = on_miss(state, arrays, cached, obj, size, now, i)
            while used + size > capacity:
                state, victim = evict(state, arrays, cached, obj, size, now, i)
                used -= cached[victim]
                cached[victim] = -1
                residents -= 1
                evictions += 1
            state = on_insert(state, arrays, cached, obj, size, now, i)
            cached[obj] = size
            used += size
            residents += 1
            if has_ttl:
                fetched_at[obj] = now
            if used > peak_bytes:
                peak_bytes = used
            if residents > peak_objects:
                peak_objects = residents
        bytes_missed += size
        window = np.int64((now - window_start) * windows_per_second)
        window_misses[min(max(window, 0), n_windows - 1)] += 1
    stats[HITS] = hits
    stats[MISSES] = ids.shape[0] - hits
    stats[BYTES_REQUESTED] = bytes_requested
    stats[BYTES_MISSED] = bytes_missed
    stats[EVICTIONS] = evictions
    stats[PEAK_BYTES] = peak_bytes
    stats[PEAK_OBJECTS] = peak_objects
    return state, stats, window_misses


@njit(inline="always")
def no_op(state, arrays, cached, obj, size, now, i):
    """A hook for policies that need nothing at this point."""
    return state
