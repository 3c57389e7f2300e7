"""CLOCK: hand-traced second chances, a classic clock-hand reference model, and exact shared-trace counts."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import policy_checks as checks
from tests.conftest import needs_jit


def test_referenced_tail_gets_a_second_chance():
    # A, B, C fill the cache; A hits (bit set). D: tail A has its bit, so it is cleared and
    # moved to the head, and B goes. A hits again; E: tail C (bit clear) goes; queue A(1), D, E.
    # B: A is recycled once more and D goes; D: E goes; A still hits.
    assert checks.hit_miss_string("ABCADAEBDA", "clock", 3) == "MMMHMHMMMH"


def test_new_objects_start_unreferenced():
    # With no hits CLOCK is FIFO: a new object's bit is clear, so D evicts A, E evicts B.
    assert checks.hit_miss_string("ABCDEAB", "clock", 3) == "MMMMMMM"
    # B's hit protects it once; C evicts A (bit clear since it entered), not B.
    assert checks.hit_miss_string("ABBCB", "clock", 2) == "MMHMH"


def test_variable_sizes_keep_the_referenced_object():
    # 10 bytes: A(4) and B(4) in, A hits. C(6) needs 8 + 6 - 10 = 4 bytes: A is recycled, B goes.
    assert checks.hit_miss_string("ABACA", "clock", "10B", sizes=[4, 4, 4, 6, 4]) == "MMHMH"
    # Without the hit A is the tail with its bit clear: C evicts A, and A then evicts B.
    assert checks.hit_miss_string("ABCA", "clock", "10B", sizes=[4, 4, 6, 4]) == "MMMM"


class ReferenceClock(checks.ReferenceCache):
    """The textbook clock: residents on a circle, a hand at the oldest, newcomers just behind the hand."""

    def __init__(self, capacity: int):
        super().__init__(capacity)
        self.circle: list = []
        self.hand = 0
        self.referenced: dict = {}

    def on_hit(self, key, now) -> None:
        self.referenced[key] = True

    def evict(self, now):
        while self.referenced[self.circle[self.hand]]:
            self.referenced[self.circle[self.hand]] = False
            self.hand = (self.hand + 1) % len(self.circle)
        victim = self.circle.pop(self.hand)
        if self.hand == len(self.circle):
            self.hand = 0
        return victim

    def on_insert(self, key, now) -> None:
        self.circle.insert(self.hand, key)
        self.hand = (self.hand + 1) % len(self.circle)
        self.referenced[key] = False


def reference_clock(keys, sizes, capacity: int) -> list[bool]:
    return ReferenceClock(capacity).hits(keys, sizes)


@settings(max_examples=80, deadline=None)
@given(keys=checks.key_lists(16, 200), capacity=st.integers(1, 16))
def test_matches_reference_model_with_unit_sizes(keys, capacity):
    checks.assert_hits_match_reference("clock", reference_clock, keys, capacity)


@settings(max_examples=60, deadline=None)
@given(
    keys=checks.key_lists(16, 200),
    object_sizes=checks.sizes_per_key(1),
    capacity=st.integers(1, 120),
)
def test_matches_reference_model_with_byte_sizes(keys, object_sizes, capacity):
    checks.assert_hits_match_reference("clock", reference_clock, keys, capacity, object_sizes)


@needs_jit
@pytest.mark.parametrize("row", checks.expected_cases("CLOCK", "Clock"))
def test_misses_match_expected(row):
    """Exact: libCacheSim's Clock (1-bit counter) and an independent model agree on every row."""
    checks.assert_expected_misses(row, "clock")
