"""LFU: hand-traced sequences, a naive reference model, and libCacheSim's counts on the shared traces."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tuner
from tests.conftest import (
    SHARED_TRACES,
    expected_rows,
    load_oracle_trace,
    load_text_trace,
    needs_jit,
    shared_trace_path,
    text_rows,
)
from tuner.readers import read_trace

# Binary and block-range traces with LFU rows, and the reader format each needs.
OTHER_FORMATS = {"arc/OLTP.lis.zst": "arc", "caffeine/scarab-recs.trace.xz": "i64be"}
_OTHER_TRACES: dict[str, tuner.Trace] = {}


def load_other_trace(relative: str) -> tuner.Trace:
    if relative not in _OTHER_TRACES:
        path = shared_trace_path(relative)
        _OTHER_TRACES[relative] = read_trace(path, OTHER_FORMATS[relative], cache_parsed=False)
    return _OTHER_TRACES[relative]


def hit_pattern(keys: str, capacity: int, policy: str = "lfu") -> str:
    """'H' or 'M' per request: with requests one second apart, one-second windows hold one request each."""
    trace = tuner.Trace.from_arrays(list(keys))
    result = tuner.replay(trace, policy, capacity, window_seconds=1.0)
    return "".join("M" if missed else "H" for missed in result.window_misses)


def test_lowest_count_is_evicted_even_when_most_recent():
    # A reaches count 2; C then evicts B (count 1), B evicts C, C evicts B: A always stays.
    assert hit_pattern("ABACBCA", 2) == "MMHMMMH"


def test_ties_evict_the_least_recently_used():
    # A, B, C all at count 1: C evicts A (older), then A evicts B, so C still hits.
    assert hit_pattern("ABCAC", 2) == "MMMMH"
    # B's second access is newer than A's, so at count 2 A is the older tie and goes.
    assert hit_pattern("ABABCCDB", 3) == "MMHHMHMH"


def test_count_is_forgotten_on_eviction():
    # A (count 2) is evicted by C; back again it starts at 1 and loses to B (count 3),
    # so D evicts A, not B, and the last B hits.
    assert hit_pattern("AABBBCADAB", 2) == "MHMHHMMMMH"


def test_variable_sizes_evict_lowest_counts_until_the_object_fits():
    trace = tuner.Trace.from_arrays(list("AABCD"), sizes=[4, 4, 3, 3, 6])
    # A (count 2) and B, C (count 1): D needs 6 of 10 bytes, so B then C go and A stays.
    result = tuner.replay(trace, "lfu", "10B", window_seconds=1.0)
    assert result.window_misses.tolist() == [1, 0, 1, 1, 1]
    assert result.evictions == 2
    again = tuner.replay(tuner.Trace.from_arrays(list("AABCDA"), sizes=[4, 4, 3, 3, 6, 4]), "lfu", "10B")
    assert again.hits == 2


def reference_lfu(ids, sizes, capacity: int) -> list[bool]:
    """In-cache LFU the obvious way: scan every resident for the lowest (count, last use)."""
    count: dict[int, int] = {}
    last_use: dict[int, int] = {}
    held: dict[int, int] = {}
    used = 0
    hits = []
    for i, (obj, size) in enumerate(zip(ids.tolist(), sizes.tolist(), strict=True)):
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
    trace = tuner.Trace.from_arrays(keys)
    result = tuner.replay(trace, "lfu", capacity, window_seconds=1.0)
    expected = reference_lfu(trace.ids, trace.unit_sizes, capacity)
    assert (result.window_misses == 0).tolist() == expected


@settings(max_examples=40, deadline=None)
@given(
    keys=st.lists(st.integers(0, 15), min_size=1, max_size=200),
    object_sizes=st.lists(st.integers(0, 40), min_size=16, max_size=16),
    capacity=st.integers(1, 120),
)
def test_matches_reference_model_with_byte_sizes(keys, object_sizes, capacity):
    sizes = np.array(object_sizes)[keys]
    trace = tuner.Trace.from_arrays(keys, sizes=sizes)
    result = tuner.replay(trace, "lfu", f"{capacity}B", window_seconds=1.0)
    expected = reference_lfu(trace.ids, trace.sizes, capacity)
    assert (result.window_misses == 0).tolist() == expected
    assert result.peak_used <= capacity


def _shared_cases():
    if not SHARED_TRACES.exists():
        return [pytest.param(None, id="shared-traces-missing")]
    text = [pytest.param(row, id=f"{row['trace_file']}-{row['cache_size']}") for row in text_rows("LFU")]
    other = [
        pytest.param(row, id=f"{row['trace_file']}-{row['cache_size']}")
        for row in expected_rows("LFU")
        if row["trace_file"] in OTHER_FORMATS
    ]
    sized = [
        pytest.param(row, id=f"{row['trace_file']}-{row['cache_size']}B-{row['published'].split()[-1]}")
        for row in expected_rows("LFU", "bytes (variable obj size)")
    ]
    return text + other + sized


@needs_jit
@pytest.mark.parametrize("row", _shared_cases())
def test_misses_match_libcachesim_lfu(row):
    """libCacheSim's LFU keeps each count's objects in access order, so ties break as ours do: counts match exactly."""
    if row is None:
        pytest.skip("../shared/traces not present")
    if row["trace_file"] in OTHER_FORMATS:
        trace, capacity = load_other_trace(row["trace_file"]), int(row["cache_size"])
    elif row["size_unit"] == "objects":
        trace, capacity = load_text_trace(row["trace_file"]), int(row["cache_size"])
    else:
        trace, capacity = load_oracle_trace(row["trace_file"]), f"{row['cache_size']}B"
    assert len(trace) == int(row["n_req"])
    result = tuner.replay(trace, "lfu", capacity)
    assert result.misses == int(row["expected_misses"])
