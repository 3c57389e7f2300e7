"""The floor at byte capacities: the lower bound (opt-lower) no cache beats, and the offline best found (opt),
a schedule a cache could follow; both against an exhaustive optimum on tiny traces and every policy on small ones."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

import tuner
from tests.policy_checks import ANY_CAPACITY, CALLS_ONLY, replay_options
from tests.reference_models import optimal_misses
from tuner.bounds import LOWER_BOUND, floor_label, floor_names, lower_bound
from tuner.cli.printers import print_bench_table
from tuner.engine.reuse import cheapest_that_fit, interval_costs
from tuner.errors import CachetuneError
from tuner.reports import mrc_page
from tuner.trace import DELETE, GET, SET

# Every policy that takes a byte capacity in the trace's own sizes (a model of a server charges its
# product's sizes, so a bound over the trace's does not apply to it; functools.lru_cache counts calls).
BYTE_POLICIES = [name for name in ANY_CAPACITY if name not in CALLS_ONLY]

MiB = 2**20


def sized_requests(distinct: int, longest: int, largest: int):
    """Hypothesis (keys, sizes, capacity): one size per key, from 1 to ``largest`` bytes."""
    return st.tuples(
        st.lists(st.integers(0, distinct - 1), min_size=1, max_size=longest),
        st.lists(st.integers(1, largest), min_size=distinct, max_size=distinct),
        st.integers(1, 2 * largest),
    ).map(lambda drawn: (drawn[0], [drawn[1][key] for key in drawn[0]], drawn[2]))


def test_hand_counted_intervals():
    # a(2) b(3) a b a: intervals a 0→2 (2 gaps × 2 B = 4), b 1→3 (2 × 3 = 6), a 2→4 (2 × 2 = 4).
    trace = tuner.Trace.from_arrays(list("ababa"), sizes=[2, 3, 2, 3, 2])
    assert interval_costs(trace.ids, trace.sizes, trace.n_objects, 10).tolist() == [4, 4, 6]
    # 3 B over 4 gaps is a budget of 12: the two 4s fit, the 6 does not; the first request of each
    # object is a miss, so at best 2 misses of 5, plus the b that does not fit.
    assert cheapest_that_fit(interval_costs(trace.ids, trace.sizes, trace.n_objects, 3), 3, 5) == 2
    assert lower_bound(trace, "3B").misses == 3
    # b (3 B) cannot fit a 2 B cache at all: its interval is left out however cheap the budget makes it.
    assert interval_costs(trace.ids, trace.sizes, trace.n_objects, 2).tolist() == [4, 4]
    assert lower_bound(trace, "100B").misses == 2  # only the two cold misses


@settings(max_examples=150, deadline=None)
@given(requests=sized_requests(5, 12, 6))
def test_lower_bound_and_offline_best_bracket_the_exhaustive_optimum(requests):
    keys, sizes, capacity = requests
    trace = tuner.Trace.from_arrays(keys, sizes=sizes)
    best = optimal_misses(keys, sizes, capacity)
    assert lower_bound(trace, f"{capacity}B").misses <= best
    assert tuner.replay(trace, "opt", f"{capacity}B").misses >= best


@settings(max_examples=20, deadline=None)
@given(requests=sized_requests(24, 200, 500), seed=st.integers(0, 2**16))
def test_no_policy_misses_less_than_the_lower_bound(requests, seed):
    keys, sizes, _ = requests
    trace = tuner.Trace.from_arrays(keys, sizes=sizes)
    for capacity in (300, 1_000, 3_000):
        bound = lower_bound(trace, f"{capacity}B").misses
        for name in BYTE_POLICIES:
            misses = tuner.replay(trace, name, f"{capacity}B", seed=seed, **replay_options(name)).misses
            assert misses >= bound, (name, capacity)


@settings(max_examples=40, deadline=None)
@given(requests=sized_requests(24, 200, 500))
def test_offline_best_is_achievable_and_above_the_lower_bound(requests):
    keys, sizes, _ = requests
    trace = tuner.Trace.from_arrays(keys, sizes=sizes)
    for capacity in (300, 1_000, 3_000):
        result = tuner.replay(trace, "opt", f"{capacity}B")
        assert result.misses >= lower_bound(trace, f"{capacity}B").misses
        assert result.hits + result.misses == len(keys)
        assert result.used <= capacity
        assert result.misses >= trace.n_objects


@settings(max_examples=20, deadline=None)
@given(
    requests=st.lists(
        st.tuples(st.integers(0, 15), st.sampled_from([GET] * 6 + [SET, DELETE])), min_size=20, max_size=150
    ),
    object_sizes=st.lists(st.integers(1, 400), min_size=16, max_size=16),
    write_policy=st.sampled_from(["write-through", "write-back", "write-around"]),
)
def test_with_writes_no_policy_misses_less_than_the_lower_bound(requests, object_sizes, write_policy):
    keys = [key for key, _ in requests]
    trace = tuner.Trace.from_arrays(keys, sizes=[object_sizes[k] for k in keys], ops=[op for _, op in requests])
    for capacity in (400, 1_500):
        bound = lower_bound(trace, f"{capacity}B", write_policy=write_policy)
        assert bound.requests == sum(op == GET for _, op in requests)
        for name in BYTE_POLICIES:
            result = tuner.replay(trace, name, f"{capacity}B", write_policy=write_policy, **replay_options(name))
            assert result.misses >= bound.misses, (name, capacity)


def test_a_delete_ends_a_reuse_interval():
    # GET a, DELETE a, GET a: the second GET is a miss whatever the cache; a write-through SET keeps a cached.
    deleted = tuner.Trace.from_arrays(list("aaa"), sizes=[5] * 3, ops=[GET, DELETE, GET])
    assert lower_bound(deleted, "1KiB").misses == 2
    written = tuner.Trace.from_arrays(list("aaa"), sizes=[5] * 3, ops=[GET, SET, GET])
    assert lower_bound(written, "1KiB").misses == 1
    assert lower_bound(written, "1KiB", write_policy="write-around").misses == 2
    assert tuner.replay(written, "opt", "1KiB").misses == 1


def large_object_log(seed: int = 3) -> tuner.Trace:
    """A web server's day in miniature: 20k requests for 400 small pages (1–60 KB, Zipf) and, now and
    then, one of four downloads of 40–69 MB, each fetched again soon after by the next client."""
    rng = np.random.default_rng(seed)
    page_sizes = np.clip(rng.lognormal(9.0, 1.0, 400), 1_000, 60_000).astype(np.int64)
    keys = (rng.zipf(1.1, 20_000) - 1) % 400
    sizes = page_sizes[keys]
    download_sizes = np.array([40, 52, 61, 69]) * 1_000_000
    at = np.sort(rng.choice(20_000, 240, replace=False))
    downloads = rng.integers(0, 4, 240)
    keys, sizes = keys.astype(object), sizes.copy()
    keys[at] = [f"download{d}" for d in downloads]
    sizes[at] = download_sizes[downloads]
    return tuner.Trace.from_arrays(keys.tolist(), sizes=sizes)


def test_offline_best_does_not_miss_more_in_a_larger_cache_on_a_large_object_log():
    trace = large_object_log()
    capacities = [f"{mib}MiB" for mib in (16, 32, 64, 128)]
    best = [tuner.replay(trace, "opt", capacity).misses for capacity in capacities]
    bounds = [lower_bound(trace, capacity).misses for capacity in capacities]
    assert best == sorted(best, reverse=True)
    assert bounds == sorted(bounds, reverse=True)
    assert all(low <= high for low, high in zip(bounds, best, strict=True))
    # LRU, admitting every download, misses more at 64 MiB than at 16 MiB: the trap the floor must not fall in.
    lru = [tuner.replay(trace, "lru", capacity).misses for capacity in capacities]
    assert lru[2] > lru[0]


def test_floor_rows_and_labels_by_unit():
    assert floor_names("objects") == ("opt",)
    assert floor_names("bytes") == (LOWER_BOUND, "opt")
    assert floor_label("opt", "objects") == "optimum (Belady)"
    assert [floor_label(name, "bytes") for name in floor_names("bytes")] == ["lower bound", "offline best found"]


def test_a_bad_write_policy_is_one_line():
    with pytest.raises(CachetuneError, match="write_policy"):
        lower_bound(tuner.Trace.from_arrays([1, 2]), 1, write_policy="write-sideways")


@pytest.fixture(scope="module")
def mixed_trace():
    rng = np.random.default_rng(5)
    keys = rng.zipf(1.2, 3_000) % 300
    return tuner.Trace.from_arrays(keys, sizes=(keys * 7919 % 900 + 100))


def test_bench_names_both_floors_at_byte_capacities_and_measures_gaps_to_the_lower_bound(mixed_trace):
    table = tuner.bench(mixed_trace, "lru,fifo,opt", ["20KiB", 30]).table
    by_bytes, by_objects = table[table["size_unit"] == "bytes"], table[table["size_unit"] == "objects"]
    assert sorted(by_bytes["policy"]) == ["fifo", "lru", "opt", "opt-lower"]
    assert sorted(by_objects["policy"]) == ["fifo", "lru", "opt"]
    bound = lower_bound(mixed_trace, "20KiB")
    lower_row = by_bytes[by_bytes["policy"] == "opt-lower"].iloc[0]
    assert (lower_row.misses, lower_row.hits) == (bound.misses, bound.hits)
    assert (by_bytes["opt_misses"] == bound.misses).all()
    assert (by_bytes["gap_to_opt"] == by_bytes["misses"] / bound.misses - 1).all()
    assert (by_bytes["misses"] >= bound.misses).all()
    assert (by_objects["opt_misses"] == tuner.replay(mixed_trace, "opt", 30).misses).all()
    console = Console(record=True, width=200)
    print_bench_table(table, console, "mixed")
    names = [line.split("│")[2].strip() for line in console.export_text().splitlines() if line.count("│") > 3]
    assert {"opt-lower (lower bound)", "opt (offline best found)", "opt"} <= set(names)
    assert "opt (optimum (Belady))" not in names  # at object capacities opt is the optimum, plainly


def test_bench_without_opt_still_measures_byte_gaps_against_the_lower_bound(mixed_trace):
    table = tuner.bench(mixed_trace, "lru", ["20KiB"]).table
    assert list(table["policy"]) == ["lru"]
    assert table["opt_misses"].iloc[0] == lower_bound(mixed_trace, "20KiB").misses


def test_curves_at_byte_sizes_draw_the_lower_bound_beside_opt(mixed_trace):
    curves = tuner.miss_ratio_curves(mixed_trace, "lru,fifo", ["10KiB", "40KiB"]).table
    assert list(dict.fromkeys(curves["policy"])) == ["lru", "fifo", "opt", "opt-lower"]
    wide = curves.pivot_table(index="cache_size", columns="policy", values="miss_ratio")
    assert (wide["opt-lower"] <= wide["opt"]).all() and (wide["opt"] <= wide[["lru", "fifo"]].min(axis=1)).all()
    assert set(curves.loc[curves["policy"] == "opt-lower", "method"]) == {"bound"}
    html = mrc_page._curve(curves, "bytes", list(dict.fromkeys(curves["policy"])))
    assert "opt-lower = lower bound" in html and "opt = offline best found" in html
    objects = tuner.miss_ratio_curves(mixed_trace, "lru,fifo", [10, 40]).table
    assert "opt-lower" not in set(objects["policy"])
