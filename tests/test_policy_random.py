"""Random eviction and its generator: known values, a Python twin of both, and the loop it wins on."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

import tuner
from tests import policy_checks as checks
from tests.conftest import needs_jit
from tests.test_policy_removal import replay_with_deletes
from tuner.policies.rng import below, next_u64, seed_state

MASK_64 = (1 << 64) - 1


class ReferenceRng:
    """SplitMix64 and Lemire's unbiased bounded draw, written from the papers with Python ints."""

    def __init__(self, seed: int):
        self.state = seed % (1 << 64)

    def next_u64(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK_64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK_64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK_64
        return z ^ (z >> 31)

    def below(self, n: int) -> int:
        # Accept a 32-bit draw x unless (x * n) mod 2**32 falls under 2**32 mod n.
        threshold = (1 << 32) % n
        while True:
            product = (self.next_u64() >> 32) * n
            if product & 0xFFFFFFFF >= threshold:
                return product >> 32


@njit
def _draws(rng, n, count):
    out = np.empty(count, np.int64)
    for j in range(count):
        rng, out[j] = below(rng, n)
    return out


def test_splitmix64_known_first_output():
    # SplitMix64 from state 0: the published first value of the reference C code.
    _, bits = next_u64(seed_state(0))
    assert int(bits) == 0xE220A8397B1DCDAF == ReferenceRng(0).next_u64()


@pytest.mark.parametrize("n", [1, 2, 7, 1000, 3_000_000_019])
def test_bounded_draws_equal_the_python_twin(n):
    twin = ReferenceRng(42)
    assert _draws(seed_state(42), n, 200).tolist() == [twin.below(n) for _ in range(200)]


def test_bounded_draws_are_uniform():
    counts = np.bincount(_draws(seed_state(1), 10, 100_000), minlength=10)
    # Chi-square with 9 degrees of freedom: 27.9 is its 0.999 quantile.
    chi_square = ((counts - 10_000) ** 2 / 10_000).sum()
    assert chi_square < 27.9


@pytest.mark.parametrize("seed", range(5))
def test_capacity_one_keeps_only_the_last_object(seed):
    assert checks.hit_miss_string("AABABBBA", "random", 1, seed=seed) == "MHMMMHHM"


@pytest.mark.parametrize("seed", range(5))
def test_object_needing_the_whole_cache_evicts_everyone(seed):
    trace = tuner.Trace.from_arrays(list("ABCDAB"), sizes=[3, 3, 3, 10, 3, 3])
    result = tuner.replay(trace, "random", "10B", seed=seed)
    assert (result.misses, result.evictions) == (6, 4)  # D evicts A, B and C; A then evicts D


def test_every_resident_is_an_equally_likely_victim():
    # Residents A, B, C, D; E evicts one; the second pass shows which (the first of A..D to miss).
    victims = []
    for seed in range(400):
        pattern = checks.hit_miss_string("ABCDEABCD", "random", 4, seed=seed)
        victims.append(pattern[5:].index("M"))
    counts = np.bincount(victims, minlength=4)
    assert counts.sum() == 400 and (counts > 70).all()


class ReferenceRandom(checks.ReferenceCache):
    """Uniform random eviction over a dense resident list, drawing exactly as the policy does."""

    def __init__(self, capacity: int, seed: int):
        super().__init__(capacity)
        self.rng = ReferenceRng(seed)
        self.residents: list[int] = []

    def victim_slot(self, now) -> int:
        """The slot in ``residents`` to evict: one uniform draw (random-age draws more)."""
        return self.rng.below(len(self.residents))

    def evict(self, now):
        slot = self.victim_slot(now)
        victim = self.residents[slot]
        self.residents[slot] = self.residents[-1]
        self.residents.pop()
        return victim

    def on_insert(self, key, now) -> None:
        self.residents.append(key)


def reference_random(ids, sizes, capacity: int, seed: int) -> list[bool]:
    return ReferenceRandom(capacity, seed).hits(ids.tolist(), sizes.tolist())


@settings(max_examples=50, deadline=None)
@given(
    keys=checks.key_lists(16, 200),
    object_sizes=checks.sizes_per_key(1),
    capacity=st.integers(1, 120),
    in_bytes=st.booleans(),
    seed=st.integers(0, 2**64 - 1),
)
def test_matches_reference_model(keys, object_sizes, capacity, in_bytes, seed):
    trace = tuner.Trace.from_arrays(keys, sizes=np.array(object_sizes)[keys])
    if not in_bytes:
        capacity = 1 + capacity % 16  # fewer slots than keys, so evictions happen
    spec = f"{capacity}B" if in_bytes else capacity
    result = tuner.replay(trace, "random", spec, seed=seed, window_seconds=1.0)
    sizes = trace.sizes if in_bytes else trace.unit_sizes
    assert (result.window_misses == 0).tolist() == reference_random(trace.ids, sizes, capacity, seed)


def reference_random_with_deletes(keys, deletes, capacity: int, seed: int) -> list[bool]:
    """``ReferenceRandom`` where a DELETE takes its key out of the resident list as an eviction would."""
    cache = ReferenceRandom(capacity, seed)
    hits = []
    for key, delete in zip(keys, deletes, strict=True):
        if not delete:
            hits += cache.hits([key], [1])
            continue
        hits.append(False)
        if key in cache.held:
            cache.used -= cache.held.pop(key)
            slot = cache.residents.index(key)
            cache.residents[slot] = cache.residents[-1]
            cache.residents.pop()
    return hits


@settings(max_examples=50, deadline=None)
@given(
    pairs=st.lists(st.tuples(st.integers(0, 12), st.integers(0, 4).map(lambda r: r == 0)), min_size=1, max_size=150),
    capacity=st.integers(1, 8),
    seed=st.integers(0, 2**64 - 1),
)
def test_deletes_keep_the_draws_of_the_reference_model(pairs, capacity, seed):
    # A delete moves the last resident into the deleted one's slot: later victims stay fixed by the seed.
    keys = [key for key, _ in pairs]
    deletes = [delete for _, delete in pairs]
    hits, _, _ = replay_with_deletes(keys, deletes, capacity, "random", seed=seed)
    assert hits == reference_random_with_deletes(keys, deletes, capacity, seed)


def test_seed_changes_the_run_and_fixes_it():
    keys = np.random.default_rng(0).integers(0, 50, 2_000)
    trace = tuner.Trace.from_arrays(keys)
    runs = {seed: tuner.replay(trace, "random", 20, seed=seed).misses for seed in range(4)}
    assert len(set(runs.values())) > 1
    assert tuner.replay(trace, "random", 20, seed=3).misses == runs[3]


@needs_jit
def test_keeps_most_of_a_loop_one_larger_than_the_cache():
    # LRU and FIFO miss all 100,000 requests here; random replacement misses about 1,200.
    trace = tuner.Trace.from_arrays(np.arange(100_000) % 1000)
    for seed in range(3):
        assert tuner.replay(trace, "random", 999, seed=seed).miss_ratio <= 0.02
