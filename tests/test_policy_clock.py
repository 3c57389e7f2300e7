"""CLOCK: hand-traced second chances, a classic clock-hand reference model, and exact shared-trace counts."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import needs_jit
from tests.policy_checks import assert_expected_misses, assert_hits_match_reference, expected_cases, hit_miss_string


def test_referenced_tail_gets_a_second_chance():
    # A, B, C fill the cache; A hits (bit set). D: tail A has its bit, so it is cleared and
    # moved to the head, and B goes. A hits again; E: tail C (bit clear) goes; queue A(1), D, E.
    # B: A is recycled once more and D goes; D: E goes; A still hits.
    assert hit_miss_string("ABCADAEBDA", "clock", 3) == "MMMHMHMMMH"


def test_new_objects_start_unreferenced():
    # With no hits CLOCK is FIFO: a new object's bit is clear, so D evicts A, E evicts B.
    assert hit_miss_string("ABCDEAB", "clock", 3) == "MMMMMMM"
    # B's hit protects it once; C evicts A (bit clear since it entered), not B.
    assert hit_miss_string("ABBCB", "clock", 2) == "MMHMH"


def test_variable_sizes_keep_the_referenced_object():
    # 10 bytes: A(4) and B(4) in, A hits. C(6) needs 8 + 6 - 10 = 4 bytes: A is recycled, B goes.
    assert hit_miss_string("ABACA", "clock", "10B", sizes=[4, 4, 4, 6, 4]) == "MMHMH"
    # Without the hit A is the tail with its bit clear: C evicts A, and A then evicts B.
    assert hit_miss_string("ABCA", "clock", "10B", sizes=[4, 4, 6, 4]) == "MMMM"


def reference_clock(keys, sizes, capacity: int) -> list[bool]:
    """The textbook clock: residents on a circle, a hand at the oldest, newcomers just behind the hand."""
    circle: list = []
    hand = 0
    referenced: dict = {}
    held: dict = {}
    used = 0
    hits = []
    for key, size in zip(keys, sizes, strict=True):
        if key in held:
            referenced[key] = True
            hits.append(True)
            continue
        hits.append(False)
        if size > capacity:
            continue
        while used + size > capacity:
            while referenced[circle[hand]]:
                referenced[circle[hand]] = False
                hand = (hand + 1) % len(circle)
            victim = circle.pop(hand)
            used -= held.pop(victim)
            if hand == len(circle):
                hand = 0
        circle.insert(hand, key)
        hand = (hand + 1) % len(circle)
        held[key], referenced[key] = size, False
        used += size
    return hits


@settings(max_examples=80, deadline=None)
@given(keys=st.lists(st.integers(0, 15), min_size=1, max_size=200), capacity=st.integers(1, 16))
def test_matches_reference_model_with_unit_sizes(keys, capacity):
    assert_hits_match_reference("clock", reference_clock, keys, capacity)


@settings(max_examples=60, deadline=None)
@given(
    keys=st.lists(st.integers(0, 15), min_size=1, max_size=200),
    object_sizes=st.lists(st.integers(1, 40), min_size=16, max_size=16),
    capacity=st.integers(1, 120),
)
def test_matches_reference_model_with_byte_sizes(keys, object_sizes, capacity):
    assert_hits_match_reference("clock", reference_clock, keys, capacity, object_sizes)


@needs_jit
@pytest.mark.parametrize("row", expected_cases("CLOCK", "Clock"))
def test_misses_match_expected(row):
    """Exact: libCacheSim's Clock (1-bit counter) and an independent model agree on every row."""
    assert_expected_misses(row, "clock")
