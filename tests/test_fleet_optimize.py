"""``optimize --shards``: the study tunes each shard's size and scores every trial on the whole fleet."""

import json

import numpy as np
import pandas as pd
import pytest

import tuner
from tests.cli import assert_one_line_error, cachetune
from tuner.capacity import BYTES, OBJECTS
from tuner.deploy import for_each_shard, get_target
from tuner.fleet import Fleet
from tuner.optimize import best_record
from tuner.optimize.menu import LruSizes
from tuner.optimize.objectives import Objective
from tuner.optimize.recommend import Judge
from tuner.optimize.space import Config
from tuner.optimize.traces import split_by_time
from tuner.shards import shard_of_objects, shard_replay


def _keyed_trace() -> tuner.Trace:
    """A read-only trace over string keys, a request a second, with skewed popularity."""
    rng = np.random.default_rng(11)
    names = np.array([f"user:{k}" for k in range(300)], object)
    chosen = np.minimum(rng.zipf(1.25, 4000) - 1, 299)
    return tuner.Trace.from_arrays(names[chosen], timestamps=np.arange(4000) * 2.0, name="keyed")


def _held_out_misses(trace: tuner.Trace, policy: str, capacity: int, n_shards: int, hash_name: str, cut: int,
                     params: dict) -> int:  # fmt: skip
    """The obvious way: each shard's requests as a trace of their own, replayed warm through the cut."""
    by_request = shard_of_objects(trace, n_shards, hash_name)[trace.ids]
    keys = np.asarray(trace.keys, object)[trace.ids]
    misses = 0
    for shard in range(n_shards):
        mine = by_request == shard
        own_cut = int(mine[:cut].sum())
        alone = tuner.Trace.from_arrays(keys[mine], trace.timestamps[mine])
        result = tuner.replay(alone, policy, capacity, checkpoints=[own_cut], **params)
        misses += result.misses - result.counts_before(own_cut).misses
    return misses


@pytest.mark.parametrize("hash_name", ["redis-cluster", "ketama"])
def test_best_json_of_a_fleet_matches_a_direct_sharded_replay(hash_name):
    trace, n_shards = _keyed_trace(), 3
    result = tuner.optimize(trace, budget=150, trials=8, seed=1, policies="lru,fifo,s3fifo", holdout=0.25,
                            shards=n_shards, shard_hash=hash_name)  # fmt: skip
    best = best_record(result)
    config = result.recommendation.config
    assert best["fleet"] == {"shards": n_shards, "shard_hash": hash_name, "shard_capacity": config.capacity,
                             "fleet_capacity": config.capacity * n_shards}  # fmt: skip
    assert best["budget"] == 150 // n_shards  # the budget is the fleet's, searched per shard
    split = split_by_time(trace, 0.25)
    tuning = shard_replay(split.tuning, config.policy, shard_capacity=config.capacity, shards=n_shards,
                          hash=hash_name, **config.params)  # fmt: skip
    assert best["miss_ratio"] == pytest.approx(tuning.miss_ratio)
    assert best["misses_per_hour"] == pytest.approx(tuning.totals.misses_per_hour)
    held_out = _held_out_misses(trace, config.policy, config.capacity, n_shards, hash_name, split.cut, config.params)
    assert result.recommendation.holdout.misses == held_out
    assert result.recommendation.holdout.requests == len(trace) - split.cut
    assert sum(result.recommendation.windows) == held_out
    lru = shard_replay(split.tuning, "lru", shard_capacity=config.capacity, shards=n_shards, hash=hash_name)
    assert best["lru"]["miss_ratio"] == pytest.approx(lru.miss_ratio)
    assert set(result.trials["fleet_capacity"].dropna()) <= {c * n_shards for c in result.trials["capacity"]}
    assert result.trials["capacity"].max() <= 150 // n_shards


def test_without_a_budget_a_fleet_gets_a_menu_of_per_shard_sizes():
    trace = _keyed_trace()
    result = tuner.optimize(trace, trials=8, seed=3, policies="lru,fifo", shards=2, shard_hash="modulo",
                            holdout=0.0)  # fmt: skip
    fleet = Fleet.route(trace, 2, "modulo")
    assert result.budget == max(part.n_objects for part in fleet.parts)
    best = best_record(result)
    config = result.recommendation.config
    direct = shard_replay(trace, config.policy, shard_capacity=config.capacity, shards=2, hash="modulo",
                          **config.params)  # fmt: skip
    assert best["miss_ratio"] == pytest.approx(direct.miss_ratio)
    assert best["rule"]["cold_misses"] == trace.n_objects  # the largest shard's working set holds every shard's
    assert best["fleet"]["fleet_capacity"] == 2 * config.capacity


def test_a_fleets_lru_equivalent_size_from_stack_distances_is_the_smallest_lru_fleet_doing_as_well():
    trace, n_shards, hash_name = _keyed_trace(), 3, "redis-cluster"
    split = split_by_time(trace, 0.3)
    judge = Judge(split, Objective(), OBJECTS, 0, Fleet.route(trace, n_shards, hash_name))
    sizes = LruSizes(judge, 300, 1)
    requests = len(trace) - split.cut
    for misses in (900, 500, 300):
        size = sizes.equivalent(misses, requests, {})  # summed per-shard stack distances, one pass each
        assert _held_out_misses(trace, "lru", size, n_shards, hash_name, split.cut, {}) <= misses
        assert size == 1 or _held_out_misses(trace, "lru", size - 1, n_shards, hash_name, split.cut, {}) > misses
        bisected = sizes.equivalent(misses, requests, {"max_object_size": 10**9})  # replays the fleet instead
        assert size <= bisected <= max(size + 1, size * 1.02)


def test_a_fleet_deployment_says_its_sizes_are_per_shard():
    redis = get_target("redis")
    deployment = for_each_shard(redis.render(Config("redis-lru", 64 << 20, {}), BYTES), 4, "redis-cluster")
    conf = deployment.files["redis.conf"].splitlines()
    assert conf[1].startswith("# For each of 4 shards (keys routed by redis-cluster)")
    assert f"maxmemory {64 << 20}" in conf
    script = deployment.files["redis-config-set.sh"].splitlines()
    assert script[0] == "#!/bin/sh" and "per shard" in script[1]
    memcached = get_target("memcached")
    args = for_each_shard(memcached.render(Config("memcached", 64 << 20, {}), BYTES), 2, "ketama").files
    assert args["memcached.args"].split()[:2] == ["-m", "64"]  # arguments only: the note is in fleet.txt
    assert "per shard" in args["fleet.txt"]


def test_cli_optimize_over_a_fleet(tmp_path):
    out = tmp_path / "run"
    completed = cachetune("optimize", "-w", "zipf", "--requests", "3000", "--objects", "300", "--policies", "lru,fifo",
                          "--budget", "120", "--trials", "4", "--shards", "2", "--shard-hash", "rendezvous",
                          "--out", str(out))  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    best = json.loads((out / "best.json").read_text())
    assert best["fleet"]["shards"] == 2 and best["fleet"]["shard_hash"] == "rendezvous"
    trials = pd.read_csv(out / "trials.csv")
    assert (trials["capacity"] <= 60).all()
    assert "(fleet " in completed.stdout  # the recommendation's size is a shard's, the fleet's beside it
    assert "2 shards by rendezvous (the fleet: " in (out / "report.html").read_text()


def test_cli_optimize_fleet_refuses_a_sample():
    completed = cachetune("optimize", "-w", "zipf", "--requests", "300", "--shards", "2", "--sample-rate", "0.5")
    assert_one_line_error(completed, "not supported with shards")
