"""W-TinyLFU: a hand-traced duel, libCacheSim's flow as a plain-Python model, and the
counts of expected.csv (libCacheSim's WTinyLFU)."""

import math
from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tuner
from tests import policy_checks as checks
from tests.conftest import expected_rows, load_text_trace, needs_jit

# expected.csv rows whose miss counts this policy reproduces exactly (out of 189 where
# libCacheSim's window is not empty); the others differ by the sketch's hash input.
EXACT_ROWS = 54

_MASK64 = (1 << 64) - 1
_P1, _P2, _P3 = 0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9
_P4, _P5 = 0x85EBCA77C2B2AE63, 0x27D4EB2F165667C5


def _rotl(value: int, bits: int) -> int:
    return ((value << bits) | (value >> (64 - bits))) & _MASK64


def xxh64_word(value: int, seed: int) -> int:
    """XXH64 of one 8-byte little-endian word, straight from the specification."""
    digest = (seed + _P5 + 8) & _MASK64
    digest ^= _rotl(value * _P2 & _MASK64, 31) * _P1 & _MASK64
    digest = (_rotl(digest, 27) * _P1 + _P4) & _MASK64
    digest ^= digest >> 33
    digest = digest * _P2 & _MASK64
    digest ^= digest >> 29
    digest = digest * _P3 & _MASK64
    return digest ^ (digest >> 32)


class ReferenceSketch:
    """libCacheSim's counting Bloom filter for ``entries`` at 0.1 % error: 10 hashes."""

    def __init__(self, entries: int):
        per_entry = -math.log(0.001) / 0.480453013918201  # libCacheSim's constants for ln(2)**2, ln(2)
        self.hashes = math.ceil(0.693147180559945 * per_entry)
        n_counters = math.ceil(per_entry * entries)
        self.counters = [0] * (n_counters if n_counters >= self.hashes else 2 * self.hashes)

    def _slots(self, obj: int) -> list[int]:
        first = xxh64_word(obj + 1, 0x12345678) & 0xFFFFFFFF
        step = xxh64_word(obj + 1, 0x12344321) & 0xFFFFFFFF
        return [((first + k * step) & 0xFFFFFFFF) % len(self.counters) for k in range(self.hashes)]

    def count(self, obj: int) -> None:
        for slot in self._slots(obj):
            self.counters[slot] += 1

    def estimate(self, obj: int) -> int:
        return min(self.counters[slot] for slot in self._slots(obj))

    def halve(self) -> None:
        self.counters = [count >> 1 for count in self.counters]


class ReferenceWindowTinyLfu:
    """libCacheSim's WTinyLFU (unit sizes) written plainly; an object a hit evicts
    leaves at once, so a request for it is a miss."""

    def __init__(self, capacity: int, window_ratio=0.01, protected_ratio=0.8, sample_factor=32):
        self.capacity = capacity
        self.max_main = capacity - max(int(capacity * window_ratio), 1)
        self.max_segment = [int(round(1 - protected_ratio, 12) * self.max_main), int(protected_ratio * self.max_main)]
        self.window = OrderedDict()  # LRU first
        self.segments = [OrderedDict(), OrderedDict()]  # probation, protected
        self.sketch = ReferenceSketch(self.max_main)
        self.halve_after = sample_factor * self.max_main
        self.main_hits = 0
        self.evicted_by_hits = 0

    def _main_size(self) -> int:
        return len(self.segments[0]) + len(self.segments[1])

    def _main_victim(self) -> tuple[int, int]:
        segment = 0 if self.segments[0] else 1
        return segment, next(iter(self.segments[segment]))

    def _enter_main(self, obj: int) -> None:
        room = [len(self.segments[s]) < self.max_segment[s] for s in (0, 1)]
        self.segments[1 if not room[0] and room[1] else 0][obj] = True

    def _main_hit(self, obj: int) -> None:
        if obj in self.segments[1]:
            self.segments[1].move_to_end(obj)
        else:
            del self.segments[0][obj]
            self.segments[1][obj] = True
            while len(self.segments[1]) > self.max_segment[1]:
                demoted, _ = self.segments[1].popitem(last=False)
                self.segments[0][demoted] = True
                while len(self.segments[0]) > self.max_segment[0]:
                    self.segments[0].popitem(last=False)
                    self.evicted_by_hits += 1
        self.sketch.count(obj)
        self.main_hits += 1
        if self.main_hits >= self.halve_after:
            self.main_hits = 0
            self.sketch.halve()

    def _evict(self) -> None:
        while self.window:
            candidate = next(iter(self.window))
            del self.window[candidate]
            if self._main_size() < self.max_main:
                self._enter_main(candidate)
                self.sketch.count(candidate)
                continue
            segment, victim = self._main_victim() if self._main_size() else (0, None)
            if victim is not None and self.sketch.estimate(candidate) > self.sketch.estimate(victim):
                del self.segments[segment][victim]
                self._enter_main(candidate)
            self.sketch.count(candidate)
            return
        segment, victim = self._main_victim()
        del self.segments[segment][victim]

    def access(self, obj: int) -> bool:
        if obj in self.window:
            self.window.move_to_end(obj)
            return True
        if obj in self.segments[0] or obj in self.segments[1]:
            self._main_hit(obj)
            return True
        if len(self.window) + self._main_size() >= self.capacity:
            self._evict()
        self.window[obj] = True
        self.sketch.count(obj)
        return False


def test_hand_traced_admission_duels():
    # c = 6: window 1, main 5 (probation 1, protected 4). Objects 1..6 fill the cache (the
    # window's share is not enforced on insertion). 7 needs room: 1..5 move into main (1 to
    # probation, 2..5 to protected as probation is full), each counted again; then 6 (counted
    # once) duels probation's 1 (twice), loses and is evicted: 6 misses again. Window hits
    # are not counted, so hitting 6 there would not have helped it.
    assert tuner.replay(tuner.Trace.from_arrays([1, 2, 3, 4, 5, 6, 6, 7, 6]), "wtinylfu", 6).misses == 8
    # Continued: 6 re-entering makes 7 the candidate (2 counts), which loses to 1; then 6
    # (request, duel, request: 3) beats 1 (2) for 8's room, so 1 misses and 6 hits in main.
    assert checks.hit_miss_string([1, 2, 3, 4, 5, 6, 7, 6, 8, 1, 6], "wtinylfu", 6) == "MMMMMMMMMMH"


@needs_jit
def test_same_misses_as_libcachesim_0_3_5(tmp_path):
    """The installed libCacheSim bindings on a zipf trace with ids written in order of first
    appearance from 1 (the sketch's hash input here); at 1,013 the segments' shares (202 + 809)
    leave main one over them, so hits that demote past probation's share evict there, in both."""
    lcs = pytest.importorskip("libcachesim")
    rng = np.random.default_rng(11)
    trace = tuner.Trace.from_arrays((rng.zipf(1.1, 50_000) % 5_000).astype(np.int64))
    records = np.zeros(len(trace), np.dtype([("t", "<u4"), ("id", "<u8"), ("sz", "<u4"), ("nxt", "<i8")]))
    records["t"], records["id"], records["sz"], records["nxt"] = np.arange(len(trace)), trace.ids + 1, 1, -1
    path = tmp_path / "zipf.oracleGeneral.bin"
    records.tofile(path)
    for capacity in (101, 606, 1013, 2020):
        cache = lcs.WTinyLFU(capacity, hashpower=14)
        miss_ratio, _ = cache.process_trace(lcs.TraceReader(str(path), lcs.TraceType.ORACLE_GENERAL_TRACE))
        assert tuner.replay(trace, "wtinylfu", capacity).misses == round(miss_ratio * len(trace))


@settings(max_examples=150, deadline=None)
@given(
    keys=checks.key_lists(31, 400),
    capacity=st.integers(1, 25),
    window_ratio=st.sampled_from([0.01, 0.2, 0.5]),
    protected_ratio=st.sampled_from([0.0, 0.5, 0.8, 1.0]),
    sample_factor=st.sampled_from([1, 2, 32]),
)
def test_matches_libcachesim_flow_at_object_capacity(keys, capacity, window_ratio, protected_ratio, sample_factor):
    trace = tuner.Trace.from_arrays(keys)
    params = {"window_ratio": window_ratio, "protected_ratio": protected_ratio, "sample_factor": sample_factor}
    model = ReferenceWindowTinyLfu(capacity, **params)
    model_misses = sum(not model.access(int(obj)) for obj in trace.ids)
    assert tuner.replay(trace, "wtinylfu", capacity, **params).misses == model_misses


@pytest.mark.parametrize(("capacity", "evicts_on_hits"), [(101, False), (107, True)])
def test_long_zipf_trace_matches_the_model_exactly(capacity, evicts_on_hits):
    # At 101 main's 100 splits 20 + 80 and no hit evicts; at 107 the segments (21 + 84) leave main
    # one over their shares, so hits that demote past probation's share evict, as in libCacheSim.
    rng = np.random.default_rng(5)
    keys = (rng.zipf(1.2, 20_000) % 700).astype(np.int64)
    trace = tuner.Trace.from_arrays(keys)
    model = ReferenceWindowTinyLfu(capacity)
    expected = sum(not model.access(int(obj)) for obj in trace.ids)
    assert (model.evicted_by_hits > 0) == evicts_on_hits
    assert tuner.replay(trace, "wtinylfu", capacity).misses == expected


def test_small_caches_are_not_degenerate():
    # libCacheSim's W-TinyLFU misses every request below 100 objects (an empty 1 % window).
    trace = load_text_trace("lirs/multi2.trace.gz")
    result = tuner.replay(trace, "wtinylfu", 50)
    assert result.miss_ratio < tuner.replay(trace, "lru", 50).miss_ratio < 1.0


@needs_jit
def test_expected_csv_libcachesim_wtinylfu():
    """Every WTinyLFU row of expected.csv; rows where libCacheSim's window is empty (it
    misses everything there) are left out of the mean, as this policy keeps a window."""
    rows = expected_rows("WTinyLFU")
    traces = {relative: checks.load_row_trace(relative) for relative in {row["trace_file"] for row in rows}}
    differences, exact = [], 0
    for row in rows:
        if float(row["expected_miss_ratio"]) >= 0.999:
            continue
        misses = tuner.replay(traces[row["trace_file"]], "wtinylfu", int(row["cache_size"])).misses
        differences.append(abs(misses - int(row["expected_misses"])) / int(row["n_req"]))
        exact += misses == int(row["expected_misses"])
    assert len(differences) == 189
    assert np.mean(differences) <= 0.0030  # measured 0.00293
    assert exact >= EXACT_ROWS


@needs_jit
@pytest.mark.parametrize(
    ("capacity", "expected_misses"),
    [
        (200, 7173),
        (400, 5384),
        pytest.param(
            600,
            3709,
            marks=pytest.mark.xfail(
                strict=True,
                # A single-implementation row: libCacheSim 0.3.5 (the libcachesim package, hashpower 12)
                # gives 2,565 on this trace and size, and so does this policy.
                reason="expected.csv says 3,709; libCacheSim 0.3.5 itself gives 2,565 here, as does this policy",
            ),
        ),
    ],
)
def test_backf_rows_where_the_cache_must_choose(capacity, expected_misses):
    # expected.csv's WTinyLFU rows on backf below its 751 objects (from 800 on everything fits and
    # every policy misses 751). Within 0.01 of the requests (the rows' mean above is held to 0.0030); measured
    # 0.0046 and 0.0004. The nearest other policies are 0.018 (S3FIFO at 200) and 0.059 (FIFO at 400) away.
    trace = load_text_trace("lirs/backf.trace.gz")
    misses = tuner.replay(trace, "wtinylfu", capacity).misses
    assert abs(misses - expected_misses) / len(trace) < 0.01
