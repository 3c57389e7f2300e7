"""Random-age: it spares recently used residents, reduces to random replacement, and matches a Python twin."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tuner
from tests import policy_checks as checks
from tests.conftest import needs_jit
from tests.test_policy_random import ReferenceRandom
from tuner.policies import get_policy


def replay_at(keys: str, times: list[float], capacity: int, seed: int = 0, **params) -> tuner.ReplayResult:
    trace = tuner.Trace.from_arrays(list(keys), times)
    return tuner.replay(trace, "random-age", capacity, seed=seed, **params)


@pytest.mark.parametrize("seed", range(10))
def test_first_drawn_old_resident_goes_and_recent_one_stays(seed):
    # At t=101, A has been idle 101 s (>= 50) and B 1 s: A is evicted, B hits.
    result = replay_at("ABCB", [0, 100, 101, 102], 2, seed, min_age=50.0, samples=64)
    assert result.hits == 1


@pytest.mark.parametrize("seed", range(10))
def test_idlest_of_the_sample_goes_when_none_is_old_enough(seed):
    # Nobody has been idle an hour; A (idle 2 s) is idler than B (1 s), so A goes.
    result = replay_at("ABCB", [0, 1, 2, 3], 2, seed, min_age=3600.0, samples=64)
    assert result.hits == 1


@pytest.mark.parametrize("seed", range(10))
def test_hot_object_is_never_evicted_while_old_ones_remain(seed):
    # 40 objects used once at t = 0..39 and a hot object H; then 30 newcomers, each followed
    # by H. Every eviction must take one of the 40 old objects: H and all newcomers stay.
    old = [f"old{k}" for k in range(40)]
    new = [f"new{k}" for k in range(30)]
    keys = [*old, "H"]
    for name in new:
        keys += [name, "H"]
    keys += new
    times = list(range(41)) + [1000 + j for j in range(60)] + [1060 + j for j in range(30)]
    trace = tuner.Trace.from_arrays(keys, times)
    result = tuner.replay(trace, "random-age", 41, seed=seed, min_age=500.0, samples=64)
    assert result.hits == 30 + 30
    assert result.evictions == 30


@pytest.mark.parametrize("params", [{"samples": 1, "min_age": 3600.0}, {"samples": 8, "min_age": 0.0}])
def test_reduces_to_random_replacement(params):
    # One draw per eviction, or every draw old enough: the same draws as `random`, the same victims.
    rng = np.random.default_rng(5)
    keys = (rng.zipf(1.2, 3_000) % 300).astype(np.int64)
    trace = tuner.Trace.from_arrays(keys, np.cumsum(rng.exponential(1.0, 3_000)))
    for seed in range(3):
        aged = tuner.replay(trace, "random-age", 40, seed=seed, **params)
        plain = tuner.replay(trace, "random", 40, seed=seed)
        assert (aged.hits, aged.evictions) == (plain.hits, plain.evictions)


def test_min_age_searches_from_one_second_to_the_trace_span():
    params = {param.name: param for param in get_policy("random-age").params}
    assert params["min_age"].search_range(7200.0) == (1.0, 7200.0)
    assert params["min_age"].log
    assert params["samples"].search_range(7200.0) == (1, 64)


class ReferenceRandomAge(ReferenceRandom):
    """Random-age the plain way: random's resident list and draws, and a last-access dict."""

    def __init__(self, capacity: int, seed: int, min_age: float, samples: int):
        super().__init__(capacity, seed)
        self.min_age, self.samples = min_age, samples
        self.last_access: dict[int, float] = {}

    def on_hit(self, key, now) -> None:
        self.last_access[key] = now

    def victim_slot(self, now) -> int:
        residents = self.residents
        drawn = [self.rng.below(len(residents))]
        while now - self.last_access[residents[drawn[-1]]] < self.min_age and len(drawn) < self.samples:
            drawn.append(self.rng.below(len(residents)))
        idle = [now - self.last_access[residents[slot]] for slot in drawn]
        return drawn[-1] if idle[-1] >= self.min_age else drawn[idle.index(max(idle))]

    def on_insert(self, key, now) -> None:
        super().on_insert(key, now)
        self.last_access[key] = now


def reference_random_age(ids, sizes, times, capacity: int, seed: int, min_age: float, samples: int) -> list[bool]:
    return ReferenceRandomAge(capacity, seed, min_age, samples).hits(ids.tolist(), sizes.tolist(), times.tolist())


@settings(max_examples=50, deadline=None)
@given(
    keys=checks.key_lists(16, 200),
    gaps=st.lists(st.sampled_from([0, 0, 1, 3]), min_size=200, max_size=200),  # zeros make idle-time ties
    object_sizes=checks.sizes_per_key(1),
    capacity=st.integers(1, 120),
    in_bytes=st.booleans(),
    min_age=st.floats(0.0, 30.0),
    samples=st.integers(1, 10),
    seed=st.integers(0, 2**64 - 1),
)
def test_matches_reference_model(keys, gaps, object_sizes, capacity, in_bytes, min_age, samples, seed):
    times = np.cumsum(gaps[: len(keys)]).astype(np.float64)
    trace = tuner.Trace.from_arrays(keys, times, np.array(object_sizes)[keys])
    if not in_bytes:
        capacity = 1 + capacity % 16  # fewer slots than keys, so evictions happen
    spec = f"{capacity}B" if in_bytes else capacity
    result = tuner.replay(trace, "random-age", spec, seed=seed, window_seconds=1.0, min_age=min_age, samples=samples)
    sizes = trace.sizes if in_bytes else trace.unit_sizes
    hits = reference_random_age(trace.ids, sizes, trace.timestamps, capacity, seed, min_age, samples)
    # Timestamps are whole seconds, so one-second windows (from the first) give the misses at each.
    missed_at = (trace.timestamps[~np.array(hits)] - trace.timestamps[0]).astype(np.int64)
    assert result.window_misses.tolist() == np.bincount(missed_at, minlength=len(result.window_misses)).tolist()


def test_equally_idle_draws_go_to_the_earliest_drawn():
    # A and B were used at the same moment and nobody is old enough: which of the two
    # goes depends on the draws, and must be the one the reference model drew first.
    trace = tuner.Trace.from_arrays(list("ABCDAB"), [0, 0, 5, 6, 7, 8])
    victims_seen = set()
    for seed in range(20):
        result = tuner.replay(trace, "random-age", 3, seed=seed, window_seconds=1.0, min_age=3600.0, samples=4)
        hits = reference_random_age(trace.ids, trace.unit_sizes, trace.timestamps, 3, seed, 3600.0, 4)
        assert (result.window_misses[5:] == 0).tolist() == hits[2:]  # one request a second from t=5
        victims_seen.add(hits[4])
    assert victims_seen == {True, False}  # both A and B were the victim for some seed


@needs_jit
@pytest.mark.parametrize("min_age", [1.0, 60.0])
def test_keeps_most_of_a_loop_one_larger_than_the_cache(min_age):
    # Requests one second apart: in a loop of 1,000 almost every resident is idle far longer
    # than min_age, so eviction stays close to random (about 1,200 misses of 100,000).
    trace = tuner.Trace.from_arrays(np.arange(100_000) % 1000)
    for seed in range(3):
        assert tuner.replay(trace, "random-age", 999, seed=seed, min_age=min_age).miss_ratio <= 0.02
