"""LFU: hand-traced sequences, a naive reference model, and libCacheSim's counts on the shared traces."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tuner
from tests.conftest import needs_jit
from tests.policy_checks import (
    ALL_TRACES,
    assert_expected_misses,
    assert_hits_match_reference,
    expected_cases,
    hit_miss_string,
)


def test_lowest_count_is_evicted_even_when_most_recent():
    # A reaches count 2; C then evicts B (count 1), B evicts C, C evicts B: A always stays.
    assert hit_miss_string("ABACBCA", "lfu", 2) == "MMHMMMH"


def test_ties_evict_the_least_recently_used():
    # A, B, C all at count 1: C evicts A (older), then A evicts B, so C still hits.
    assert hit_miss_string("ABCAC", "lfu", 2) == "MMMMH"
    # B's second access is newer than A's, so at count 2 A is the older tie and goes.
    assert hit_miss_string("ABABCCDB", "lfu", 3) == "MMHHMHMH"


def test_count_is_forgotten_on_eviction():
    # A (count 2) is evicted by C; back again it starts at 1 and loses to B (count 3),
    # so D evicts A, not B, and the last B hits.
    assert hit_miss_string("AABBBCADAB", "lfu", 2) == "MHMHHMMMMH"


def test_variable_sizes_evict_lowest_counts_until_the_object_fits():
    trace = tuner.Trace.from_arrays(list("AABCD"), sizes=[4, 4, 3, 3, 6])
    # A (count 2) and B, C (count 1): D needs 6 of 10 bytes, so B then C go and A stays.
    result = tuner.replay(trace, "lfu", "10B", window_seconds=1.0)
    assert result.window_misses.tolist() == [1, 0, 1, 1, 1]
    assert result.evictions == 2
    again = tuner.replay(tuner.Trace.from_arrays(list("AABCDA"), sizes=[4, 4, 3, 3, 6, 4]), "lfu", "10B")
    assert again.hits == 2


def reference_lfu(keys, sizes, capacity: int) -> list[bool]:
    """In-cache LFU the obvious way: scan every resident for the lowest (count, last use)."""
    count: dict[int, int] = {}
    last_use: dict[int, int] = {}
    held: dict[int, int] = {}
    used = 0
    hits = []
    for i, (obj, size) in enumerate(zip(keys, sizes, strict=True)):
        if obj in held:
            count[obj] += 1
            last_use[obj] = i
            hits.append(True)
            continue
        hits.append(False)
        if size > capacity:
            continue
        while used + size > capacity:
            victim = min(held, key=lambda x: (count[x], last_use[x]))
            used -= held.pop(victim)
            del count[victim], last_use[victim]
        held[obj], count[obj], last_use[obj] = size, 1, i
        used += size
    return hits


@settings(max_examples=60, deadline=None)
@given(
    keys=st.lists(st.integers(0, 15), min_size=1, max_size=200),
    capacity=st.integers(1, 16),
)
def test_matches_reference_model_with_unit_sizes(keys, capacity):
    assert_hits_match_reference("lfu", reference_lfu, keys, capacity)


@settings(max_examples=40, deadline=None)
@given(
    keys=st.lists(st.integers(0, 15), min_size=1, max_size=200),
    object_sizes=st.lists(st.integers(0, 40), min_size=16, max_size=16),
    capacity=st.integers(1, 120),
)
def test_matches_reference_model_with_byte_sizes(keys, object_sizes, capacity):
    assert_hits_match_reference("lfu", reference_lfu, keys, capacity, object_sizes)


@needs_jit
@pytest.mark.parametrize("row", expected_cases("LFU", "LFU", object_traces=ALL_TRACES))
def test_misses_match_libcachesim_lfu(row):
    """libCacheSim's LFU keeps each count's objects in access order, so ties break as ours do: counts match exactly."""
    assert_expected_misses(row, "lfu")
