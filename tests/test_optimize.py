"""``tuner.optimize``: search space, scoring, trace cuts, the tolerance rule and whole studies."""

import dataclasses
import io
import itertools
import json
import math

import numpy as np
import optuna
import pytest
from rich.console import Console

import tuner
from tests.cli import assert_one_line_error, cachetune
from tests.conftest import needs_jit
from tuner.capacity import BYTES, OBJECTS, Capacity
from tuner.cli.printers import print_optimize
from tuner.engine.replay import Counts
from tuner.errors import CachetuneError
from tuner.mrc.miniature import MiniatureSimulator
from tuner.mrc.sampling import sample_mask
from tuner.optimize import best_record
from tuner.optimize.objectives import Objective
from tuner.optimize.recommend import Judge, Scored, pareto_front, within_tolerance
from tuner.optimize.run import SCREENING_LEVELS, candidate_policies, resolve_budget, screening_levels
from tuner.optimize.space import Config, SearchSpace, config_of
from tuner.optimize.traces import prefix, split_by_time
from tuner.policies import PolicyInput
from tuner.workloads import generate

ANTI_LRU = {"mru", "random", "random-age"}


def small_loop(objects: int = 50, requests: int = 5_000) -> tuner.Trace:
    return generate("loop", objects=objects, requests=requests)


def test_every_registered_online_policy_is_a_candidate_and_opt_is_not():
    names = [policy.name for policy in candidate_policies(None)]
    textbook = {name for name, policy in tuner.POLICIES.items() if policy.target is None}
    assert set(names) == textbook - {"opt"}  # models of real caches run only when named
    with pytest.raises(CachetuneError, match="unknown policy"):
        candidate_policies("lru,nosuch")
    with pytest.raises(CachetuneError, match="must name an online policy: opt sees the future"):
        candidate_policies("opt")


def test_the_space_asks_each_policy_for_its_own_declared_parameters():
    policies = candidate_policies(None)
    space = SearchSpace.build(policies, Capacity(1000, OBJECTS, "1000"), span_seconds=500.0, smallest_object=1)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3))
    seen = {}
    for _ in range(80):
        trial = study.ask()
        config = space.suggest(trial)
        study.tell(trial, 0.0)
        assert 1 <= config.capacity <= 1000
        declared = {param.name: param for param in tuner.get_policy(config.policy).params}
        assert set(config.params) == set(declared)
        for name, value in config.params.items():
            low, high = declared[name].search_range(500.0)
            assert low <= value <= high
        assert config_of(trial.params) == config
        seen[config.policy] = config
    assert len(seen) > len(policies) // 2
    assert tuner.replay(small_loop(), seen["random-age"].policy, 10, **seen["random-age"].params).requests == 5_000


def test_screening_tries_every_policy_at_the_budget_first_then_smaller_within_a_share_of_the_trials():
    space = SearchSpace.build(candidate_policies(None), Capacity(10_000, OBJECTS, "10000"), 500.0, 1)
    assert space.screening_capacities(3) == [10_000, 3_162, 1_000]  # upper half of the log range 10 .. 10 000
    assert space.screening_capacities(1) == [10_000]
    lirs = tuner.get_policy("lirs")
    chosen = space.at_defaults(lirs, 3_162)
    assert config_of(chosen) == Config("lirs", 3_162, {param.name: param.default for param in lirs.params})
    assert screening_levels(13, 30) == 1  # too few trials: only the budget anchors
    assert screening_levels(13, 184) == 3
    assert screening_levels(13, None) == SCREENING_LEVELS


def test_budget_defaults_to_the_working_set_in_objects_or_bytes():
    assert resolve_budget(small_loop(), None) == Capacity(50, OBJECTS, "50 objects (working set)")
    sized = tuner.Trace.from_arrays(["a", "b", "a", "c"], sizes=[100, 20, 100, 7])
    assert resolve_budget(sized, None).amount == 127 and resolve_budget(sized, None).unit == BYTES
    assert resolve_budget(sized, "50%").amount == 2
    with pytest.raises(CachetuneError, match="below one object"):
        resolve_budget(sized, "5B")
    with pytest.raises(CachetuneError, match="budget"):
        resolve_budget(sized, "0")


def test_a_trace_of_zero_byte_objects_needs_a_budget_in_objects():
    weightless = tuner.Trace.from_arrays(["a", "b", "a", "c"], sizes=[0, 0, 0, 0])
    for budget in (None, "1KiB"):
        with pytest.raises(CachetuneError, match="size 0 bytes: give budget in objects"):
            resolve_budget(weightless, budget)
    assert (resolve_budget(weightless, "2").amount, resolve_budget(weightless, "2").unit) == (2, OBJECTS)


def test_cli_optimize_on_zero_byte_objects_is_a_one_line_error(tmp_path):
    trace = tmp_path / "weightless.csv"
    trace.write_text("timestamp,key,size\n" + "".join(f"{second},k{second % 7},0\n" for second in range(50)))
    completed = cachetune("optimize", "--trace", str(trace), "--trials", "2", "--out", str(tmp_path / "run"))
    assert_one_line_error(completed, "give --budget in objects")


def test_objectives_score_misses_or_cost():
    # 250 of 1,000 requests missed in a quarter of an hour; 500 of 1,000 bytes.
    measured = Counts(requests=1000, misses=250, bytes_requested=1000, bytes_missed=500, span_seconds=900.0)
    assert Objective().score(measured, 10, OBJECTS) == 1000.0
    assert Objective("miss-ratio").score(measured, 10, OBJECTS) == 0.25
    assert Objective("byte-miss-ratio").score(measured, 10, OBJECTS) == 0.5
    cost = Objective("cost", miss_cost=0.01, memory_cost=2.0)
    assert cost.score(measured, 3 * 10**9, BYTES) == pytest.approx(10.0 + 6.0)
    per_object = Objective("cost", miss_cost=0.0, memory_cost=1.0, bytes_per_object=1e6)
    assert per_object.score(measured, 2000, OBJECTS) == pytest.approx(2.0)
    with pytest.raises(CachetuneError, match="objective must be one of"):
        Objective("hits")


def test_a_prefix_replays_exactly_like_the_start_of_the_whole_trace():
    trace = generate("zipf", requests=3_000, objects=400, seed=4)
    part = prefix(trace, 1_000)
    assert part.n_objects == len(np.unique(trace.ids[:1000]))
    cut = float(trace.timestamps[1_000] - trace.timestamps[0])  # one window ends where the prefix does
    assert trace.timestamps[999] < trace.timestamps[1_000]
    first_keys = trace.keys[trace.ids[:1_000]]  # a trace built afresh from the first 1,000 requests' keys
    rebuilt = tuner.Trace.from_arrays(first_keys, trace.timestamps[:1_000], trace.sizes[:1_000])
    for name in ("lru", "random", "arc"):
        whole = tuner.replay(trace, name, 40, seed=2, window_seconds=cut, checkpoints=(1_000,))
        first = tuner.replay(part, name, 40, seed=2)
        again = tuner.replay(rebuilt, name, 40, seed=2)
        assert first.misses == again.misses == whole.window_misses[0] == whole.counts_before(1_000).misses


def test_holdout_splits_by_time():
    trace = small_loop(requests=1_000)
    split = split_by_time(trace, 0.3)
    cut = trace.timestamps[0] + 0.7 * trace.span_seconds
    assert split.tuning.timestamps[-1] < cut <= trace.timestamps[len(split.tuning)]
    assert split.cut == len(split.tuning)
    assert split.whole is trace and split.holdout_hours > 0
    assert split_by_time(trace, 0.0).tuning is trace
    with pytest.raises(CachetuneError, match="holdout"):
        split_by_time(trace, 1.0)


def test_holdout_misses_are_those_after_the_cut_in_one_replay_of_the_whole_trace():
    # W-TinyLFU sizes its sketch from the mean request size of the trace it is given, and later objects are
    # bigger here, so the tuning part alone replays differently from the start of the whole trace.
    base = generate("zipf", requests=6_000, objects=1_000, seed=5)
    trace = tuner.Trace.from_arrays(base.ids, base.timestamps, 100 + 10 * base.ids.astype(np.int64))
    split = split_by_time(trace, 0.3)
    config, capacity = Config("wtinylfu", 20_000), Capacity(20_000, BYTES, "20000 B")
    wtinylfu = tuner.get_policy("wtinylfu")
    whole_input = PolicyInput(trace.ids, trace.sizes, trace.timestamps, trace.n_objects, capacity.amount, 0)
    set_up_for_the_whole = dataclasses.replace(wtinylfu, init=lambda _, params: wtinylfu.init(whole_input, params))
    whole = tuner.replay(trace, wtinylfu, capacity)
    before = tuner.replay(split.tuning, set_up_for_the_whole, capacity)
    before_cut = before.misses
    tuning_alone = tuner.replay(split.tuning, wtinylfu, capacity).misses
    assert tuning_alone != before_cut  # so subtracting the tuning part's own replay would be wrong
    holdout = Judge(split, Objective(), BYTES, seed=0).figures(config).holdout
    held_out_requests = len(trace) - len(split.tuning)
    assert holdout.miss_ratio * held_out_requests == pytest.approx(whole.misses - before_cut, abs=1e-6)
    assert holdout.misses_per_hour == pytest.approx((whole.misses - before_cut) / split.holdout_hours)
    held_out_bytes = int(trace.sizes[len(split.tuning) :].sum())
    bytes_missed_after_cut = whole.bytes_missed - before.bytes_missed
    assert holdout.byte_miss_ratio == pytest.approx(bytes_missed_after_cut / held_out_bytes, abs=1e-12)


def test_spatial_sampling_keeps_whole_key_histories_at_about_the_rate():
    trace = generate("zipf", requests=50_000, objects=20_000, seed=2)
    sample, rate = MiniatureSimulator(trace, 0.1).sample(0.1)
    assert 0.08 < sample.n_objects / trace.n_objects < 0.12 and rate == pytest.approx(0.1, abs=1e-6)
    kept_keys = trace.keys[sample.keys]
    original = trace.keys[trace.ids]
    assert np.array_equal(kept_keys[sample.ids], original[np.isin(original, kept_keys)])
    with pytest.raises(CachetuneError, match=r"sample_rate must be in \(0, 1\], got 0") as refused:
        MiniatureSimulator(trace, 0.0)
    assert refused.value.parameter == "sample_rate"


def test_sampled_trials_follow_the_one_miniature_rule():
    # At rate 0.1 a 500-object cache would hold 50 sampled objects: the rate is raised until it holds 100.
    trace = generate("zipf", requests=20_000, objects=5_000, seed=2)
    miniatures = MiniatureSimulator(trace, 0.1, seed=0)
    small = miniatures.miniature(Capacity(500, OBJECTS, "500"))
    assert small.rate == pytest.approx(0.2, abs=1e-6) and small.capacity.amount == 100
    large = miniatures.miniature(Capacity(4_000, OBJECTS, "4000"))
    assert large.rate == pytest.approx(0.1, abs=1e-6) and large.capacity.amount == 400
    assert miniatures.miniature(Capacity(50, OBJECTS, "50")).trace is trace  # 100 objects would need rate 2


def test_spatial_sampling_is_the_projects_one_sampler_and_takes_the_seed():
    trace = generate("zipf", requests=5_000, objects=2_000, seed=2)
    for seed in (0, 7):
        sample, _ = MiniatureSimulator(trace, 0.2, seed).sample(0.2)
        assert np.array_equal(sample.timestamps, trace.timestamps[sample_mask(trace, 0.2, seed)])
    first, _ = MiniatureSimulator(trace, 0.2, 0).sample(0.2)
    other, _ = MiniatureSimulator(trace, 0.2, 7).sample(0.2)
    assert not np.array_equal(first.keys, other.keys)


def test_recommendation_is_the_smallest_within_tolerance():
    scored = [Scored(Config("lru", 100), 100.0, 0), Scored(Config("mru", 60), 100.9, 1),
              Scored(Config("fifo", 40), 102.0, 2), Scored(Config("lfu", 60), 100.5, 3)]  # fmt: skip
    assert within_tolerance(scored, 0.01).config == Config("lfu", 60)
    assert within_tolerance(scored, 0.0).config == Config("lru", 100)
    assert within_tolerance(scored, 0.05).config == Config("fifo", 40)
    assert [item.trial for item in pareto_front(scored)] == [2, 3, 0]


def test_a_small_study_recommends_and_reports_holdout_figures():
    result = tuner.optimize(small_loop(), budget=49, trials=12, seed=1, policies="lru,mru,random")
    best = best_record(result)
    assert best["policy"] in ANTI_LRU and best["capacity"] <= 49
    assert best["holdout_misses_per_hour"] is not None and best["lru"]["holdout_misses_per_hour"] is not None
    assert best["misses_per_hour"] < best["lru"]["misses_per_hour"]
    assert best["opt"]["misses_per_hour"] <= best["misses_per_hour"]
    assert tuner.replay(small_loop(), best["policy"], best["capacity"], **best["params"]).misses > 0
    assert result.counts["this_run"] == 12 and len(result.trials) == 12
    json.dumps(best, allow_nan=False)  # plain JSON: no NaN, no objects JSON cannot hold


def test_same_seed_same_trials():
    runs = [tuner.optimize(small_loop(), trials=15, seed=7, holdout=0.0).trials for _ in range(2)]
    columns = [column for column in runs[0].columns if column != "seconds"]
    assert runs[0][columns].equals(runs[1][columns])


def test_resuming_a_study_adds_trials(tmp_path):
    options = {"budget": 40, "seed": 3, "out": tmp_path, "study_name": "resume"}
    first = tuner.optimize(small_loop(), trials=10, **options)
    second = tuner.optimize(small_loop(), trials=10, **options)
    assert first.counts["trials"] == 10 and second.counts["trials"] == 20
    assert (tmp_path / "study.journal").exists()


def test_a_study_made_for_another_search_is_refused(tmp_path):
    tuner.optimize(small_loop(), trials=3, out=tmp_path, policies="lru,mru")
    with pytest.raises(CachetuneError, match="another search space"):
        tuner.optimize(small_loop(), trials=3, out=tmp_path, policies="lru,fifo")


def test_unreachable_storage_is_a_one_line_error():
    with pytest.raises(CachetuneError, match="cannot open storage"):
        tuner.optimize(small_loop(), trials=1, storage="postgresql://nobody:secret@127.0.0.1:1/none")


def test_pareto_front_trades_capacity_for_misses():
    result = tuner.optimize(small_loop(), pareto=True, trials=15, seed=2, policies="lru,mru")
    front = result.front
    assert front and all(a.config.capacity < b.config.capacity for a, b in itertools.pairwise(front))
    assert all(a.value > b.value for a, b in itertools.pairwise(front))
    assert "pareto_front" in best_record(result)


def test_cost_objective_needs_sizes_and_trades_size_for_misses():
    with pytest.raises(CachetuneError, match="sizes"):
        tuner.optimize(small_loop(), objective="cost", trials=1)
    rng = np.random.default_rng(1)
    keys = generate("zipf", requests=4_000, objects=300, seed=1).ids
    sizes = rng.integers(1_000, 100_000, 300)[keys]
    trace = tuner.Trace.from_arrays(keys, np.arange(len(keys)) * 0.5, sizes)
    result = tuner.optimize(trace, objective="cost", miss_cost=0.001, memory_cost=1e5, trials=15, seed=1,
                            policies="lru,fifo")  # fmt: skip
    best = best_record(result)
    assert best["capacity_unit"] == BYTES and best["capacity"] < trace.working_set_bytes
    assert not math.isnan(best["objective_value"])


@needs_jit
def test_loop_workload_finds_an_anti_lru_policy():
    trace = generate("loop", objects=1000)
    result = tuner.optimize(trace, budget=999, trials=30, seed=1)
    assert result.recommendation.config.policy in ANTI_LRU
    assert result.recommendation.tuning.misses_per_hour <= 0.02 * result.lru.tuning.misses_per_hour


@needs_jit
def test_sampled_trials_are_rescored_exactly():
    trace = generate("zipf", requests=60_000, objects=6_000, seed=3)
    result = tuner.optimize(trace, budget="10%", trials=12, seed=1, sample_rate=0.2, policies="lru,fifo,sieve")
    exact = result.recommendation
    assert result.top[0].value == pytest.approx(exact.value)
    assert exact.config.capacity <= 600


def test_the_recommendation_against_lru_carries_a_bootstrap_interval_over_held_out_windows():
    loop = small_loop()
    trace = tuner.Trace.from_arrays(loop.ids, np.arange(len(loop)) * 30.0)  # 5,000 requests over 42 hours
    result = tuner.optimize(trace, budget=49, trials=8, seed=1, policies="lru,mru")
    rec, lru = result.recommendation, result.lru
    assert rec.config.policy == "mru"  # a loop one object larger than the cache: LRU misses every request
    # The windows are the held-out part's, cut at the split: they add up to its misses.
    assert rec.windows.sum() == rec.holdout.misses and lru.windows.sum() == lru.holdout.misses
    assert len(rec.windows) >= 10
    against_lru = result.misses_against(lru)
    assert against_lru.estimate == rec.holdout.misses - lru.holdout.misses < 0
    assert against_lru.low <= against_lru.estimate <= against_lru.high < 0 and against_lru.significant
    itself = result.misses_against(rec)
    assert (itself.estimate, itself.low, itself.high, itself.significant) == (0, 0, 0, False)
    best = best_record(result)
    expected = {"measured_on": "holdout", "misses": against_lru.estimate, "low": against_lru.low,
                "high": against_lru.high, "significant": True}  # fmt: skip
    assert best["misses_against_lru"] == expected
    printed = io.StringIO()
    print_optimize(result, Console(file=printed, width=250))
    assert f"against LRU: {against_lru.estimate:+,.0f} misses held out, 95 % interval [" in printed.getvalue()


def test_a_comparison_the_trace_cannot_decide_is_not_significant():
    trace = tuner.Trace.from_arrays(small_loop().ids, np.arange(5_000) * 30.0)
    result = tuner.optimize(trace, budget=49, trials=4, seed=1, policies="lru")  # LRU against itself
    assert not result.misses_against(result.lru).significant
    printed = io.StringIO()
    print_optimize(result, Console(file=printed, width=250))
    assert "against LRU: +0 misses held out, 95 % interval [+0, +0], not significant" in printed.getvalue()
