"""Reads, writes, deletes and timeouts: the request loop against a plain Python model of its semantics.

The model (an ordered dict of cached sizes, a dict of expiry times and a set
of dirty keys, LRU or FIFO at a byte capacity) is written from the
semantics in ``tuner/engine/kernel.py``'s docstring, not from the loop; it
also keeps a version per key to prove that no write is lost. Hypothesis
compares every counter on random traces with all three write policies,
deletes, size changes, TTLs, flush intervals and admission limits; every
other policy is held to the invariants the loop promises.
"""

import math
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tuner
from tests.policy_checks import ANY_CAPACITY, CALLS_ONLY
from tuner.engine import kernel
from tuner.errors import CachetuneError
from tuner.policies import POLICIES, PolicyInput
from tuner.trace import DELETE, GET, SET

WRITE_POLICIES = ("write-through", "write-back", "write-around")


@dataclass
class Model:
    """LRU (``reorder``) or FIFO at ``capacity`` bytes with the loop's request semantics."""

    capacity: int
    reorder: bool
    write_policy: str
    ttl: float | None = None
    flush_interval: float | None = None
    max_object_size: int | None = None
    cached: OrderedDict = field(default_factory=OrderedDict)  # key -> size, oldest (or least recent) first
    expires: dict = field(default_factory=dict)
    dirty: set = field(default_factory=set)
    version: dict = field(default_factory=dict)  # key -> number of its latest write (or "deleted")
    in_backend: dict = field(default_factory=dict)  # key -> the version the backend holds
    counts: dict = field(default_factory=lambda: dict.fromkeys(
        ("hits", "misses", "backend_writes", "writebacks", "invalidations", "expirations", "rejected",
         "evictions", "dirty_peak"), 0))  # fmt: skip

    def replay(self, keys, ops, sizes, times, ttls) -> None:
        next_flush = times[0] + self.flush_interval if self.flush_interval else math.inf
        for key, op, size, now, own_ttl in zip(keys, ops, sizes, times, ttls, strict=True):
            if self.write_policy == "write-back" and now >= next_flush:
                for dirty_key in self.dirty:
                    self._written(dirty_key, "writebacks")
                self.dirty.clear()
                while next_flush <= now:
                    next_flush += self.flush_interval
            if key in self.cached and now >= self.expires[key]:
                self.counts["expirations"] += 1
                self._leave(key, write_back=True)
            if op == GET:
                if key in self.cached:
                    self.counts["hits"] += 1
                    if self.reorder:
                        self.cached.move_to_end(key)
                    continue
                self.counts["misses"] += 1
                self._admit(key, size, now, own_ttl, op)
            elif op == DELETE:
                self.counts["backend_writes"] += 1
                self.version[key] = self.in_backend[key] = "deleted"
                if key in self.cached:
                    self.dirty.discard(key)
                    self._leave(key, write_back=False)
            else:
                self.version[key] = self.version.get(key, 0) + 1 if self.version.get(key) != "deleted" else 1
                if self.write_policy != "write-back":
                    self.counts["backend_writes"] += 1
                    self.in_backend[key] = self.version[key]
                if key in self.cached:
                    if self.write_policy == "write-around":
                        self.counts["invalidations"] += 1
                        self._leave(key, write_back=False)
                        continue
                    if size == self.cached[key]:
                        if self.reorder:
                            self.cached.move_to_end(key)
                        self.expires[key] = self._expiry(now, own_ttl)
                        self._mark_dirty(key)
                        continue
                    self._leave(key, write_back=False)  # re-enters at its new size
                elif self.write_policy == "write-around":
                    continue
                self._admit(key, size, now, own_ttl, op)

    def _admit(self, key, size, now, own_ttl, op) -> None:
        if size > self.capacity or (self.max_object_size is not None and size > self.max_object_size):
            self.counts["rejected"] += 1
            if op == SET and self.write_policy == "write-back":
                self.dirty.discard(key)
                self._written(key, "backend_writes_only")
            return
        while sum(self.cached.values()) + size > self.capacity:
            victim = next(iter(self.cached))
            self.counts["evictions"] += 1
            self._leave(victim, write_back=True)
        self.cached[key] = size
        self.expires[key] = self._expiry(now, own_ttl)
        if op == SET:
            self._mark_dirty(key)

    def _mark_dirty(self, key) -> None:
        if self.write_policy == "write-back":
            self.dirty.add(key)
            self.counts["dirty_peak"] = max(self.counts["dirty_peak"], len(self.dirty))

    def _leave(self, key, write_back: bool) -> None:
        if write_back and key in self.dirty:
            self.dirty.discard(key)
            self._written(key, "writebacks")
        del self.cached[key]

    def _written(self, key, why: str) -> None:
        self.counts["backend_writes"] += 1
        if why == "writebacks":
            self.counts["writebacks"] += 1
        self.in_backend[key] = self.version[key]

    def _expiry(self, now, own_ttl) -> float:
        if own_ttl > 0:
            return now + own_ttl
        return now + self.ttl if self.ttl else math.inf

    def no_write_lost(self) -> bool:
        """Every key's latest write is in the backend, or still dirty in the cache (reported at the end)."""
        return all(self.in_backend.get(key) == latest or key in self.dirty for key, latest in self.version.items())


@st.composite
def traces(draw, max_size=80):
    n = draw(st.integers(1, max_size))
    keys = draw(st.lists(st.integers(0, 9), min_size=n, max_size=n))
    ops = draw(st.lists(st.sampled_from([GET, GET, GET, SET, SET, DELETE]), min_size=n, max_size=n))
    # Each key has a usual size, sometimes written at another one.
    usual = draw(st.lists(st.integers(0, 30), min_size=10, max_size=10))
    resized = draw(st.lists(st.sampled_from([None, None, None, 5, 45]), min_size=n, max_size=n))
    sizes = [usual[key] if other is None else other for key, other in zip(keys, resized, strict=True)]
    gaps = draw(st.lists(st.sampled_from([0.0, 0.5, 1.0, 3.0]), min_size=n, max_size=n))
    ttls = draw(st.lists(st.sampled_from([0.0, 0.0, 0.0, 2.0, 6.0]), min_size=n, max_size=n))
    return keys, ops, sizes, list(np.cumsum(gaps)), ttls


settings_options = st.fixed_dictionaries({
    "write_policy": st.sampled_from(WRITE_POLICIES),
    "ttl": st.sampled_from([None, 4.0]),
    "flush_interval": st.sampled_from([None, 2.5]),
    "max_object_size": st.sampled_from([None, 20]),
})  # fmt: skip


def _trace(keys, ops, sizes, times, ttls) -> tuner.Trace:
    return tuner.Trace.from_arrays(keys, times, sizes, ops, ttls)


@settings(max_examples=300, deadline=None)
@given(traces(), st.integers(1, 90), settings_options)
def test_lru_and_fifo_equal_the_model_in_every_counter(requests, capacity, options):
    trace = _trace(*requests)
    for name, reorder in (("lru", True), ("fifo", False)):
        model = Model(capacity, reorder, **options)
        model.replay(*requests)
        result = tuner.replay(trace, name, f"{capacity}B", **options)
        measured = {counter: getattr(result, counter) for counter in model.counts}
        assert measured == model.counts, name
        assert result.dirty_at_end == len(model.dirty)
        assert model.no_write_lost()


def _replay_keeping_the_cache(trace, name, capacity, options):
    """A replay through the policy's compiled loop directly, so the final residency and dirty state are in view."""
    policy = POLICIES[name]
    n = trace.n_objects
    write_policy = kernel.WRITE_POLICIES[options["write_policy"]]
    dirty = kernel.new_dirty_list(n) if write_policy == kernel.WRITE_BACK else None
    expiring = trace.has_ttls or options["ttl"] is not None
    cache = kernel.Cache(np.full(n, -1, np.int32), np.zeros(kernel.N_TALLY, np.int64), dirty,
                         kernel.new_expiries(n, expiring))  # fmt: skip
    ttls, timeout = (trace.ttls, options["ttl"] or 0.0) if expiring else (None, None)
    requests = kernel.Requests(trace.ids, trace.sizes, trace.timestamps, np.array([len(trace)]), trace.ops, ttls)
    # The settings as ``tuner.replay`` gives them to a trace with writes: present, unused ones off,
    # but expiry only when some object can expire.
    flush = options["flush_interval"] if write_policy == kernel.WRITE_BACK else None
    largest = options["max_object_size"] or np.iinfo(np.int64).max
    run = kernel.Run(requests, np.int64(capacity), cache, timeout, write_policy, flush or 0.0,
                     np.int64(largest))  # fmt: skip
    given_input = PolicyInput(trace.ids, trace.sizes, trace.timestamps, n, capacity, 0, removes=True, ops=trace.ops,
                              ttl=options["ttl"])  # fmt: skip
    state, arrays = policy.init(given_input, policy.resolve_params({}))
    _, hits, _, _ = policy.replay(run, state, arrays)
    return int(hits[0]), cache


# Every policy with expiry on (a cache timeout) and each write policy: two compiled loops a policy
# (with and without dirty objects) keep the suite's compile time in bounds.
# Policies with an admission rule of their own, which refuse more than the loop's size limits: S3-FIFO
# (libCacheSim's rule) and OPT at byte capacities (it bypasses objects not worth their space).
OWN_ADMISSION = {"s3fifo", "opt"}
every_policy_options = st.fixed_dictionaries({
    "write_policy": st.sampled_from(WRITE_POLICIES),
    "ttl": st.just(4.0),
    "flush_interval": st.sampled_from([None, 2.5]),
    "max_object_size": st.sampled_from([None, 20]),
})  # fmt: skip


@pytest.mark.parametrize("name", ANY_CAPACITY)
@settings(max_examples=30, deadline=None)
@given(traces(), st.integers(1, 90), every_policy_options)
def test_every_policy_keeps_the_invariants_with_writes(name, requests, capacity, options):
    _, ops, sizes, _, _ = requests
    trace = _trace(*requests)
    if name in CALLS_ONLY:  # functools.lru_cache: no bytes, no writes, no timeout
        with pytest.raises(CachetuneError, match="functools-lru"):
            tuner.replay(trace, name, f"{capacity}B", **options)
        return
    result = tuner.replay(trace, name, f"{capacity}B", **options)
    gets = sum(op == GET for op in ops)
    assert result.hits + result.misses == result.requests == gets
    assert 0 <= result.used <= capacity
    hits, cache = _replay_keeping_the_cache(trace, name, capacity, options)
    held, tally = kernel.held_sizes(cache), cache.tally
    assert hits == result.hits
    # The loop's capacity in use is what is held: every victim a policy named was resident, once.
    assert tally[kernel.USED] == held[held >= 0].sum() <= capacity
    deletes, sets = sum(op == DELETE for op in ops), sum(op == SET for op in ops)
    largest = min(capacity, options["max_object_size"] or capacity)
    too_big = [size > largest for size in sizes]
    admits_sets = options["write_policy"] != "write-around"
    pairs = list(zip(too_big, ops, strict=True))
    # The loop refuses every SET too large and every GET too large that misses (one that finds a
    # cached copy of another size hits it); a policy with its own rule (S3-FIFO) refuses more.
    refused_sets = sum(big and op == SET and admits_sets for big, op in pairs)
    big_gets = sum(big and op == GET for big, op in pairs)
    assert result.rejected >= refused_sets
    if name not in OWN_ADMISSION:
        assert result.rejected <= refused_sets + big_gets
    if options["write_policy"] == "write-back":
        # No write lost: every dirty object is still cached, and each backend write is a DELETE, a
        # write-back, or a SET the cache refused (at least the SETs too large for it).
        dirty_objects = kernel.dirty_objects(cache)
        assert np.all(held[dirty_objects] >= 0)
        assert len(dirty_objects) == result.dirty_at_end <= result.dirty_peak
        assert result.writebacks + deletes + refused_sets <= result.backend_writes <= result.writebacks + deletes + sets
    else:
        assert result.backend_writes == sets + deletes and result.dirty_peak == result.writebacks == 0
    if options["write_policy"] != "write-around":
        assert result.invalidations == 0


def test_a_read_only_trace_is_unchanged_by_the_write_policy():
    trace = tuner.workloads.generate("zipf", requests=20_000, objects=2_000, seed=3)
    plain = tuner.replay(trace, "lru", "5%")
    for write_policy in WRITE_POLICIES:
        again = tuner.replay(trace, "lru", "5%", write_policy=write_policy, flush_interval=60.0)
        assert (again.hits, again.misses, again.evictions, again.backend_writes) == (
            plain.hits, plain.misses, plain.evictions, 0)  # fmt: skip


def _loop_with_sets(write_policy: str, **options) -> tuner.ReplayResult:
    """The seed's loop: 1,000 keys through 999 slots, every tenth request a SET."""
    keys = np.tile(np.arange(1_000), 20)
    ops = np.where(np.arange(len(keys)) % 10 == 9, SET, GET)
    trace = tuner.Trace.from_arrays(keys, ops=ops)
    return tuner.replay(trace, "lru", 999, write_policy=write_policy, **options)


def test_the_loop_with_sets_under_each_write_policy():
    through = _loop_with_sets("write-through")
    back = _loop_with_sets("write-back")
    around = _loop_with_sets("write-around")
    gets, sets = 18_000, 2_000
    # LRU on a loop one larger than the cache: every GET misses, whatever the SETs do.
    assert through.misses == back.misses == gets
    assert through.backend_writes == sets and through.writebacks == 0
    # Write-back writes each SET's object when it is evicted 999 requests later; the last 999
    # requests' SETs are still dirty at the end.
    assert back.writebacks + back.dirty_at_end == sets
    assert back.dirty_at_end == 100 and back.backend_writes == sets - 100
    # Write-around never admits what it writes: the SETs all go to keys ending in 9, so the GETs'
    # 900 keys fit in 999 slots and only their first reads miss.
    assert around.backend_writes == sets and around.misses == 900 and around.invalidations == 0


def test_write_around_invalidates_a_cached_copy():
    trace = tuner.Trace.from_arrays(["a", "a", "a", "a"], ops=[GET, GET, SET, GET])
    result = tuner.replay(trace, "lru", 10, write_policy="write-around")
    assert (result.hits, result.misses, result.invalidations, result.backend_writes) == (1, 2, 1, 1)


def test_write_back_coalesces_writes_between_flushes():
    keys = ["hot"] * 10
    trace = tuner.Trace.from_arrays(keys, timestamps=np.arange(10.0), ops=[SET] * 10)
    result = tuner.replay(trace, "lru", 10, write_policy="write-back", flush_interval=4.0)
    # Flushes at t = 4 and t = 8 write the one dirty object once each; the writes from t = 8 on are dirty at the end.
    assert (result.backend_writes, result.writebacks, result.dirty_at_end, result.dirty_peak) == (2, 2, 1, 1)


def test_ttls_expire_on_touch_and_a_set_without_ttl_clears_one():
    trace = tuner.Trace.from_arrays(
        ["a", "a", "a", "a", "a"], timestamps=[0, 1, 5, 6, 20], ops=[SET, GET, GET, SET, GET], ttls=[2, 0, 0, 0, 0]
    )
    result = tuner.replay(trace, "lru", 10)
    # a expires at 2: the GET at 5 misses (an expiration); the SET at 6 has no TTL, so the GET at 20 hits.
    assert (result.hits, result.misses, result.expirations) == (2, 1, 1)
    timed = tuner.replay(trace, "lru", 10, ttl=10.0)
    # With a cache timeout of 10 s the SET at 6 expires at 16: the last GET misses too.
    assert (timed.hits, timed.misses, timed.expirations) == (1, 2, 2)


def _downloads_among_pages(seed: int = 5) -> tuner.Trace:
    """Small pages (2-20 KB) read zipf-like, and a few 50 MB downloads now and then."""
    rng = np.random.default_rng(seed)
    n = 30_000
    pages = rng.zipf(1.1, n) % 4_000
    keys = np.where(rng.random(n) < 0.002, 10_000 + rng.integers(0, 6, n), pages)
    page_sizes = 2_000 + (np.arange(10_006) * 7_919) % 18_000
    sizes = np.where(keys >= 10_000, 50 * 2**20, page_sizes[keys])
    return tuner.Trace.from_arrays(keys, sizes=sizes)


@pytest.mark.parametrize("name", ["lru", "fifo", "clock", "sieve", "arc", "lfu", "2q"])
def test_large_downloads_need_admission_by_size(name):
    trace = _downloads_among_pages()
    small, large = tuner.replay(trace, name, "16MiB"), tuner.replay(trace, name, "64MiB")
    assert large.misses > small.misses  # 50 MB downloads now fit, and flush the pages each time
    limit = 8 * 2**20
    small, large = (tuner.replay(trace, name, size, max_object_size=limit) for size in ("16MiB", "64MiB"))
    assert large.miss_ratio < small.miss_ratio
    assert large.rejected > 0


def test_s3fifo_refuses_large_downloads_by_its_own_rule():
    # Objects larger than its small queue (10 % of the cache) are refused, as its authors' code does:
    # without any size limit the larger cache already misses less.
    trace = _downloads_among_pages()
    small, large = tuner.replay(trace, "s3fifo", "16MiB"), tuner.replay(trace, "s3fifo", "64MiB")
    assert large.misses < small.misses
    assert large.rejected > 0
