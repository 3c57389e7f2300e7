"""ARC: hand-traced lists, a slow reference model, and exact counts on the shared traces."""

from collections import OrderedDict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tuner
from tests import policy_checks as checks
from tests.conftest import needs_jit
from tests.test_policy_removal import replay_with_deletes
from tuner.capacity import BYTES, Capacity
from tuner.engine.replay import replay_with_state
from tuner.policies import get_policy

ARC = get_policy("arc")


def _final_lists(keys: list[int], capacity: int) -> tuple[dict[str, list[int]], float, int]:
    """Replay ``keys`` (unit sizes) and read ARC's four lists, MRU first, in original keys."""
    trace = tuner.Trace.from_arrays(keys)
    result, state, arrays = replay_with_state(trace, ARC, capacity)
    heads = {"T1": state.t1_head, "T2": state.t2_head, "B1": state.b1_head, "B2": state.b2_head}
    lists = {}
    for name, head in heads.items():
        walk, node = [], head
        while node >= 0:
            walk.append(int(trace.keys[node]))
            node = arrays.links[node, 1]
        lists[name] = walk
    return lists, float(state.p), result.misses


def test_hand_traced_adaptation_and_ghost_hits():
    # c = 2. 1,2 enter T1; 1 hits -> T2=[1]; 3 evicts 2 into B1 (|T1| = 1 > p = 0);
    # 2 hits B1: p = 1, REPLACE keeps T1 (|T1| = p) and evicts 1 into B2, 2 enters T2;
    # 4 evicts 2 into B2; 1 hits B2: p = 0, 3 goes to B1; 3 hits B1: p = 1, 1 goes to B2.
    lists, p, misses = _final_lists([1, 2, 1, 3, 2, 4, 1, 3], capacity=2)
    assert lists == {"T1": [4], "T2": [3], "B1": [], "B2": [1, 2]}
    assert p == 1.0
    assert misses == 7


def test_t1_alone_full_evicts_without_ghost():
    # Only first references: |T1| = c and B1 empty, so T1's LRU leaves without a ghost (plain LRU).
    lists, p, misses = _final_lists([1, 2, 3, 4, 5], capacity=2)
    assert lists == {"T1": [5, 4], "T2": [], "B1": [], "B2": []}
    assert (p, misses) == (0.0, 5)


def test_second_reference_promotes_to_t2_and_t1_overflow_feeds_b1():
    lists, _, misses = _final_lists([1, 1, 2, 3, 4], capacity=3)
    # 1 -> T2; 2, 3 fill T1; 4: |T1|+|B1|+1 = 3 <= 3, REPLACE evicts T1's LRU (2) into B1.
    assert lists == {"T1": [4, 3], "T2": [1], "B1": [2], "B2": []}
    assert misses == 4


class ReferenceArc:
    """A slow, obvious ARC over byte sizes, written from Fig. 4 with libCacheSim's rules."""

    def __init__(self, capacity: int):
        self.c = capacity
        self.p = 0.0
        self.t1, self.t2, self.b1, self.b2 = OrderedDict(), OrderedDict(), OrderedDict(), OrderedDict()

    @staticmethod
    def _bytes(lst: OrderedDict) -> int:
        return sum(lst.values())

    def _step(self, other: OrderedDict, hit: OrderedDict) -> float:
        hit_bytes = self._bytes(hit)
        return max(self._bytes(other) / hit_bytes, 1.0) if hit_bytes else 1.0  # zero-byte ghosts: step 1

    def _replace(self, hit_b2: bool) -> None:
        t1 = self._bytes(self.t1)
        if (t1 > 0 and (t1 > self.p or (t1 == self.p and hit_b2))) or not self.t2:
            key, size = self.t1.popitem(last=False)
            self.b1[key] = size
        else:
            key, size = self.t2.popitem(last=False)
            self.b2[key] = size

    def _evict(self, size: int, ghost: str | None) -> None:
        if ghost is not None:
            self._replace(ghost == "B2")
            return
        t1, b1 = self._bytes(self.t1), self._bytes(self.b1)
        if t1 + b1 + size > self.c:
            if b1 > 0:
                self.b1.popitem(last=False)
                self._replace(False)
            else:
                self.t1.popitem(last=False)
            return
        everything = t1 + b1 + self._bytes(self.t2) + self._bytes(self.b2)
        if everything >= 2 * self.c and self.b2:
            self.b2.popitem(last=False)
        self._replace(False)

    def remove(self, key) -> None:
        """A delete: a resident leaves T1 or T2, with no ghost and no change to ``p`` (libCacheSim's ARC_remove)."""
        self.t1.pop(key, None)
        self.t2.pop(key, None)

    def access(self, key, size: int) -> bool:
        if key in self.t1:
            self.t2[key] = self.t1.pop(key)
            return True
        if key in self.t2:
            self.t2.move_to_end(key)
            return True
        if size > self.c:
            return False
        ghost = None
        if key in self.b1:
            self.p = min(self.p + self._step(self.b2, self.b1), float(self.c))
            del self.b1[key]
            ghost = "B1"
        elif key in self.b2:
            self.p = max(self.p - self._step(self.b1, self.b2), 0.0)
            del self.b2[key]
            ghost = "B2"
        while self._bytes(self.t1) + self._bytes(self.t2) + size > self.c:
            self._evict(size, ghost)
        (self.t1 if ghost is None else self.t2)[key] = size
        return False


def _reference_misses(keys, sizes, capacity) -> int:
    model = ReferenceArc(capacity)
    return sum(not model.access(key, size) for key, size in zip(keys, sizes, strict=True))


@settings(max_examples=150, deadline=None)
@given(keys=checks.key_lists(21, 300), capacity=st.integers(1, 16))
def test_matches_reference_model_at_object_capacity(keys, capacity):
    trace = tuner.Trace.from_arrays(keys)
    assert tuner.replay(trace, "arc", capacity).misses == _reference_misses(keys, [1] * len(keys), capacity)


@settings(max_examples=150, deadline=None)
@given(
    requests=st.lists(st.tuples(st.integers(0, 15), st.integers(0, 40)), min_size=75, max_size=300),
    capacity=st.integers(1, 120),
)
def test_matches_reference_model_at_byte_capacity(requests, capacity):
    # Sizes may change between requests: a resident keeps the size it entered with.
    keys = [key for key, _ in requests]
    sizes = [size for _, size in requests]
    trace = tuner.Trace.from_arrays(keys, sizes=sizes)
    result = tuner.replay(trace, "arc", Capacity(capacity, BYTES, f"{capacity}B"))
    assert result.misses == _reference_misses(keys, sizes, capacity)


@settings(max_examples=150, deadline=None)
@given(
    requests=st.lists(
        st.tuples(st.integers(0, 15), st.integers(0, 40), st.integers(0, 5).map(lambda draw: draw == 0)),
        min_size=75,
        max_size=300,
    ),
    capacity=st.integers(1, 120),
    in_bytes=st.booleans(),
)
def test_deletes_match_reference_model(requests, capacity, in_bytes):
    # Unit sizes count objects (capacity up to 120 holds all 16 keys, so small ones are the test).
    keys = [key for key, _, _ in requests]
    sizes = [size for _, size, _ in requests] if in_bytes else None
    deletes = [delete for _, _, delete in requests]
    capacity = capacity if in_bytes else 1 + capacity % 16
    hits, _, _ = replay_with_deletes(keys, deletes, capacity, "arc", sizes=sizes)
    model = ReferenceArc(capacity)
    expected = []
    for key, size, delete in zip(keys, sizes or [1] * len(keys), deletes, strict=True):
        if delete:
            model.remove(key)
        expected.append(not delete and model.access(key, size))
    assert hits == expected


def test_a_ghost_hit_on_a_list_of_zero_byte_ghosts_adapts_by_one():
    # Found by a random search: B1 held only zero-byte ghosts when one of them was requested
    # again, and |B2| / |B1| divided by zero.
    keys = [2, 4, 1, 2, 3, 0, 1, 0, 2, 4, 0, 1, 2, 4, 1, 2, 1, 0, 3, 0, 1, 2, 2, 0, 4]
    size_of = {0: 1, 1: 2, 2: 0, 3: 1, 4: 0}
    sizes = [size_of[key] for key in keys]
    trace = tuner.Trace.from_arrays(keys, sizes=sizes)
    result = tuner.replay(trace, "arc", "3B")
    assert result.misses == _reference_misses(keys, sizes, 3)


@needs_jit
@pytest.mark.parametrize("row", checks.expected_cases("ARC", "ARC"))
def test_exact_misses_match_expected(row):
    """Exact at object capacities (every trace with ARC rows) and at byte capacities (cloudPhysicsIO)."""
    checks.assert_expected_misses(row, "arc")


def test_objects_beyond_32_bit_sizes_are_refused():
    trace = tuner.Trace.from_arrays([1, 2], sizes=[10, 2**31])
    with pytest.raises(ValueError, match="32 bits"):
        tuner.replay(trace, "arc", "4GiB")
