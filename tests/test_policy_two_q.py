"""2Q: hand-traced queues, an OrderedDict reference model, and libCacheSim's TwoQ counts on the shared traces."""

from collections import OrderedDict, deque

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tuner
from tests import policy_checks as checks
from tests.conftest import needs_jit
from tests.test_policy_removal import replay_with_deletes
from tuner.engine.replay import replay_with_state
from tuner.policies import get_policy

TWO_Q = get_policy("2q")


def final_queues(keys, capacity: int) -> dict[str, list[str]]:
    """Replay ``keys`` (unit sizes, default parameters); read A1in (tail first), Am and A1out (head first)."""
    trace = tuner.Trace.from_arrays(list(keys))
    _, state, arrays = replay_with_state(trace, TWO_Q, capacity)

    def walk(node):
        keys_found = []
        while node >= 0:
            keys_found.append(str(trace.keys[node]))
            node = arrays.links[node, 1]
        return keys_found

    return {"A1in": walk(state.in_head)[::-1], "Am": walk(state.am_head), "A1out": walk(state.out_head)}


# C = 4 objects: Kin = 1, Kout = 2.


def test_ghost_hits_enter_am_and_a1out_forgets_its_oldest():
    # A..D fill A1in; E: A1in (4) > Kin, so A leaves for A1out. A is a ghost hit: B leaves for
    # A1out and A enters Am, where it then hits. B is a ghost hit too (C to A1out). F pushes D to
    # A1out, G pushes E (A1out keeps 2: C is forgotten), so C misses and pushes F out.
    keys = "ABCDE" + "AAB" + "FGC" + "AB"
    assert checks.hit_miss_string(keys, "2q", 4) == "MMMMM" + "MHM" + "MMM" + "HH"
    assert final_queues(keys, 4) == {"A1in": list("GC"), "Am": list("BA"), "A1out": list("FE")}


def test_hits_in_a1in_do_not_promote():
    # A hits four times while in A1in: correlated references. E still pushes A out (to A1out),
    # so A misses once more, then enters Am. LRU would have kept A.
    assert checks.hit_miss_string("ABCDAAAAEA", "2q", 4) == "MMMMHHHHMM"
    assert checks.hit_miss_string("ABCDAAAAEA", "lru", 4) == "MMMMHHHHMH"


def test_am_evicts_its_lru_when_a1in_is_within_kin_and_forgets_it():
    # A, B, C return as ghost hits (Am = C B A, A1in = E), A hits (Am = A C B). F: A1in (1) is
    # not above Kin, so Am's LRU B goes, not into A1out: B then misses as a newcomer (A1in).
    keys = "ABCDE" + "ABC" + "A" + "FB" + "CA"
    assert checks.hit_miss_string(keys, "2q", 4) == "MMMMM" + "MMM" + "H" + "MM" + "HH"
    assert final_queues(keys, 4) == {"A1in": list("FB"), "Am": list("AC"), "A1out": list("ED")}


def test_variable_sizes_use_bytes_for_kin_and_kout():
    # 20 bytes: Kin = 5, Kout = 10. A(4) B(4) C(4) D(4) E(4) fill; F(6): A1in (20) > 5, so A then
    # B go to A1out (8 bytes); G(3): C goes and A1out drops A to fit C (B C = 8). B is a ghost
    # hit and enters Am (D goes to A1out); A was forgotten and re-enters A1in (E goes); B hits.
    sizes = [4, 4, 4, 4, 4, 6, 3, 4, 4, 4]
    assert checks.hit_miss_string("ABCDEFGBAB", "2q", "20B", sizes=sizes) == "MMMMMMMMMH"


def reference_two_q(keys, sizes, capacity, kin_ratio=0.25, kout_ratio=0.50, deletes=None) -> list[bool]:
    """2Q as Johnson and Shasha's full version reads: a deque A1in, OrderedDicts for Am and A1out.

    ``deletes[i]`` makes request ``i`` a delete: a resident leaves A1in or Am and no id enters A1out.
    """
    kin, kout = int(capacity * kin_ratio), int(capacity * kout_ratio)
    a1in, am, a1out = deque(), OrderedDict(), OrderedDict()
    held: dict = {}
    in_bytes = out_bytes = 0
    hits = []
    for key, size, delete in zip(keys, sizes, deletes or [False] * len(keys), strict=True):
        if delete:
            if key in am:
                del am[key]
            elif key in held:
                a1in.remove(key)
                in_bytes -= held[key]
            held.pop(key, None)
            hits.append(False)
            continue
        if key in held:
            if key in am:
                am.move_to_end(key)
            hits.append(True)
            continue
        hits.append(False)
        if size > capacity:
            continue
        ghost_hit = key in a1out
        if ghost_hit:
            out_bytes -= a1out.pop(key)
        while sum(held.values()) + size > capacity:
            if in_bytes > kin or not am:
                victim = a1in.popleft()
                in_bytes -= held[victim]
                if held[victim] <= kout:
                    while out_bytes + held[victim] > kout:
                        out_bytes -= a1out.popitem(last=False)[1]
                    a1out[victim] = held[victim]
                    out_bytes += held[victim]
            else:
                victim, _ = am.popitem(last=False)
            del held[victim]
        held[key] = size
        if ghost_hit:
            am[key] = True
        else:
            a1in.append(key)
            in_bytes += size
    return hits


PARAMS = st.fixed_dictionaries(
    {"kin_ratio": st.sampled_from([0.1, 0.25, 0.5]), "kout_ratio": st.sampled_from([0.0, 0.5, 1.0, 2.0])}
)


@settings(max_examples=100, deadline=None)
@given(keys=checks.key_lists(31, 300), capacity=st.integers(1, 30), params=PARAMS)
def test_matches_reference_model_with_unit_sizes(keys, capacity, params):
    checks.assert_hits_match_reference("2q", reference_two_q, keys, capacity, **params)


@settings(max_examples=60, deadline=None)
@given(
    keys=checks.key_lists(16, 200),
    object_sizes=checks.sizes_per_key(0),
    capacity=st.integers(1, 160),
    params=PARAMS,
)
def test_matches_reference_model_with_byte_sizes(keys, object_sizes, capacity, params):
    checks.assert_hits_match_reference("2q", reference_two_q, keys, capacity, object_sizes, **params)


@settings(max_examples=100, deadline=None)
@given(
    requests=st.lists(st.tuples(st.integers(0, 15), st.integers(0, 5).map(lambda draw: draw == 0)), min_size=75,
                      max_size=300),
    object_sizes=checks.sizes_per_key(0),
    capacity=st.integers(1, 160),
    in_bytes=st.booleans(),
    params=PARAMS,
)  # fmt: skip
def test_deletes_match_reference_model(requests, object_sizes, capacity, in_bytes, params):
    keys = [key for key, _ in requests]
    deletes = [delete for _, delete in requests]
    sizes = [object_sizes[key] for key in keys] if in_bytes else None
    capacity = capacity if in_bytes else 1 + capacity % 16
    hits, _, _ = replay_with_deletes(keys, deletes, capacity, "2q", sizes=sizes, **params)
    assert hits == reference_two_q(keys, sizes or [1] * len(keys), capacity, **params, deletes=deletes)


@needs_jit
@pytest.mark.parametrize("row", checks.expected_cases("TwoQ"))
def test_misses_match_libcachesim_two_q(row):
    """expected.csv calls 2Q approximate (one implementation, libCacheSim's TwoQ), yet the counts are exact.

    libCacheSim's extra evictions from Am (its own capacity C - Kin) would need A1in below Kin while
    the cache is full, which never happens at unit sizes once A1in has filled.
    """
    checks.assert_expected_misses(row, "2q")
