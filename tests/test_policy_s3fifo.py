"""S3-FIFO: hand-traced queue moves, a deque reference model, and libCacheSim's exact counts."""

from collections import OrderedDict, deque

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tuner
from tests import policy_checks as checks
from tests.conftest import needs_jit
from tuner.engine.replay import replay_with_state
from tuner.policies import get_policy
from tuner.policies.s3fifo import SLOT

S3FIFO = get_policy("s3fifo")


def final_queues(keys, capacity: int, sizes=None) -> tuple[dict[str, list[str]], dict[str, int]]:
    """Replay ``keys`` (unit sizes and ``capacity`` in objects, or ``sizes`` per request and ``capacity``
    in bytes; default parameters); read S, M (tail first), G (newest first) and freq."""
    trace = tuner.Trace.from_arrays(list(keys), sizes=sizes)
    _, state, arrays = replay_with_state(trace, S3FIFO, capacity if sizes is None else f"{capacity}B")

    def live_keys(ring, tail, head, offset):
        """A ring's ids from tail to head, skipping dead entries (an id no longer pointing at its slot)."""
        keys = []
        while tail != head:
            if arrays.slots[ring[tail], SLOT] == tail + offset:
                keys.append(str(trace.keys[ring[tail]]))
            tail = (tail + 1) % len(ring)
        return keys

    queues = {
        "S": live_keys(arrays.small, state.s_tail, state.s_head, 0),
        "M": live_keys(arrays.main, state.m_tail, state.m_head, state.m_offset),
        "G": live_keys(arrays.ghost, state.g_tail, state.g_head, state.g_offset)[::-1],  # newest first
    }
    resident = queues["S"] + queues["M"]
    return queues, {str(key): int(arrays.freq[obj]) for obj, key in enumerate(trace.keys) if str(key) in resident}


# C = 10 objects: S holds 1, M 9, G 9 ids.
FILL = "0123456789"


def test_small_fifo_promotes_twice_used_objects_and_ghost_hits_enter_main():
    # 0..9 fill the cache (all in S); 0 hits twice (freq 2). A: S's tail 0 has freq >= 2 and
    # moves to M; 1 (freq 0) is evicted into G. 1 misses but is in G: S's tail 2 goes to G
    # and 1 enters M. 0 hits; 2 is a ghost hit too (3 goes to G).
    keys = FILL + "00A102"
    assert checks.hit_miss_string(keys, "s3fifo", 10) == "M" * 10 + "HHMMHM"
    assert final_queues(keys, 10)[0] == {"S": list("456789A"), "M": list("012"), "G": ["3"]}


def test_one_hit_wonders_pass_through_small_and_main_survives_a_scan():
    keys = FILL + "00A102" + "BCDEFGHIJ" + "012"
    # The scan of nine new keys evicts only S (M = 3 <= 9): 4..9, A, B, C go to G, so G (9 ids)
    # drops its oldest, 3; the scan misses, and 0, 1, 2 still hit.
    assert checks.hit_miss_string(keys, "s3fifo", 10) == "M" * 10 + "HHMMHM" + "M" * 9 + "HHH"
    assert final_queues(keys, 10)[0]["G"] == list("CBA987654")
    # 4 is still remembered: it re-enters through M; 3 was forgotten and re-enters S.
    assert final_queues(keys + "43", 10)[0]["M"] == list("0124")


def test_main_reinserts_with_a_two_bit_counter():
    # C = 4: S's share is int(0.4) = 0, so M (4) only evicts once S is empty; G holds 3 ids.
    # A..D fill S; E evicts A into G; A, B, C, D come back as ghost hits, each pushing S's tail
    # into G and itself into M, until S is empty: M = A B C D, G = E.
    # A hits three times (freq 3), B once. F: S is empty, so M is swept from its tail:
    # A is reinserted with freq min(3, 3) - 1 = 2, B with 0, and C (freq 0) is evicted.
    keys = "ABCDE" + "ABCD" + "AAAB" + "F"
    assert checks.hit_miss_string(keys, "s3fifo", 4) == "M" * 9 + "HHHH" + "M"
    queues, freq = final_queues(keys, 4)
    assert queues == {"S": ["F"], "M": list("DAB"), "G": ["E"]}
    assert freq == {"A": 2, "B": 0, "D": 0, "F": 0}


# C = 100 bytes: S holds 10 bytes, M 90, G 90. Twenty 5-byte objects fill the cache (S overfills
# until the first eviction).
FILL_BYTES = [str(k) for k in range(20)]


def test_objects_as_large_as_small_are_refused_after_evicting_and_larger_ones_at_once():
    # "A" (10 bytes, as large as S) passes libCacheSim's can_insert: 0 and 1 are evicted from S
    # into G to make room, then S3FIFO_insert refuses it. "B" (11 bytes) is refused before any
    # eviction. "A" again fits without evicting and is refused again. 0 is a ghost hit: it enters M.
    keys = [*FILL_BYTES, "A", "B", "A", "0"]
    sizes = [5] * 20 + [10, 11, 10, 5]
    result = tuner.replay(tuner.Trace.from_arrays(keys, sizes=sizes), "s3fifo", "100B")
    assert (result.misses, result.rejected, result.evictions) == (24, 3, 2)
    assert final_queues(keys, 100, sizes)[0] == {"S": FILL_BYTES[2:], "M": ["0"], "G": ["1"]}


def test_a_refused_ghost_leaves_the_ghost_queue_and_a_ghost_as_large_as_small_enters_main():
    # As libCacheSim's S3FIFO_find: a miss takes the id out of G before admission is decided.
    # "A" evicts 0 and 1 into G. 1 comes back at 11 bytes (larger than S): refused, and no longer a
    # ghost, so at 5 bytes it enters S. 0 comes back at 10 bytes (as large as S) but was a ghost: it
    # is admitted into M after the eviction that makes room (2 into G).
    keys = [*FILL_BYTES, "A", "1", "1", "0"]
    sizes = [5] * 20 + [10, 11, 5, 10]
    result = tuner.replay(tuner.Trace.from_arrays(keys, sizes=sizes), "s3fifo", "100B")
    assert (result.misses, result.rejected) == (24, 2)
    assert final_queues(keys, 100, sizes)[0] == {"S": [*FILL_BYTES[3:], "1"], "M": ["0"], "G": ["2"]}


def test_the_size_rule_is_not_applied_at_object_capacities():
    # C = 10 objects: S holds one object, as large as every object. libCacheSim would refuse them
    # all; s3fifo keeps the paper's queues (test_small_fifo_promotes_... traces them).
    result = tuner.replay(tuner.Trace.from_arrays(list(FILL + "0")), "s3fifo", 10)
    assert (result.misses, result.rejected) == (10, 0)


def reference_s3fifo(
    keys, sizes, capacity, small_ratio=0.10, ghost_ratio=0.90, move_threshold=2, *, size_rule=False, warm_up=False
) -> list[bool]:
    """S3-FIFO with deques and an OrderedDict ghost, as the SOSP'23 paper and libCacheSim's S3FIFO.c describe.

    ``size_rule``: libCacheSim's admission by size (what s3fifo applies at byte capacities): an
    object larger than S is refused, and one as large as S that was not a ghost is refused after
    the evictions that make room for it. ``warm_up``: libcachesim 0.3.5's rule that new objects
    go to M while S is full before the first eviction (s3fifo does not follow it).
    """
    small_cap = int(capacity * small_ratio)
    main_cap = capacity - small_cap
    ghost_cap = int(capacity * ghost_ratio)
    small, main, ghost = deque(), deque(), OrderedDict()
    small_bytes = main_bytes = ghost_bytes = 0
    freq: dict = {}
    held: dict = {}
    has_evicted = False
    hits = []
    for key, size in zip(keys, sizes, strict=True):
        if key in held:
            freq[key] += 1
            hits.append(True)
            continue
        hits.append(False)
        if size > capacity:
            continue
        ghost_hit = key in ghost
        if ghost_hit:
            ghost_bytes -= ghost.pop(key)
        if size_rule and size > small_cap:
            continue
        while small_bytes + main_bytes + size > capacity:
            has_evicted = True
            evicted = False
            if (main_bytes <= main_cap and small_bytes > 0) or not main:
                while small and not evicted:
                    victim = small.popleft()
                    small_bytes -= held[victim]
                    if freq[victim] >= move_threshold:
                        freq[victim] = 0
                        main.append(victim)
                        main_bytes += held[victim]
                        continue
                    if held[victim] <= ghost_cap:
                        while ghost_bytes + held[victim] > ghost_cap:
                            ghost_bytes -= ghost.popitem(last=False)[1]
                        ghost[victim] = held[victim]
                        ghost_bytes += held[victim]
                    del held[victim]
                    evicted = True
            while not evicted:
                victim = main.popleft()
                if freq[victim] >= 1:
                    freq[victim] = min(freq[victim], 3) - 1
                    main.append(victim)
                    continue
                main_bytes -= held.pop(victim)
                evicted = True
        if size_rule and size == small_cap and not ghost_hit:
            continue
        held[key], freq[key] = size, 0
        if ghost_hit or (warm_up and not has_evicted and small_bytes >= small_cap):
            main.append(key)
            main_bytes += size
        else:
            small.append(key)
            small_bytes += size
    return hits


def reference_s3fifo_bytes(keys, sizes, capacity, **params) -> list[bool]:
    """The reference as s3fifo runs at byte capacities: with libCacheSim's admission by size."""
    return reference_s3fifo(keys, sizes, capacity, size_rule=True, **params)


PARAMS = st.fixed_dictionaries(
    {
        "small_ratio": st.sampled_from([0.05, 0.10, 0.25, 0.5]),
        "ghost_ratio": st.sampled_from([0.0, 0.5, 0.9, 2.0]),
        "move_threshold": st.integers(1, 4),
    }
)


@settings(max_examples=100, deadline=None)
@given(keys=checks.key_lists(31, 300), capacity=st.integers(1, 30), params=PARAMS)
def test_matches_reference_model_with_unit_sizes(keys, capacity, params):
    checks.assert_hits_match_reference("s3fifo", reference_s3fifo, keys, capacity, **params)


@settings(max_examples=60, deadline=None)
@given(
    keys=checks.key_lists(16, 200),
    object_sizes=checks.sizes_per_key(0),
    capacity=st.integers(1, 160),
    params=PARAMS,
)
def test_matches_reference_model_with_byte_sizes(keys, object_sizes, capacity, params):
    checks.assert_hits_match_reference("s3fifo", reference_s3fifo_bytes, keys, capacity, object_sizes, **params)


def test_threshold_beyond_the_counter_is_refused():
    with pytest.raises(ValueError, match="move_threshold"):
        tuner.replay(tuner.Trace.from_arrays([1, 2]), "s3fifo", 2, move_threshold=500)


@needs_jit
@pytest.mark.parametrize("row", checks.expected_cases("S3FIFO", "S3-FIFO"))
def test_misses_match_expected(row):
    """Exact: libCacheSim's S3FIFO.c (as its own tests pin it) and an independent model agree on every row."""
    checks.assert_expected_misses(row, "s3fifo")
