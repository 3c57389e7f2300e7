"""The shared request path: statistics, timelines, TTL and the library API."""

import math

import numpy as np
import pytest
from numba import njit

import tuner
from tuner.engine.borrowed import borrowed
from tuner.engine.prefetch import prefetch


def test_statistics_of_a_replay():
    trace = tuner.Trace.from_arrays(list("abab"), timestamps=[0, 1800, 3600, 7200], sizes=[10, 20, 10, 20])
    result = tuner.replay(trace, "lru", "100B")
    assert (result.hits, result.misses, result.evictions) == (2, 2, 0)
    assert (result.bytes_requested, result.bytes_missed) == (60, 30)
    assert result.miss_ratio == 0.5 and result.byte_miss_ratio == 0.5
    assert result.misses_per_hour == pytest.approx(1.0)  # 2 misses over 2 hours
    assert result.window_misses.tolist() == [2, 0, 0]


def test_misses_per_window_follow_the_timestamps():
    times = np.arange(0, 4 * 3600, 60.0)
    keys = np.arange(len(times))  # all cold misses
    result = tuner.replay(tuner.Trace.from_arrays(keys, times), "lru", 10, window_seconds=3600)
    assert result.window_misses.tolist() == [60, 60, 60, 60]


def test_a_request_on_a_window_edge_opens_the_next_window():
    # a misses at 0, hits at 3599.5; b misses at exactly 3600 (window 1); a hits at 7199, b at 7200 (window 2).
    trace = tuner.Trace.from_arrays(list("aabab"), timestamps=[0, 3599.5, 3600, 7199, 7200])
    result = tuner.replay(trace, "lru", 2, window_seconds=3600)
    assert result.window_misses.tolist() == [1, 1, 0]
    assert trace.window_ends(3600).tolist() == [2, 4, 5]


def test_evictions_leave_out_refetches_and_objects_too_large():
    trace = tuner.Trace.from_arrays(list("abcaz"), timestamps=[0, 1, 2, 30, 31], sizes=[10, 10, 10, 10, 99])
    # "20B": c evicts a; a (cold again) evicts b; z never fits.
    assert tuner.replay(trace, "lru", "20B").evictions == 2
    # TTL refetches happen in place: a expires and is fetched again, nothing is evicted.
    refetched = tuner.Trace.from_arrays(list("aaa"), timestamps=[0, 20, 40])
    result = tuner.replay(refetched, "lru", 1, ttl=10)
    assert (result.misses, result.evictions) == (3, 0)


def test_ttl_expires_entries_fetched_that_long_ago():
    trace = tuner.Trace.from_arrays(list("aaaa"), timestamps=[0, 5, 10, 12])
    assert tuner.replay(trace, "lru", 10).misses == 1
    # Fetched at 0; at 10 it is 10 s old -> refetched; 12 is only 2 s after.
    assert tuner.replay(trace, "lru", 10, ttl=10).misses == 2


def test_zero_span_has_no_misses_per_hour():
    result = tuner.replay(tuner.Trace.from_arrays([1], timestamps=[5.0]), "fifo", 1)
    assert math.isnan(result.misses_per_hour)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"policy": "nope"}, "unknown policy"),
        ({"capacity": 0}, "positive"),
        ({"bogus": 3}, "no parameter 'bogus'"),
        ({"ttl": -1}, "ttl"),
        ({"policy": "wtinylfu", "protected_ratio": 1.5}, "protected_ratio must be at most 1"),
        ({"policy": "s3fifo", "small_ratio": -0.1}, "small_ratio must be at least 0"),
        ({"policy": "random-age", "samples": 0}, "samples must be at least 1"),
        ({"policy": "lirs", "hir_ratio": float("nan")}, "hir_ratio must be at least 0"),
    ],
)
def test_replay_rejects_bad_arguments(kwargs, message):
    call = {"trace": tuner.Trace.from_arrays([1, 2]), "policy": "lru", "capacity": 1, **kwargs}
    with pytest.raises(ValueError, match=message):
        tuner.replay(**call)


@njit
def _write_through_borrowed(members, single):
    first, second, count = borrowed(members)
    first[0] = count
    second[1] = 2.5
    borrowed(single)[2] = 7


def test_borrowed_views_write_to_the_callers_arrays():
    first, second, single = np.zeros(3, np.int64), np.zeros(2, np.float64), np.zeros(4, np.int32)
    _write_through_borrowed((first, second, 5), single)
    assert first.tolist() == [5, 0, 0] and second.tolist() == [0.0, 2.5] and single.tolist() == [0, 0, 7, 0]


@njit
def _sum_after_prefetching(values, records):
    total = 0
    for i in range(values.shape[0]):
        prefetch(values, np.uint32(values.shape[0] - 1 - i))  # unsigned, as the loop indexes
        prefetch(records["clock"], i)  # a strided column of a structured array, as a model's record
        total += values[i] + records["clock"][i]
    return total


def test_prefetch_compiles_for_plain_and_strided_arrays_and_changes_nothing():
    values = np.arange(5, dtype=np.int64)
    records = np.zeros(5, np.dtype([("hash", np.uint32), ("clock", np.int32)]))
    records["clock"] = [10, 20, 30, 40, 50]
    assert _sum_after_prefetching(values, records) == 10 + 150
    assert values.tolist() == [0, 1, 2, 3, 4] and records["clock"].tolist() == [10, 20, 30, 40, 50]


def test_a_model_charges_its_own_sizes_and_capacity():
    # A model of a real cache accounts memory its own way: here every object costs twice its size plus
    # 10 bytes and the server keeps 100 bytes for itself; replaying it is replaying LRU on those sizes.
    from dataclasses import replace

    from tuner.policies import Charge, get_policy

    def doubled(trace, capacity, params):
        return Charge(trace.sizes.astype(np.int64) * 2 + 10, capacity.amount - 100)

    rng = np.random.default_rng(5)
    keys = rng.zipf(1.2, 3_000) % 200
    sizes = rng.integers(1, 300, 200)[keys]
    model = replace(get_policy("lru"), name="doubled-lru", target="test", charge=doubled)
    charged = tuner.replay(tuner.Trace.from_arrays(keys, sizes=sizes), model, "5000B")
    plain = tuner.replay(tuner.Trace.from_arrays(keys, sizes=sizes * 2 + 10), "lru", "4900B")
    assert (charged.hits, charged.evictions, charged.used) == (plain.hits, plain.evictions, plain.used)
    assert charged.bytes_missed == plain.bytes_missed
    assert charged.used <= 4_900 < 5_000


def test_the_lineup_all_is_the_textbook_policies():
    from tuner.policies import POLICIES, parse_policies

    assert [policy.name for policy in parse_policies("all")] == [
        name for name, policy in POLICIES.items() if policy.target is None
    ]
