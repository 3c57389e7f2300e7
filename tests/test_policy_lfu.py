"""LFU: hand-traced sequences, a naive reference model, and libCacheSim's counts on the shared traces."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tuner
from tests import policy_checks as checks
from tests.conftest import needs_jit
from tests.test_policy_removal import replay_with_deletes
from tuner.engine import kernel


def test_lowest_count_is_evicted_even_when_most_recent():
    # A reaches count 2; C then evicts B (count 1), B evicts C, C evicts B: A always stays.
    assert checks.hit_miss_string("ABACBCA", "lfu", 2) == "MMHMMMH"


def test_ties_evict_the_least_recently_used():
    # A, B, C all at count 1: C evicts A (older), then A evicts B, so C still hits.
    assert checks.hit_miss_string("ABCAC", "lfu", 2) == "MMMMH"
    # B's second access is newer than A's, so at count 2 A is the older tie and goes.
    assert checks.hit_miss_string("ABABCCDB", "lfu", 3) == "MMHHMHMH"


def test_count_is_forgotten_on_eviction():
    # A (count 2) is evicted by C; back again it starts at 1 and loses to B (count 3),
    # so D evicts A, not B, and the last B hits.
    assert checks.hit_miss_string("AABBBCADAB", "lfu", 2) == "MHMHHMMMMH"


def test_a_deleted_object_comes_back_with_its_count_forgotten():
    # A reaches count 2 and is deleted; read again it starts at 1, and B's hit takes B to 2,
    # so C evicts A (had A kept its count, C would evict B and the last A would hit).
    hits, cache, _ = replay_with_deletes(list("AABAABCA"), [0, 0, 0, 1, 0, 0, 0, 0], 2, "lfu")
    assert hits == [False, True, False, False, False, True, False, False]
    assert cache.tally[kernel.REMOVED] == 1


def test_variable_sizes_evict_lowest_counts_until_the_object_fits():
    trace = tuner.Trace.from_arrays(list("AABCD"), sizes=[4, 4, 3, 3, 6])
    # A (count 2) and B, C (count 1): D needs 6 of 10 bytes, so B then C go and A stays.
    result = tuner.replay(trace, "lfu", "10B", window_seconds=1.0)
    assert result.window_misses.tolist() == [1, 0, 1, 1, 1]
    assert result.evictions == 2
    again = tuner.replay(tuner.Trace.from_arrays(list("AABCDA"), sizes=[4, 4, 3, 3, 6, 4]), "lfu", "10B")
    assert again.hits == 2


class ReferenceLfu(checks.ReferenceCache):
    """In-cache LFU the obvious way: scan every resident for the lowest (count, last use)."""

    def __init__(self, capacity: int):
        super().__init__(capacity)
        self.count: dict[int, int] = {}
        self.last_use: dict[int, int] = {}

    def on_hit(self, key, now) -> None:
        self.count[key] += 1
        self.last_use[key] = now

    def evict(self, now):
        victim = min(self.held, key=lambda x: (self.count[x], self.last_use[x]))
        del self.count[victim], self.last_use[victim]
        return victim

    def on_insert(self, key, now) -> None:
        self.count[key], self.last_use[key] = 1, now


def reference_lfu(keys, sizes, capacity: int) -> list[bool]:
    return ReferenceLfu(capacity).hits(keys, sizes)


@settings(max_examples=60, deadline=None)
@given(
    keys=checks.key_lists(16, 200),
    capacity=st.integers(1, 16),
)
def test_matches_reference_model_with_unit_sizes(keys, capacity):
    checks.assert_hits_match_reference("lfu", reference_lfu, keys, capacity)


@settings(max_examples=40, deadline=None)
@given(
    keys=checks.key_lists(16, 200),
    object_sizes=checks.sizes_per_key(0),
    capacity=st.integers(1, 120),
)
def test_matches_reference_model_with_byte_sizes(keys, object_sizes, capacity):
    checks.assert_hits_match_reference("lfu", reference_lfu, keys, capacity, object_sizes)


@needs_jit
@pytest.mark.parametrize("row", checks.expected_cases("LFU", "LFU"))
def test_misses_match_libcachesim_lfu(row):
    """libCacheSim's LFU keeps each count's objects in access order, so ties break as ours do: counts match exactly."""
    checks.assert_expected_misses(row, "lfu")
