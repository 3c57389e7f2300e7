"""LIRS: hand-traced stacks, a slow reference model, and the LIRS authors' miss counts."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tuner
from tests import policy_checks as checks
from tests.conftest import expected_rows, needs_jit
from tests.test_policy_removal import replay_with_deletes
from tuner.capacity import BYTES, Capacity
from tuner.engine.replay import replay_with_state
from tuner.policies import get_policy
from tuner.policies.lirs import LIR, STATUS

LIRS = get_policy("lirs")


def _walk(links: np.ndarray, head: int, keys: np.ndarray) -> list[int]:
    walk = []
    while head >= 0:
        walk.append(int(keys[head]))
        head = links[head, 1]
    return walk


def _final_state(keys: list[int], capacity: int) -> tuple[list[int], list[int], set[int], int]:
    """Replay ``keys`` (unit sizes): stack S (top first), queue Q (newest first), the LIR set, misses."""
    trace = tuner.Trace.from_arrays(keys)
    result, state, arrays = replay_with_state(trace, LIRS, capacity)
    stack, queue = (
        _walk(arrays.stack_links, state.s_head, trace.keys),
        _walk(arrays.hir_links, state.q_head, trace.keys),
    )
    lir = {int(trace.keys[x]) for x in range(trace.n_objects) if arrays.stack_links[x, STATUS] & LIR}
    return stack, queue, lir, result.misses


def test_hand_traced_promotion_demotion_and_pruning():
    # c = 4: two LIR blocks, two for resident HIR blocks (the authors' minimum).
    # 1, 2 fill the LIR set; 3, 4 are resident HIR; 1 hits (LIR to the top).
    # 5: Q's front 3 leaves (non-resident, still in S); 5 is HIR.
    # 3: Q's front 4 leaves; 3 was in S so it becomes LIR and bottom LIR 2 moves to Q;
    #    pruning drops non-resident 4 from S. 2 hits (HIR not in S: top of S, end of Q).
    # 4: 5 leaves Q (non-resident in S); 4 is new HIR.
    # 5: 2 leaves Q; 5 becomes LIR and demotes bottom LIR 1 to Q.
    stack, queue, lir, misses = _final_state([1, 2, 3, 4, 1, 5, 3, 2, 4, 5], capacity=4)
    assert stack == [5, 4, 2, 3]
    assert queue == [1, 4]
    assert lir == {3, 5}
    assert misses == 8


def test_immediate_repeat_does_not_promote_but_a_later_one_does():
    stack, queue, lir, _ = _final_state([1, 2, 3, 3], capacity=4)
    assert (stack, queue, lir) == ([3, 2, 1], [3], {1, 2})
    stack, queue, lir, _ = _final_state([1, 2, 3, 4, 3], capacity=4)
    # 3 had a low inter-reference recency: LIR; bottom LIR 1 goes to the end of Q.
    assert (stack, queue, lir) == ([3, 4, 2], [1, 4], {2, 3})


class ReferenceLirs:
    """A slow, obvious LIRS over Python lists, from the paper's rules and this module's byte budgets."""

    def __init__(self, capacity: int, lir_limit: int, nonresident_limit: int):
        self.capacity, self.lir_limit, self.nonresident_limit = capacity, lir_limit, nonresident_limit
        self.stack: list = []  # top first
        self.queue: list = []  # front (next victim) first
        self.nonresident: list = []  # in S but evicted, oldest first
        self.lir: set = set()
        self.resident: dict = {}

    def _lir_bytes(self) -> int:
        return sum(self.resident[key] for key in self.lir)

    def _prune(self) -> None:
        while self.stack and self.stack[-1] not in self.lir:
            key = self.stack.pop()
            if key in self.nonresident:
                self.nonresident.remove(key)

    def _to_top(self, key) -> None:
        if key in self.stack:
            self.stack.remove(key)
        self.stack.insert(0, key)

    def _fit_lir_set(self) -> None:
        self._prune()
        while self._lir_bytes() > self.lir_limit:
            bottom = self.stack.pop()
            self.lir.remove(bottom)
            self.queue.append(bottom)
            self._prune()

    def remove(self, key) -> None:
        """A delete: a resident block leaves S and Q and is no non-resident entry; S is pruned after an LIR block."""
        if key not in self.resident:
            return
        del self.resident[key]
        if key in self.stack:
            self.stack.remove(key)
        if key in self.lir:
            self.lir.remove(key)
            self._prune()
        else:
            self.queue.remove(key)

    def access(self, key, size: int) -> bool:
        if key in self.resident:
            if self.stack and self.stack[0] == key:
                return True
            if key in self.lir:
                self._to_top(key)
                self._prune()
            elif key in self.stack:
                self.queue.remove(key)
                self._to_top(key)
                self.lir.add(key)
                self._fit_lir_set()
            else:
                self._to_top(key)
                self.queue.remove(key)
                self.queue.append(key)
            return True
        if size > self.capacity:
            return False
        while sum(self.resident.values()) + size > self.capacity:
            if self.queue:
                # Q's front leaves; S is not pruned, so with byte sizes an HIR entry pushed on S before
                # any LIR block stays at its bottom until S is next pruned.
                victim = self.queue.pop(0)
                if victim in self.stack:
                    self.nonresident.append(victim)
                del self.resident[victim]
            else:
                self._prune()
                victim = self.stack.pop()
                self.lir.remove(victim)
                del self.resident[victim]
                self._prune()
        if key in self.stack:
            self.nonresident.remove(key)
            self._to_top(key)
            self.resident[key] = size
            self.lir.add(key)
            self._fit_lir_set()
        elif self._lir_bytes() + size <= self.lir_limit:
            self.stack.insert(0, key)
            self.resident[key] = size
            self.lir.add(key)
        else:
            self.stack.insert(0, key)
            self.resident[key] = size
            self.queue.append(key)
        while len(self.nonresident) > self.nonresident_limit:
            self.stack.remove(self.nonresident.pop(0))
        return False


def _reference_model(sizes, capacity, hir_ratio, nonresident_ratio) -> ReferenceLirs:
    hir = max(int(hir_ratio * capacity), 2)
    hir = min(hir, capacity - 1) if capacity > 1 else 1
    capacity_objects = max(capacity / max(float(np.mean(sizes)), 1.0), 1.0)
    return ReferenceLirs(capacity, capacity - hir, int(nonresident_ratio * capacity_objects))


def _reference_misses(keys, sizes, capacity, hir_ratio, nonresident_ratio) -> int:
    model = _reference_model(sizes, capacity, hir_ratio, nonresident_ratio)
    return sum(not model.access(key, size) for key, size in zip(keys, sizes, strict=True))


@settings(max_examples=150, deadline=None)
@given(
    keys=checks.key_lists(25, 300),
    capacity=st.integers(1, 18),
    hir_ratio=st.sampled_from([0.01, 0.2, 0.5]),
    nonresident_ratio=st.sampled_from([0.5, 1.0, 3.0, 2500.0]),
)
def test_matches_reference_model_at_object_capacity(keys, capacity, hir_ratio, nonresident_ratio):
    trace = tuner.Trace.from_arrays(keys)
    params = {"hir_ratio": hir_ratio, "nonresident_ratio": nonresident_ratio}
    expected = _reference_misses(keys, [1] * len(keys), capacity, **params)
    assert tuner.replay(trace, "lirs", capacity, **params).misses == expected


@settings(max_examples=150, deadline=None)
@given(
    requests=st.lists(st.tuples(st.integers(0, 15), st.integers(1, 40)), min_size=75, max_size=300),
    capacity=st.integers(1, 150),
    hir_ratio=st.sampled_from([0.01, 0.1, 0.3]),
)
def test_matches_reference_model_at_byte_capacity(requests, capacity, hir_ratio):
    keys = [key for key, _ in requests]
    size_of = {}
    sizes = [size_of.setdefault(key, size) for key, size in requests]  # the core keeps one size per object
    trace = tuner.Trace.from_arrays(keys, sizes=sizes)
    result = tuner.replay(trace, "lirs", Capacity(capacity, BYTES, f"{capacity}B"), hir_ratio=hir_ratio)
    assert result.misses == _reference_misses(keys, sizes, capacity, hir_ratio, 2500.0)


@settings(max_examples=150, deadline=None)
@given(
    requests=st.lists(
        st.tuples(st.integers(0, 15), st.integers(1, 40), st.integers(0, 5).map(lambda draw: draw == 0)),
        min_size=75,
        max_size=300,
    ),
    capacity=st.integers(1, 150),
    in_bytes=st.booleans(),
    hir_ratio=st.sampled_from([0.01, 0.2, 0.5]),
    nonresident_ratio=st.sampled_from([0.5, 3.0, 2500.0]),
)
def test_deletes_match_reference_model(requests, capacity, in_bytes, hir_ratio, nonresident_ratio):
    keys = [key for key, _, _ in requests]
    size_of = {}
    sizes = [size_of.setdefault(key, size) for key, size, _ in requests] if in_bytes else [1] * len(keys)
    deletes = [delete for _, _, delete in requests]
    capacity = capacity if in_bytes else 1 + capacity % 18
    params = {"hir_ratio": hir_ratio, "nonresident_ratio": nonresident_ratio}
    hits, _, _ = replay_with_deletes(keys, deletes, capacity, "lirs", sizes=sizes if in_bytes else None, **params)
    # The policy sizes its non-resident bound from every request's size, deletes included.
    model = _reference_model(sizes, capacity, **params)
    expected = []
    for key, size, delete in zip(keys, sizes, deletes, strict=True):
        if delete:
            model.remove(key)
        expected.append(not delete and model.access(key, size))
    assert hits == expected


_MISSES: dict[tuple[str, int], int] = {}


def _lirs_misses(trace_file: str, capacity: int) -> int:
    """LIRS's misses on a LIRS-authors' trace, replayed once per session for both comparisons."""
    if (trace_file, capacity) not in _MISSES:
        _MISSES[trace_file, capacity] = tuner.replay(checks.load_row_trace(trace_file), "lirs", capacity).misses
    return _MISSES[trace_file, capacity]


@needs_jit
# LIRS_author rows on one-key-per-line traces: the authors' own traces, lirs/*.trace.gz.
@pytest.mark.parametrize("row", checks.expected_cases("LIRS_author"))
def test_exact_misses_of_the_lirs_authors_simulator(row):
    if row is None:
        pytest.skip("../shared/traces not present")
    assert _lirs_misses(row["trace_file"], int(row["cache_size"])) == int(row["expected_misses"])


@needs_jit
def test_close_to_libcachesim_lirs():
    """libCacheSim's LIRS differs in details (HIR minimum 1, S bounded at 2c, LIR
    demotion on HIR hits); measured mean absolute miss-ratio difference 0.0071 over all 201 rows."""
    rows = expected_rows("LIRS_libCacheSim")
    differences = [
        abs(_lirs_misses(row["trace_file"], int(row["cache_size"])) - int(row["expected_misses"])) / int(row["n_req"])
        for row in rows
    ]
    assert len(differences) == 201
    assert np.mean(differences) < 0.01
    assert max(differences) < 0.15
