"""The models of Python's caches against the libraries themselves.

Each random trace is replayed through the real library as an application
drives it (GET: ``cache[key]``, a hit, or a KeyError, a miss, and then
``cache[key] = value`` unless it raises ValueError 'value too large'; SET:
``cache[key] = value``; DELETE: ``cache.pop(key, None)``; functools: a
decorated function called with each key), and through the model with
``tuner.replay``. Deterministic models give exactly the library's hits,
misses and evictions (a ``popitem`` that takes the very key being re-set is
a re-size in the loop, not an eviction) and, without a TTL, the same
capacity in use; RRCache is matched exactly when its ``choice`` draws from
the model's own SplitMix64 stream, and in distribution against
``random.Random(seed).choice``.

The one documented divergence is kept out of the random traces: a SET of a
cached key larger than the whole cache (cachetools keeps the old value, the
loop drops it), so SET sizes never exceed the capacity.
"""

from __future__ import annotations

import functools
import random
import statistics

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tuner
from tuner.errors import CachetuneError
from tuner.live.python_caches import library_cache
from tuner.policies import POLICIES, parse_policies
from tuner.policies.rng import below, seed_state
from tuner.trace import DELETE, GET, SET

DETERMINISTIC = ("cachetools-fifo", "cachetools-lfu", "cachetools-lru")


def drive(cache, requests) -> tuple[int, int]:
    """Replay ``requests`` (key, op, size, time) through a ``library_cache`` as an application would;
    returns its GET hits and misses (the value stored is the size, which ``getsizeof`` reads)."""
    hits = misses = 0
    for key, op, size, now in requests:
        cache.clock[0] = now
        if op == DELETE:
            cache.pop(key, None)
            continue
        if op == GET:
            try:
                cache[key]
                hits += 1
                continue
            except KeyError:
                misses += 1
        cache.setting = key
        try:
            cache[key] = size
        except ValueError as error:
            assert str(error) == "value too large"
        cache.setting = None
    return hits, misses


def _model(requests, name, capacity, sized, **options):
    keys, ops, sizes, times = (list(column) for column in zip(*requests, strict=True))
    trace = tuner.Trace.from_arrays(keys, times, sizes, ops)
    return tuner.replay(trace, name, f"{capacity}B" if sized else capacity, **options)


@st.composite
def traces(draw, largest_set: int, max_size: int = 60, writes: bool = True):
    """Requests (key, op, size, time): few keys so small caches hit and evict, sizes 0-20 (a SET's at
    most ``largest_set``), times that advance by 0 to 3 seconds."""
    n = draw(st.integers(1, max_size))
    keys = draw(st.lists(st.integers(0, 9), min_size=n, max_size=n))
    choices = [GET, GET, GET, SET, SET, DELETE] if writes else [GET]
    ops = draw(st.lists(st.sampled_from(choices), min_size=n, max_size=n))
    sizes = draw(st.lists(st.integers(0, 20), min_size=n, max_size=n))
    sizes = [min(size, largest_set) if op == SET else size for op, size in zip(ops, sizes, strict=True)]
    gaps = draw(st.lists(st.sampled_from([0.0, 0.5, 1.0, 3.0]), min_size=n, max_size=n))
    return list(zip(keys, ops, sizes, np.cumsum(gaps).tolist(), strict=True))


capacities = st.tuples(st.booleans(), st.integers(1, 30)).map(
    lambda pair: (pair[0], pair[1] if pair[0] else 1 + pair[1] % 8)
)  # (sized, capacity): bytes 1-30 or objects 1-8


def _assert_same(result, cache, hits, misses, with_ttl=False):
    assert (result.hits, result.misses) == (hits, misses)
    assert result.evictions == cache.evicted
    if not with_ttl:  # TTLCache's currsize expires first: compared by hits and victims instead
        assert result.used == cache.currsize


@pytest.mark.parametrize("name", DETERMINISTIC)
@settings(max_examples=150, deadline=None)
@given(data=st.data(), capacity=capacities)
def test_deterministic_models_equal_cachetools(name, data, capacity):
    sized, amount = capacity
    requests = data.draw(traces(largest_set=amount))
    cache = library_cache(name, amount, sized)
    hits, misses = drive(cache, requests)
    _assert_same(_model(requests, name, amount, sized), cache, hits, misses)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), capacity=capacities, ttl=st.sampled_from([1.0, 2.5, 6.0]))
def test_ttl_model_equals_ttlcache_on_the_trace_clock(data, capacity, ttl):
    sized, amount = capacity
    requests = data.draw(traces(largest_set=amount))
    cache = library_cache("cachetools-ttl", amount, sized, ttl=ttl)
    hits, misses = drive(cache, requests)
    _assert_same(_model(requests, "cachetools-ttl", amount, sized, ttl=ttl), cache, hits, misses, with_ttl=True)


class SplitMixChoice:
    """``choice`` for RRCache drawing the model's own stream: SplitMix64 from ``seed``, one uniform index a call."""

    def __init__(self, seed: int):
        self.rng = seed_state(seed)

    def __call__(self, keys):
        rng, index = below(self.rng, len(keys))
        self.rng = np.uint64(rng)  # compiled, below returns a Python int, which numba would read as int64
        return keys[int(index)]


@settings(max_examples=150, deadline=None)
@given(data=st.data(), capacity=capacities, seed=st.integers(0, 2**32))
def test_rr_model_equals_rrcache_drawing_the_same_stream(data, capacity, seed):
    sized, amount = capacity
    requests = data.draw(traces(largest_set=amount))
    cache = library_cache("cachetools-rr", amount, sized, choice=SplitMixChoice(seed))
    hits, misses = drive(cache, requests)
    _assert_same(_model(requests, "cachetools-rr", amount, sized, seed=seed), cache, hits, misses)


@pytest.mark.parametrize("sized", [False, True])
def test_rr_model_hits_as_rrcache_with_random_choice(sized):
    rng = np.random.default_rng(5)
    n = 3_000
    keys = (rng.zipf(1.3, n) % 60).tolist()
    ops = rng.choice([GET, GET, GET, GET, SET, DELETE], n).tolist()
    sizes = rng.integers(0, 50, n).tolist()
    amount = 300 if sized else 12
    sizes = [min(size, amount) if op == SET else size for op, size in zip(ops, sizes, strict=True)]
    requests = list(zip(keys, ops, sizes, range(n), strict=True))
    library = []
    for seed in range(20):
        cache = library_cache("cachetools-rr", amount, sized, choice=random.Random(seed).choice)
        library.append(drive(cache, requests)[0])
    model = [_model(requests, "cachetools-rr", amount, sized, seed=seed).hits for seed in range(20)]
    # Same distribution: each side's mean lies within the other's spread of 20 seeds.
    assert min(library) <= statistics.mean(model) <= max(library)
    assert min(model) <= statistics.mean(library) <= max(model)
    assert max(library) > min(library)  # the seeds do change RRCache's victims


@settings(max_examples=150, deadline=None)
@given(keys=st.lists(st.integers(0, 12), min_size=1, max_size=80), capacity=st.integers(1, 10))
def test_functools_model_equals_lru_cache(keys, capacity):
    @functools.lru_cache(maxsize=capacity)
    def cached(key):
        return key

    for key in keys:
        cached(key)
    info = cached.cache_info()
    result = tuner.replay(tuner.Trace.from_arrays(keys), "functools-lru", capacity)
    assert (result.hits, result.misses, result.used) == (info.hits, info.misses, info.currsize)
    assert result.evictions == info.misses - info.currsize  # one result dropped per miss once full


def test_read_only_traces_run_without_operations():
    requests = [(key, GET, 1, float(at)) for at, key in enumerate([1, 2, 1, 3, 4, 1, 2, 5, 1, 3, 2, 2, 6, 1])]
    for name in ("cachetools-lru", "cachetools-fifo", "cachetools-lfu"):
        cache = library_cache(name, 3, False)
        hits, misses = drive(cache, requests)
        _assert_same(_model(requests, name, 3, False), cache, hits, misses)
    cache = library_cache("cachetools-ttl", 3, False, ttl=4.0)
    hits, misses = drive(cache, requests)
    _assert_same(_model(requests, "cachetools-ttl", 3, False, ttl=4.0), cache, hits, misses, with_ttl=True)


def _hit_string(requests, name, capacity, sized=False, **options) -> str:
    keys, ops, sizes, times = (list(column) for column in zip(*requests, strict=True))
    trace = tuner.Trace.from_arrays(keys, times, sizes, ops)
    result = tuner.replay(trace, name, f"{capacity}B" if sized else capacity, window_seconds=1.0, **options)
    is_get = [op == GET for op in ops]
    window_gets = np.bincount(np.floor(np.asarray(times)).astype(int), weights=is_get)
    return "".join(
        "H" if misses == 0 else "M" for misses, gets in zip(result.window_misses, window_gets, strict=True) if gets
    )


def _at(*requests):
    """One request a second: (key, op) or (key, op, size)."""
    return [(r[0], r[1], r[2] if len(r) > 2 else 1, float(at)) for at, r in enumerate(requests)]


def test_fifo_moves_a_re_set_key_to_the_end():
    # a, b written; a written again (now newest); c evicts b, not a.
    requests = _at(("a", SET), ("b", SET), ("a", SET), ("c", GET), ("a", GET), ("b", GET))
    assert _hit_string(requests, "cachetools-fifo", 2) == "MHM"
    assert _hit_string(requests, "fifo", 2) == "MMM"  # textbook FIFO by first insertion evicts a
    # A read does not move it: a read, then c evicts a.
    reads = _at(("a", SET), ("b", SET), ("a", GET), ("c", GET), ("a", GET))
    assert _hit_string(reads, "cachetools-fifo", 2) == "HMM"


def test_lfu_ties_go_to_the_key_that_reached_the_count_first():
    # a and b both reach count 2, a first; c evicts a; b still hits, a misses.
    requests = _at(("a", GET), ("b", GET), ("a", GET), ("b", GET), ("c", GET), ("b", GET), ("a", GET))
    assert _hit_string(requests, "cachetools-lfu", 2) == "MMHHMHM"
    # A write counts as a use too: a written twice outlives b read once.
    writes = _at(("a", SET), ("a", SET), ("b", GET), ("c", GET), ("a", GET), ("b", GET))
    assert _hit_string(writes, "cachetools-lfu", 2) == "MMHM"


def test_lfu_count_survives_a_re_size_unless_popitem_takes_the_key():
    # a reaches 2, b reaches 2; a re-set larger is touched (3) in place; c then evicts b (2), not a.
    grown = _at(("a", SET, 4), ("a", GET, 4), ("b", SET, 4), ("b", GET, 4), ("a", SET, 6), ("c", SET, 4),
                ("a", GET, 6), ("b", GET, 4))  # fmt: skip
    assert _hit_string(grown, "cachetools-lfu", 10, sized=True) == "HHHM"
    # a (count 1) grows past what the others leave: popitem takes a itself, then b (count 2 before d), and
    # a comes back at count 1, so e evicts a, not d; touched in place instead, a would outlive d.
    taken = _at(("a", SET, 4), ("b", SET, 4), ("b", GET, 4), ("d", SET, 2), ("d", GET, 2), ("a", SET, 8),
                ("e", GET, 2), ("d", GET, 2), ("a", GET, 8))  # fmt: skip
    assert _hit_string(taken, "cachetools-lfu", 10, sized=True) == "HHMHM"
    for requests in (grown, taken):
        cache = library_cache("cachetools-lfu", 10, True)
        hits, misses = drive(cache, requests)
        _assert_same(_model(requests, "cachetools-lfu", 10, True), cache, hits, misses)


def test_ttl_expired_items_free_room_before_any_eviction():
    # b is the least recently used, but a has expired at 10.5 (written at 0, ttl 10): c takes a's room.
    requests = [("a", SET, 1, 0.0), ("b", SET, 1, 1.0), ("a", GET, 1, 2.0), ("c", GET, 1, 10.5), ("b", GET, 1, 10.6)]
    keys, ops, sizes, times = (list(column) for column in zip(*requests, strict=True))
    trace = tuner.Trace.from_arrays(keys, times, sizes, ops)
    ttl_model = tuner.replay(trace, "cachetools-ttl", 2, ttl=10.0)
    assert (ttl_model.hits, ttl_model.evictions, ttl_model.expirations) == (2, 0, 1)
    lazy = tuner.replay(trace, "cachetools-lru", 2, ttl=10.0)  # the loop alone expires only on touch
    assert (lazy.hits, lazy.evictions) == (1, 2)  # c evicts b, then b evicts the expired a
    assert drive(library_cache("cachetools-ttl", 2, False, ttl=10.0), requests) == (2, 1)


def test_what_the_libraries_cannot_take_is_refused_in_one_line():
    trace = tuner.Trace.from_arrays([1, 2, 1], sizes=[10, 20, 10])
    with pytest.raises(CachetuneError, match="counts cached calls, not bytes"):
        tuner.replay(trace, "functools-lru", "1KB")
    writes = tuner.Trace.from_arrays([1, 2, 1], ops=[GET, SET, GET])
    with pytest.raises(CachetuneError, match="no SET, DELETE or TTL"):
        tuner.replay(writes, "functools-lru", 2)
    with pytest.raises(CachetuneError, match="lru_cache has no timeout"):
        tuner.replay(trace, "functools-lru", 2, ttl=5.0)
    with pytest.raises(CachetuneError, match="give ttl="):
        tuner.replay(trace, "cachetools-ttl", 2)


def test_models_are_registered_by_product_and_not_in_the_textbook_lineup():
    targets = {name: policy.target for name, policy in POLICIES.items() if policy.target in ("functools", "cachetools")}
    assert targets == {
        "functools-lru": "functools",
        **{f"cachetools-{kind}": "cachetools" for kind in ("lru", "fifo", "lfu", "rr", "ttl")},
    }
    assert not set(targets) & {policy.name for policy in parse_policies("all")}
    assert POLICIES["cachetools-rr"].randomized
