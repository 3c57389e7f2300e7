"""What every registered policy must honour, whatever its algorithm."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tuner
from tests.policy_checks import ANY_CAPACITY, CALLS_ONLY, replay_options
from tuner.errors import CachetuneError

ALL = ANY_CAPACITY
# Policies whose hits can evict, so that a trace may end with the cache one object short of full.
EVICTS_ON_HITS = {"wtinylfu"}


def _skewed_trace(n: int = 5_000, seed: int = 3, sized: bool = False) -> tuner.Trace:
    rng = np.random.default_rng(seed)
    keys = (rng.zipf(1.3, n) % 400).astype(np.int64)
    times = np.cumsum(rng.exponential(0.5, n))
    sizes = rng.integers(1, 2_000, 400)[keys] if sized else None
    return tuner.Trace.from_arrays(keys, times, sizes)


def _refuses_bytes(name: str, trace: tuner.Trace, capacity: str) -> bool:
    """Whether ``name`` models a product that counts objects only; if so, it refuses ``capacity`` in one line."""
    if name not in CALLS_ONLY:
        return False
    with pytest.raises(CachetuneError, match="not bytes"):
        tuner.replay(trace, name, capacity)
    return True


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("capacity", [1, 7, 64, 399, 1_000])
def test_hits_plus_misses_is_requests_and_occupancy_bounded(name, capacity):
    trace = _skewed_trace()
    result = tuner.replay(trace, name, capacity, **replay_options(name))
    assert result.hits + result.misses == result.requests == len(trace)
    assert result.used <= capacity
    assert result.window_misses.sum() == result.misses
    # Every object's first request misses, and no more can be kept than fit.
    assert result.misses >= trace.n_objects


@pytest.mark.parametrize("name", ALL)
def test_byte_capacity_is_never_exceeded(name):
    trace = _skewed_trace(sized=True)
    if _refuses_bytes(name, trace, "20KB"):
        return
    result = tuner.replay(trace, name, "20KB", **replay_options(name))
    assert result.used <= 20_000
    assert result.hits + result.misses == len(trace)
    assert result.window_bytes_hit.sum() == result.bytes_requested - result.bytes_missed
    assert 0 < result.byte_miss_ratio <= 1


@pytest.mark.parametrize("name", ALL)
def test_object_larger_than_cache_is_never_admitted(name):
    # 1 is smaller than s3fifo's small FIFO (10 of the 100 bytes), which refuses objects as large as itself.
    trace = tuner.Trace.from_arrays([1, 2, 1, 2, 1], sizes=[5, 500, 5, 500, 5])
    if _refuses_bytes(name, trace, "100B"):
        return
    result = tuner.replay(trace, name, "100B", **replay_options(name))
    assert result.misses == 3  # 1 once (cold), 2 every time (too large)
    assert result.used == 5


@pytest.mark.parametrize("name", ALL)
def test_same_seed_same_result_and_whole_trace_fits(name):
    trace = _skewed_trace()
    first = tuner.replay(trace, name, 50, seed=7, **replay_options(name))
    again = tuner.replay(trace, name, 50, seed=7, **replay_options(name))
    assert (first.hits, first.evictions) == (again.hits, again.evictions)
    everything = tuner.replay(trace, name, trace.n_objects, **replay_options(name))
    assert everything.misses == trace.n_objects  # only cold misses when all fits
    assert everything.evictions == 0


@pytest.mark.parametrize("name", ALL)
@settings(max_examples=25, deadline=None)
@given(keys=st.lists(st.integers(0, 12), min_size=30, max_size=120), capacity=st.integers(1, 14))
def test_any_sequence_keeps_the_invariants(name, keys, capacity):
    trace = tuner.Trace.from_arrays(keys)
    result = tuner.replay(trace, name, capacity, **replay_options(name))
    assert result.hits + result.misses == len(keys)
    assert result.used <= capacity
    assert result.misses >= trace.n_objects
    # Unit sizes: the cache fills before its first eviction, then every miss evicts one; a policy
    # that evicts on a hit (W-TinyLFU, demoting past probation's share) may end one short of full.
    # A policy that refuses some misses (Redis's volatile-ttl with no TTL to go by) evicts for those it admits.
    admitted = result.misses - result.rejected
    assert 0 <= result.evictions - max(0, admitted - capacity) <= (name in EVICTS_ON_HITS)


@pytest.mark.parametrize("name", ALL)
@settings(max_examples=25, deadline=None)
@given(
    requests=st.lists(st.tuples(st.integers(0, 12), st.integers(0, 3)), min_size=30, max_size=120),
    capacity=st.integers(1, 8),
)
def test_zero_byte_objects_at_byte_capacities(name, requests, capacity):
    # Zero-byte objects are real (a path only ever answered 304): they take no room but are still objects.
    keys = [key for key, _ in requests]
    trace = tuner.Trace.from_arrays(keys, sizes=[size for _, size in requests])
    if _refuses_bytes(name, trace, f"{capacity}B"):
        return
    result = tuner.replay(trace, name, f"{capacity}B", **replay_options(name))
    assert result.hits + result.misses == len(keys)
    assert result.used <= capacity
    assert result.misses >= trace.n_objects
