"""Hand-traced sequences and reference models for the recency and insertion-order policies."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tuner
from tests.reference_models import fifo_misses, lru_misses, mru_misses

# a b c a d b e a: traced by hand at capacity 3.
SEQUENCE = list("abcadbea")


@pytest.mark.parametrize(
    ("policy", "misses"),
    [
        # LRU: a b c miss; a hit; d evicts b; b evicts c; e evicts a; a evicts d -> 7 misses.
        ("lru", 7),
        # FIFO: a b c miss; a hit; d evicts a; b hit; e evicts b; a evicts c -> 6 misses.
        ("fifo", 6),
        # MRU: a b c miss; a hit (a most recent); d evicts a; b hit; e evicts b; a evicts e -> 6 misses.
        ("mru", 6),
    ],
)
def test_hand_traced_sequence(policy, misses):
    result = tuner.replay(tuner.Trace.from_arrays(SEQUENCE), policy, 3)
    assert result.misses == misses
    assert result.evictions == misses - 3


def test_loop_one_larger_than_the_cache():
    trace = tuner.Trace.from_arrays([i % 1000 for i in range(100_000)])
    assert tuner.replay(trace, "lru", 999).miss_ratio == 1.0
    assert tuner.replay(trace, "fifo", 999).miss_ratio == 1.0
    # MRU: round 1 misses all 1000 (cold; 999 evicts 998). Each later round hits all but the one key
    # evicted last round, which evicts the key just hit before it (998, then 997, ...): 1000 + 99 misses.
    assert tuner.replay(trace, "mru", 999).misses == 1_099


# At least 75 requests over 21 keys, so that most examples evict (short lists mostly fit).
keys_strategy = st.lists(st.integers(0, 20), min_size=75, max_size=300)


@settings(max_examples=60, deadline=None)
@given(keys=keys_strategy, capacity=st.integers(1, 22))
def test_compiled_policies_equal_reference_models(keys, capacity):
    trace = tuner.Trace.from_arrays(keys)
    assert tuner.replay(trace, "lru", capacity).misses == lru_misses(keys, capacity)
    assert tuner.replay(trace, "fifo", capacity).misses == fifo_misses(keys, capacity)
    assert tuner.replay(trace, "mru", capacity).misses == mru_misses(keys, capacity)


@settings(max_examples=60, deadline=None)
@given(
    requests=st.lists(st.tuples(st.integers(0, 15), st.integers(1, 60)), min_size=50, max_size=200),
    capacity=st.integers(1, 200),
)
def test_byte_capacity_lru_equals_reference(requests, capacity):
    sizes_by_key = {}
    keys = [key for key, _ in requests]
    sizes = [sizes_by_key.setdefault(key, size) for key, size in requests]  # one size per object
    trace = tuner.Trace.from_arrays(keys, sizes=sizes)
    result = tuner.replay(trace, "lru", f"{capacity}B")
    assert result.misses == lru_misses(keys, capacity, sizes)
    assert result.used <= capacity
