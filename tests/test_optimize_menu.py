"""``optimize`` with no budget: the smallest configuration avoiding ``target_gain`` of the avoidable misses, and
the menu of sizes beside it (``tuner.optimize.menu``), checked by replaying what it recommends."""

import itertools
import json

import numpy as np
import pytest

import tuner
from tests.access_logs import write_combined_log
from tests.cli import assert_one_line_error, cachetune
from tests.conftest import needs_jit
from tuner.capacity import BYTES, OBJECTS, Capacity
from tuner.errors import CachetuneError
from tuner.optimize import best_record
from tuner.optimize.menu import LEVELS, Avoidable, LruSizes
from tuner.optimize.objectives import Objective
from tuner.optimize.recommend import Judge
from tuner.optimize.traces import split_by_time
from tuner.workloads import generate

CHEAP = "lru,fifo,clock,sieve,s3fifo"
HOLDOUT = 0.3


def held_out_ends(trace: tuner.Trace, cut: int) -> tuple[int, int]:
    """GETs after ``cut`` and how many of them are an object's first request (the rule's two ends, counted
    from the ids, not from a replay)."""
    first = np.zeros(len(trace), bool)
    first[np.unique(trace.ids, return_index=True)[1]] = True
    return len(trace) - cut, int(first[cut:].sum())


def held_out_misses(trace: tuner.Trace, cut: int, policy: str, capacity: int, unit: str, params: dict) -> int:
    result = tuner.replay(trace, policy, Capacity(capacity, unit, str(capacity)), checkpoints=(cut,), **params)
    return int(result.counts_from(cut).misses)


def check_menu(trace: tuner.Trace, result, unit: str) -> dict:
    """What every no-budget run must show, re-measured by replays; returns best.json."""
    cut = split_by_time(trace, HOLDOUT).cut
    requests, cold = held_out_ends(trace, cut)
    avoidable = requests - cold
    best = best_record(result)
    assert best["rule"]["requests"] == requests and best["rule"]["cold_misses"] == cold
    rec = result.recommendation.config
    misses = held_out_misses(trace, cut, rec.policy, rec.capacity, unit, rec.params)
    assert (requests - misses) / avoidable >= result.options["target_gain"]
    assert best["rule"]["avoided"] == pytest.approx((requests - misses) / avoidable)
    menu = best["menu"]
    assert [item["level"] for item in menu] == list(LEVELS)[: len(menu)] and len(menu) >= 3
    assert all(a["capacity"] <= b["capacity"] for a, b in itertools.pairwise(menu))
    for item in menu:
        mine = held_out_misses(trace, cut, item["policy"], item["capacity"], unit, item["params"])
        assert (requests - mine) / avoidable == pytest.approx(item["avoided"]) and item["avoided"] >= item["level"]
        settings = {name: value for name, value in item["params"].items() if name == "max_object_size"}
        lru = held_out_misses(trace, cut, "lru", item["capacity"], unit, settings)
        if mine < lru:  # the menu's policy beats LRU at its size, so LRU needs more
            assert item["lru_capacity"] is None or item["lru_capacity"] > item["capacity"]
            assert item["saved_over_lru"] is None or item["saved_over_lru"] > 0
        if item["lru_capacity"] is not None:  # and LRU at that size does at least as well
            assert held_out_misses(trace, cut, "lru", item["lru_capacity"], unit, settings) <= mine
    json.dumps(best, allow_nan=False)
    return best


def test_avoidable_misses_and_gain():
    rule = Avoidable(requests=1000, cold_misses=200)
    assert rule.misses == 800 and rule.gain(1000) == 0.0 and rule.gain(200) == 1.0 and rule.gain(600) == 0.5
    assert Avoidable(10, 10).gain(10) == 1.0  # nothing to avoid: nothing left to gain


@pytest.mark.parametrize("gain", [0.0, 1.0, 1.5, -0.2])
def test_target_gain_outside_zero_one_is_refused(gain):
    with pytest.raises(CachetuneError, match="target_gain must be above 0 and below 1"):
        tuner.optimize(generate("loop", objects=20, requests=200), target_gain=gain, trials=1)


def test_lru_equivalent_size_from_stack_distances_is_the_smallest_lru_doing_as_well():
    trace = generate("zipf", requests=3_000, objects=300, seed=4)
    judge = Judge(split_by_time(trace, HOLDOUT), Objective(), OBJECTS, 0)
    sizes = LruSizes(judge, trace.n_objects, 1)
    cut = judge.split.cut
    for misses in (900, 600, 400, 300):
        size = sizes.equivalent(misses, len(trace) - cut, {})
        assert held_out_misses(trace, cut, "lru", size, OBJECTS, {}) <= misses
        assert size == 1 or held_out_misses(trace, cut, "lru", size - 1, OBJECTS, {}) > misses
        # the replayed bisection (used where LRU is no stack algorithm) lands within its precision
        bisected = sizes.equivalent(misses, len(trace) - cut, {"max_object_size": 10**9})
        assert size <= bisected <= max(size + 1, size * 1.02)


def test_a_small_study_without_budget_returns_a_monotone_menu():
    trace = generate("zipf", requests=4_000, objects=400, seed=2)
    result = tuner.optimize(trace, trials=8, seed=1, policies="lru,sieve")
    best = check_menu(trace, result, OBJECTS)
    assert result.menu is not None and result.front is not None and "menu" in result.tables
    at_target = next(item for item in best["menu"] if item["level"] == 0.9)  # the default target is a menu level
    assert (best["policy"], best["capacity"], best["params"]) == (at_target["policy"], at_target["capacity"],
                                                                  at_target["params"])  # fmt: skip
    assert best["rule"]["lru_capacity"] == at_target["lru_capacity"]


def test_a_target_between_menu_levels_lands_between_their_sizes():
    trace = generate("zipf", requests=4_000, objects=400, seed=2)
    result = tuner.optimize(trace, trials=8, seed=1, policies="lru,sieve", target_gain=0.8)
    best = check_menu(trace, result, OBJECTS)
    sizes = {item["level"]: item["capacity"] for item in best["menu"]}
    assert best["rule"]["target_gain"] == 0.8 and sizes[0.75] <= best["capacity"] <= sizes[0.9]


def test_a_budget_keeps_the_tolerance_rule():
    result = tuner.optimize(generate("loop", objects=50, requests=2_000), budget=49, trials=4, seed=1,
                            policies="lru,mru")  # fmt: skip
    assert result.menu is None and "menu" not in best_record(result) and result.front is None


@needs_jit
def test_zipf_needs_less_than_half_its_working_set_for_90_percent():
    trace = generate("zipf", requests=30_000, objects=3_000, alpha=1.0, seed=1)
    result = tuner.optimize(trace, trials=30, seed=1, policies=CHEAP)
    best = check_menu(trace, result, OBJECTS)
    assert len(best["menu"]) == len(LEVELS)
    assert best["capacity"] < trace.n_objects / 2


def large_object_log(requests: int = 20_000, seed: int = 5) -> tuner.Trace:
    """Zipf-popular pages of 1-50 KB, and 1 % of requests fetching one of five downloads of 40-69 MB."""
    rng = np.random.default_rng(seed)
    ids = generate("zipf", requests=requests, objects=2_000, seed=seed).ids.copy()
    large = rng.random(len(ids)) < 0.01
    ids[large] = 2_000 + rng.integers(0, 5, int(large.sum()))
    sizes = np.concatenate([rng.integers(1_000, 50_000, 2_000), rng.integers(40_000_000, 69_000_000, 5)])
    return tuner.Trace.from_arrays(ids, np.arange(len(ids)) * 10.0, sizes[ids])


@pytest.mark.slow
@needs_jit
def test_a_log_with_large_downloads_needs_a_small_share_of_its_bytes():
    trace = large_object_log()
    result = tuner.optimize(trace, trials=30, seed=1, policies=CHEAP)
    assert result.unit == BYTES
    best = check_menu(trace, result, BYTES)
    assert best["capacity"] < trace.working_set_bytes / 2


def test_cli_without_budget_prints_the_menu(tmp_path):
    log = tmp_path / "access.log"
    write_combined_log(log, 4_000, objects=800)
    completed = cachetune("optimize", "--trace", str(log), "--trials", "6", "--policies", "lru,sieve", "--out",
                          str(tmp_path / "run"))  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    text = " ".join(completed.stdout.replace("│", " ").split())  # the panel wraps its notes
    assert "smallest found avoiding ≥ 90% of the avoidable misses" in text
    assert "menu: the smallest size found" in text and "LRU-equivalent" in text and "≥ 50%" in text
    best = json.loads((tmp_path / "run" / "best.json").read_text())
    assert best["menu"] and best["target_gain"] == 0.9 and best["capacity_unit"] == BYTES
    assert best["rule"]["avoided"] >= 0.9 and best["capacity"] == best["menu"][2]["capacity"]  # the 90 % entry
    assert (tmp_path / "run" / "menu.csv").read_text().startswith("level,policy,capacity")
    report = (tmp_path / "run" / "report.html").read_text()
    assert 'data-chart="how-much-cache"' in report and 'data-series="menu (share of avoidable misses' in report
    assert '<section id="menu"><h2>Menu</h2>' in report


def test_cli_target_gain_outside_zero_one_is_a_one_line_error():
    completed = cachetune("optimize", "--workload", "loop", "--requests", "200", "--target-gain", "90")
    assert_one_line_error(completed, "--target-gain must be above 0 and below 1")
