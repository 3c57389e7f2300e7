"""Byte capacities against libCacheSim itself (the ``libcachesim`` 0.3.5 bindings), on a trace whose
sizes vary and where a few popular objects take 10-40 % of the cache (one is larger than it).

lru, fifo, clock, sieve and arc give libCacheSim's miss counts exactly. s3fifo follows
libCacheSim's admission by size, and its counts are hit-for-hit those of the plain-Python model in
test_policy_s3fifo.py; that model with libcachesim 0.3.5's warm-up rule (new objects go to M while
S is full before the first eviction, a rule s3fifo leaves out on purpose) gives libCacheSim's
counts exactly, so the warm-up is the whole difference (0.2-0.4 % here; the test allows 2 %).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import tuner
from tests.test_policy_s3fifo import reference_s3fifo

lcs = pytest.importorskip("libcachesim")

ORACLE = np.dtype([("t", "<u4"), ("id", "<u8"), ("sz", "<u4"), ("nxt", "<i8")])
EXACT = {"lru": "LRU", "fifo": "FIFO", "clock": "Clock", "sieve": "Sieve", "arc": "ARC"}
CAPACITIES = (200_000, 400_000, 1_000_000)
# Shares of the capacity for eight popular objects: 0.10 is exactly S3-FIFO's small queue (refused
# after evicting for it), 1.2 is larger than the whole cache (never stored, nothing evicted).
LARGE_SHARES = (0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.10, 1.2)


def sized_trace(capacity: int, seed: int = 7, requests: int = 20_000, objects: int = 2_000) -> tuner.Trace:
    """Zipf(0.9) keys; sizes 200 B to 4 kB, but eight of the 200 most popular objects are large."""
    rng = np.random.default_rng(seed)
    weights = np.arange(1, objects + 1) ** -0.9
    keys = rng.choice(objects, requests, p=weights / weights.sum())
    object_sizes = rng.integers(200, 4_000, objects)
    large = rng.choice(np.arange(5, 200), len(LARGE_SHARES), replace=False)
    object_sizes[large] = (capacity * np.array(LARGE_SHARES)).astype(np.int64)
    return tuner.Trace.from_arrays(keys, np.arange(requests, dtype=np.float64), object_sizes[keys])


@pytest.fixture(scope="module", params=CAPACITIES, ids=lambda capacity: f"{capacity}B")
def case(request, tmp_path_factory):
    """A capacity, its trace, and the trace written as a libCacheSim oracleGeneral binary with its sizes."""
    capacity = request.param
    trace = sized_trace(capacity)
    records = np.zeros(len(trace), ORACLE)
    records["t"] = trace.timestamps.astype(np.uint32)
    records["id"] = trace.ids.astype(np.uint64) + 1  # libCacheSim ids start at 1
    records["sz"] = trace.sizes
    records["nxt"] = -1
    path = tmp_path_factory.mktemp("oracle") / f"sized-{capacity}.oracleGeneral.bin"
    records.tofile(path)
    return capacity, trace, path


def libcachesim_misses(name: str, capacity: int, trace: tuner.Trace, path) -> int:
    reader = lcs.TraceReader(str(path), lcs.TraceType.ORACLE_GENERAL_TRACE)
    hashpower = min(24, max(12, math.ceil(math.log2(trace.n_objects)) + 1))
    cache = getattr(lcs, name)(capacity, hashpower=hashpower)
    miss_ratio, _ = cache.process_trace(reader)
    return round(miss_ratio * len(trace))


def test_libcachesim_counts_no_metadata_and_skips_objects_larger_than_the_cache():
    """What the exact counts rest on: the bindings' caches count object bytes only (obj_md_size 0
    unless consider_obj_metadata), and an object larger than the cache is a miss that evicts nothing
    (cache_can_insert_default refuses it before cache_get_base evicts)."""
    cache = lcs.LRU(100, hashpower=12)
    for key in range(1, 21):
        request = lcs.Request()
        request.obj_id, request.obj_size = key, 5
        cache.get(request)
    assert (cache.get_occupied_byte(), cache.get_n_obj()) == (100, 20)
    request = lcs.Request()
    request.obj_id, request.obj_size = 99, 101
    assert not cache.get(request)
    assert (cache.get_occupied_byte(), cache.get_n_obj()) == (100, 20)


@pytest.mark.parametrize("policy", list(EXACT))
def test_exact_misses_match_libcachesim(case, policy):
    capacity, trace, path = case
    theirs = libcachesim_misses(EXACT[policy], capacity, trace, path)
    assert tuner.replay(trace, policy, f"{capacity}B").misses == theirs


def test_s3fifo_is_its_model_and_within_two_percent_of_libcachesim(case):
    capacity, trace, path = case
    keys, sizes = trace.ids.tolist(), trace.sizes.tolist()
    result = tuner.replay(trace, "s3fifo", f"{capacity}B", window_seconds=1.0)
    assert (result.window_misses == 0).tolist() == reference_s3fifo(keys, sizes, capacity, size_rule=True)
    theirs = libcachesim_misses("S3FIFO", capacity, trace, path)
    assert reference_s3fifo(keys, sizes, capacity, size_rule=True, warm_up=True).count(False) == theirs
    assert result.misses == pytest.approx(theirs, rel=0.02)
    assert result.rejected > 0  # the large objects were refused
