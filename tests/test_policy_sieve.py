"""SIEVE: hand-traced hand movements, a list-walking reference model, and exact shared-trace counts."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import policy_checks as checks
from tests.conftest import needs_jit
from tests.test_policy_removal import replay_with_deletes


def test_hand_stays_at_the_victims_predecessor_and_wraps():
    # Queue head..tail after A, B, C: C B A. A hits (visited).
    # D: the hand starts at the tail, clears A, evicts B and stays at C.   Queue D C A.
    # E: the hand is at C, unvisited: C goes, the hand moves to D.          Queue E D A.
    # A hits. F: the hand at D evicts it and moves to E.                    Queue F E A.
    # E hits. G: the hand clears E, evicts F (the head), falls off: tail.   Queue G E A.
    # H: the hand at the tail clears A (visited since its second hit), evicts E. Queue H G A.
    # A still hits: survivors keep their place while newcomers are judged first.
    assert checks.hit_miss_string("ABCADEAFEGHA", "sieve", 3) == "MMMHMMHMHMMH"


def test_survivors_do_not_move_unlike_clock():
    # After A's hit and D's eviction of B, SIEVE leaves A at the tail with its bit cleared,
    # so E evicts C (the hand's next stop). CLOCK moves A to the head and E evicts C too,
    # but then F: SIEVE's hand is at D and evicts it; CLOCK's tail is A (bit clear) and A goes.
    assert checks.hit_miss_string("ABCADEFA", "sieve", 3) == "MMMHMMMH"
    assert checks.hit_miss_string("ABCADEFA", "clock", 3) == "MMMHMMMM"


def test_variable_sizes_evict_until_the_object_fits():
    # 10 bytes: A(4), B(3), C(3); B hits. D(5) needs 5 bytes: the hand evicts A (4), then
    # clears B and evicts C. B survives.
    assert checks.hit_miss_string("ABCBDB", "sieve", "10B", sizes=[4, 3, 3, 3, 5, 3]) == "MMMHMH"


class ReferenceSieve(checks.ReferenceCache):
    """SIEVE on a Python list ordered head (index 0, newest) to tail, the hand kept as a key."""

    def __init__(self, capacity: int):
        super().__init__(capacity)
        self.queue: list = []
        self.visited: dict = {}
        self.hand = None

    def on_hit(self, key, now) -> None:
        self.visited[key] = True

    def evict(self, now):
        queue = self.queue
        at = queue.index(self.hand) if self.hand is not None else len(queue) - 1
        while self.visited[queue[at]]:
            self.visited[queue[at]] = False
            at = at - 1 if at > 0 else len(queue) - 1
        victim = queue.pop(at)
        self.hand = queue[at - 1] if at > 0 else None
        return victim

    def on_insert(self, key, now) -> None:
        self.queue.insert(0, key)
        self.visited[key] = False

    def remove(self, key) -> None:
        """``key`` leaves unchosen (a DELETE): a hand on it moves to its predecessor, as after an eviction."""
        at = self.queue.index(key)
        if self.hand == key:
            self.hand = self.queue[at - 1] if at > 0 else None
        self.queue.pop(at)
        self.used -= self.held.pop(key)


def reference_sieve(keys, sizes, capacity: int) -> list[bool]:
    return ReferenceSieve(capacity).hits(keys, sizes)


@settings(max_examples=80, deadline=None)
@given(keys=checks.key_lists(16, 200), capacity=st.integers(1, 16))
def test_matches_reference_model_with_unit_sizes(keys, capacity):
    checks.assert_hits_match_reference("sieve", reference_sieve, keys, capacity)


@settings(max_examples=60, deadline=None)
@given(
    keys=checks.key_lists(16, 200),
    object_sizes=checks.sizes_per_key(1),
    capacity=st.integers(1, 120),
)
def test_matches_reference_model_with_byte_sizes(keys, object_sizes, capacity):
    checks.assert_hits_match_reference("sieve", reference_sieve, keys, capacity, object_sizes)


def reference_sieve_with_deletes(keys, deletes, capacity: int) -> list[bool]:
    sieve = ReferenceSieve(capacity)
    hits = []
    for key, delete in zip(keys, deletes, strict=True):
        if delete:
            if key in sieve.held:
                sieve.remove(key)
            hits.append(False)
        else:
            hits += sieve.hits([key], [1], [0])
    return hits


@settings(max_examples=150, deadline=None)
@given(
    requests=st.lists(st.tuples(st.integers(0, 12), st.integers(0, 4).map(lambda r: r == 0)), min_size=1, max_size=150),
    capacity=st.integers(1, 8),
)
def test_deletes_match_the_reference_model(requests, capacity):
    # A delete of the object under the hand moves the hand on, so the sweep resumes where it would have.
    keys = [key for key, _ in requests]
    deletes = [delete for _, delete in requests]
    hits, _, _ = replay_with_deletes(keys, deletes, capacity, "sieve")
    assert hits == reference_sieve_with_deletes(keys, deletes, capacity)


@needs_jit
@pytest.mark.parametrize("row", checks.expected_cases("SIEVE", "Sieve"))
def test_misses_match_expected(row):
    """Exact: libCacheSim's Sieve and an independent model agree on every row."""
    checks.assert_expected_misses(row, "sieve")
