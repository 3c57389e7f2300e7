"""``cachetune optimize --target``: a product's knobs only, and its settings written to apply
(Redis, memcached, cachetools, functools), checked by starting the real servers with them."""

import json
import shlex
import subprocess

import cachetools
import numpy as np
import optuna
import pandas as pd
import pytest

import tuner
from tests.cli import assert_one_line_error, cachetune
from tests.live import require_binary
from tuner.capacity import BYTES, OBJECTS, Capacity
from tuner.deploy import get_target, redis, verify_command
from tuner.deploy.memcached import GROWTH_FACTORS, ITEM_SIZES, MIB
from tuner.errors import CachetuneError
from tuner.live import servers
from tuner.live.redis_replay import key_names, replay_against_redis
from tuner.optimize.run import candidate_policies
from tuner.optimize.space import Config, SearchSpace
from tuner.optimize.traces import split_by_time
from tuner.policies import POLICIES, Param, Policy, get_policy

REDIS_CONFIG = Config("redis-lfu", 64 * MIB, {"samples": 10, "volatile": 1, "lfu_log_factor": 20,
                                               "lfu_decay_time": 3, "key_size": 16})  # fmt: skip
REDIS_SETTINGS = {"maxmemory": 64 * MIB, "maxmemory-policy": "volatile-lfu", "maxmemory-samples": 10,
                  "lfu-log-factor": 20, "lfu-decay-time": 3}  # fmt: skip


def write_trace(path, requests: int = 1_500, keys: int = 120, sized: bool = True) -> None:
    """A skewed read-only trace (zipf-like popularity), sizes from 1 to 40 KB when ``sized``."""
    rng = np.random.default_rng(7)
    ids = rng.zipf(1.3, requests) % keys
    lines = ["timestamp,key,size" if sized else "timestamp,key"]
    for second, key in enumerate(ids):
        size = 1_000 + (int(key) * 7919) % 39_000
        lines.append(f"{second},k{key},{size}" if sized else f"{second},k{key}")
    path.write_text("\n".join(lines) + "\n")


def run_optimize(tmp_path, *args: str, sized: bool = True) -> tuple[dict, pd.DataFrame, object]:
    trace = tmp_path / "trace.csv"
    write_trace(trace, sized=sized)
    out = tmp_path / "run"
    completed = cachetune("optimize", "--trace", str(trace), "--out", str(out), "--no-report", "--seed", "3", *args)
    assert completed.returncode == 0, completed.stderr
    best = json.loads((out / "best.json").read_text())
    return best, pd.read_csv(out / "trials.csv"), out


def write_deploy_trace(path, requests: int = 250_000, objects: int = 30_000, span: float = 40.0) -> None:
    """Zipf 0.8 over 30,000 objects of 1 to 9 KB (about 150 MB in all, so 64 MiB holds part of it), requests
    spread over ``span`` seconds; keys as long as the live replay's names (16 bytes), so the model charges
    the keys the server holds."""
    rng = np.random.default_rng(11)
    popularity = np.arange(1, objects + 1) ** -0.8
    ids = rng.permutation(objects)[rng.choice(objects, requests, p=popularity / popularity.sum())]
    sizes = rng.integers(1_000, 9_000, objects)
    times = np.sort(rng.uniform(0.0, span, requests))
    lines = [f"{time:.6f},session:{key:08d},{sizes[key]}" for time, key in zip(times, ids, strict=True)]
    path.write_text("timestamp,key,size\n" + "\n".join(lines) + "\n")


def test_a_redis_started_with_the_deploy_conf_misses_on_the_held_out_part_as_best_json_says(tmp_path):
    """The issue's check of a Redis recommendation: a redis-server started with ``deploy/redis.conf`` and
    sent the whole trace at its own pace (paced at 1x trace time, so the server's one-second LRU clock and
    minute LFU decay run with the trace's, as the model's do) misses on the held-out part (the requests
    after optimize's cut) within 5 % of best.json's ``holdout_misses_per_hour``, both per hour of trace
    time. Measured in three runs: +0.87 %, -0.29 %, +0.21 % (each replay takes the trace's 40 s)."""
    require_binary("redis-server")
    trace_path = tmp_path / "trace.csv"
    write_deploy_trace(trace_path)
    out = tmp_path / "run"
    completed = cachetune("optimize", "--trace", str(trace_path), "--target", "redis", "--budget", "64MiB",
                          "--trials", "10", "--seed", "3", "--no-report", "--out", str(out))  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    best = json.loads((out / "best.json").read_text())
    assert best["target"] == "redis" and best["capacity"] <= 64 * MIB
    assert {path.name for path in (out / "deploy").iterdir()} >= {"redis.conf", "redis-config-set.sh"}
    trace = tuner.read_trace(trace_path)
    assert key_names(trace)[1] == len("session:00000000")
    split = split_by_time(trace, best["holdout"])  # the cut optimize made
    with servers.start_redis({"include": str(out / "deploy" / "redis.conf")}) as server:
        live = replay_against_redis(trace, server.url, speed=1.0, time_limit=300.0)
    assert live.replayed == len(trace) and live.evicted_keys > 0
    live_per_hour = int(live.missed[split.cut :].sum()) / split.holdout_hours
    expected = best["holdout_misses_per_hour"]
    assert abs(live_per_hour / expected - 1) <= 0.05, (live_per_hour, expected)


def test_redis_settings_are_redis_names_and_defaults_for_a_config_dict():
    assert redis.settings(REDIS_CONFIG) == REDIS_SETTINGS
    defaults = redis.settings(Config("redis-lru", 1_000_000, {}))
    assert defaults == {"maxmemory": 1_000_000, "maxmemory-policy": "allkeys-lru", "maxmemory-samples": 5,
                        "lfu-log-factor": 10, "lfu-decay-time": 1}  # fmt: skip
    assert redis.settings(Config("redis-ttl", 10, {"volatile": 0}))["maxmemory-policy"] == "volatile-ttl"
    assert redis.settings(Config("redis-random", 10, {"volatile": 1}))["maxmemory-policy"] == "volatile-random"
    files = redis.render(REDIS_CONFIG, BYTES).files
    conf = [line for line in files["redis.conf"].splitlines() if not line.startswith("#")]
    assert conf == [f"{name} {value}" for name, value in REDIS_SETTINGS.items()]
    script = [line for line in files["redis-config-set.sh"].splitlines() if line.startswith("redis-cli")]
    assert script == [f'redis-cli "$@" CONFIG SET {name} {value}' for name, value in REDIS_SETTINGS.items()]


def test_redis_starts_with_the_conf_snippet_and_takes_the_config_set_lines(tmp_path):
    require_binary("redis-server")
    require_binary("redis-cli")
    import redis as redis_py

    files = redis.render(REDIS_CONFIG, BYTES).files
    (tmp_path / "redis.conf").write_text(files["redis.conf"])
    (tmp_path / "set.sh").write_text(files["redis-config-set.sh"])
    with servers.start_redis({"include": str(tmp_path / "redis.conf")}) as server:
        got = redis_py.Redis.from_url(server.url, decode_responses=True).config_get("*")
        assert {name: got[name] for name in REDIS_SETTINGS} == {k: str(v) for k, v in REDIS_SETTINGS.items()}
    with servers.start_redis() as server:
        applied = subprocess.run(["sh", str(tmp_path / "set.sh"), "-h", server.host, "-p", str(server.port)],
                                 capture_output=True, text=True, timeout=30, check=False)  # fmt: skip
        assert applied.returncode == 0, applied.stderr
        got = redis_py.Redis.from_url(server.url, decode_responses=True).config_get("*")
        assert {name: got[name] for name in REDIS_SETTINGS} == {k: str(v) for k, v in REDIS_SETTINGS.items()}


def test_the_redis_target_searches_the_redis_models_once_registered(monkeypatch):
    target = get_target("redis")
    for name in [name for name, policy in POLICIES.items() if policy.target == "redis"]:
        monkeypatch.delitem(POLICIES, name)  # as before tuner/policies/redis_eviction.py registers its models
    with pytest.raises(CachetuneError, match="no model of redis is registered"):
        candidate_policies(None, target)
    lru = get_policy("lru")
    params = (Param("samples", 5, 1, 64, "maxmemory-samples"), Param("key_size", 16, 1, 512, "keys"))
    fake = Policy("redis-lru", "test double", lru.init, lru.replay, params=params, target="redis")
    monkeypatch.setitem(POLICIES, "redis-lru", fake)
    assert candidate_policies(None, target) == [fake]
    assert candidate_policies("redis-lru", target) == [fake]
    with pytest.raises(CachetuneError, match="'lru' is not a model of target redis"):
        candidate_policies("redis-lru,lru", target)
    space = SearchSpace.build([fake], Capacity(MIB, BYTES, "1MiB"), 100.0, 1, held=target.held)
    trial = optuna.create_study().ask()
    config = space.suggest(trial)
    assert set(config.params) == {"samples"} and 1 <= config.params["samples"] <= 64  # key_size is held
    assert space.at_defaults(fake, MIB) == {"policy": "redis-lru", "capacity": MIB, "redis-lru.samples": 5}


def test_a_budget_in_the_wrong_unit_or_a_policy_of_another_product_is_a_one_line_error(tmp_path):
    trace = tmp_path / "trace.csv"
    write_trace(trace, requests=200)
    common = ("optimize", "--trace", str(trace), "--trials", "2", "--out", str(tmp_path / "run"))
    assert_one_line_error(cachetune(*common, "--target", "memcached", "--budget", "100"),
                          "target memcached takes its size in bytes")  # fmt: skip
    assert_one_line_error(cachetune(*common, "--target", "functools", "--budget", "1MiB"),
                          "target functools takes its size in objects")  # fmt: skip
    assert_one_line_error(cachetune(*common, "--target", "memcached", "--budget", "4MiB", "--policies", "lru"),
                          "'lru' is not a model of target memcached")  # fmt: skip
    assert_one_line_error(cachetune(*common, "--target", "cachetools", "--policies", "functools-lru"),
                          "'functools-lru' is not a model of target cachetools")  # fmt: skip
    assert_one_line_error(cachetune(*common, "--target", "varnish"), "unknown --target 'varnish'")


def test_memcached_target_writes_the_args_of_the_recommendation(tmp_path):
    best, trials, out = run_optimize(tmp_path, "--target", "memcached", "--budget", "4MiB", "--trials", "6")
    assert set(trials["policy"]) == {"memcached"}
    assert "max_object_size" not in trials.columns  # not a memcached knob: -I is
    assert set(trials["memcached.item_size_max"]) <= set(ITEM_SIZES)
    assert set(trials["memcached.growth_factor"]) <= set(GROWTH_FACTORS)
    assert (trials["capacity"] >= 2 * MIB).all()
    assert best["capacity"] % MIB == 0  # whole MiB, as -m is read (the model floors a capacity the same way)
    params = best["params"]
    deploy = {"-m": best["capacity"] // MIB, "-f": params["growth_factor"],
              "-I": f"{params['item_size_max'] // 1024}k" if params["item_size_max"] % MIB else
              f"{params['item_size_max'] // MIB}m",
              "-o": f"hot_lru_pct={params['hot_lru_pct']},warm_lru_pct={params['warm_lru_pct']}"}  # fmt: skip
    assert best["target"] == "memcached" and best["deploy"] == deploy
    args = (out / "deploy" / "memcached.args").read_text().split()
    assert args == [word for name, value in deploy.items() for word in (name, str(value))]
    assert best["default"]["policy"] == "memcached" and best["default"]["capacity"] == best["capacity"]
    assert best["default"]["params"] == {}  # memcached as started with only -m
    assert best["verify"].startswith(f"cachetune verify --trace {shlex.quote(str(tmp_path / 'trace.csv'))} "
                                     f"--policies memcached --size {best['capacity'] // MIB}MiB -p ")  # fmt: skip
    require_binary("memcached")
    with servers.start_memcached(args) as server:  # memcached takes them and reads them back as modelled
        stats = _memcached_settings(server.port)
    assert int(stats["maxbytes"]) == deploy["-m"] * MIB and float(stats["growth_factor"]) == params["growth_factor"]
    assert int(stats["item_size_max"]) == params["item_size_max"]
    assert (int(stats["hot_lru_pct"]), int(stats["warm_lru_pct"])) == (params["hot_lru_pct"], params["warm_lru_pct"])


def _memcached_settings(port: int) -> dict[str, str]:
    from pymemcache.client.base import Client

    client = Client((servers.LOOPBACK, port), timeout=5)
    try:
        return {key.decode(): value.decode() if isinstance(value, bytes) else str(value)
                for key, value in client.stats("settings").items()}  # fmt: skip
    finally:
        client.close()


def test_cachetools_target_writes_a_cache_of_the_recommended_class_and_maxsize(tmp_path):
    best, trials, out = run_optimize(tmp_path, "--target", "cachetools", "--budget", "60", "--trials", "8",
                                     sized=False)  # fmt: skip
    models = {name for name, policy in POLICIES.items() if policy.target == "cachetools"} - {"cachetools-ttl"}
    assert set(trials["policy"]) == models  # screening tries each; TTLCache needs --ttl
    assert best["deploy"]["maxsize"] == best["capacity"] and best["capacity_unit"] == OBJECTS
    assert best["default"]["policy"] == "cachetools-lru" and best["default"]["capacity"] == best["capacity"]
    namespace: dict = {}
    exec((out / "deploy" / "cache.py").read_text(), namespace)
    cache = namespace["cache"]
    assert f"cachetools.{type(cache).__name__}" == best["deploy"]["class"]
    assert isinstance(cache, cachetools.Cache) and cache.maxsize == best["capacity"]


def test_cachetools_ttl_cache_carries_its_ttl():
    target = get_target("cachetools")
    deployment = target.render(Config("cachetools-ttl", 1000, {"ttl": 30.0}), BYTES)
    namespace: dict = {}
    exec(deployment.files["cache.py"], namespace)
    cache = namespace["cache"]
    assert isinstance(cache, cachetools.TTLCache) and (cache.maxsize, cache.ttl) == (1000, 30.0)
    cache["k"] = b"12345"
    assert cache.currsize == 5  # getsizeof=len: maxsize counts the values' bytes


def test_functools_target_writes_a_working_lru_cache_of_the_recommended_maxsize(tmp_path):
    best, trials, out = run_optimize(tmp_path, "--target", "functools", "--budget", "40", "--trials", "4",
                                     sized=False)  # fmt: skip
    assert set(trials["policy"]) == {"functools-lru"}
    assert best["deploy"] == {"decorator": "functools.lru_cache", "maxsize": best["capacity"]}
    assert best["saving_over_default"] == 0.0  # lru_cache is its own default
    namespace: dict = {}
    exec((out / "deploy" / "cache.py").read_text(), namespace)
    calls = []
    cached = namespace["cache"](lambda key: calls.append(key) or key * 2)
    assert [cached(key) for key in (1, 2, 1)] == [2, 4, 2] and calls == [1, 2]
    assert cached.cache_info().maxsize == best["capacity"]


def test_verify_command_names_policy_size_and_params():
    line = verify_command(Config("memcached", 64 * MIB, {"growth_factor": 1.5}), BYTES, "my trace.csv")
    assert shlex.split(line) == ["cachetune", "verify", "--trace", "my trace.csv", "--policies", "memcached",
                                 "--size", "64MiB", "-p", "growth_factor=1.5"]  # fmt: skip
    assert shlex.split(verify_command(Config("functools-lru", 10, {}), OBJECTS, None))[3] == "FILE"
    # Replay settings that are no knob of the product stay out; the TTLCache's timeout is --ttl.
    line = verify_command(Config("cachetools-ttl", 10, {"ttl": 30.0, "write_policy": "write-through"}), OBJECTS, None)
    assert shlex.split(line)[-2:] == ["--ttl", "30.0"] and "write_policy" not in line


def test_the_library_takes_target_and_reports_the_default(tmp_path):
    trace = tuner.Trace.from_arrays([f"k{k}" for k in np.random.default_rng(2).zipf(1.3, 800) % 60])
    result = tuner.optimize(trace, budget=20, trials=3, target="functools", seed=1)
    assert result.target == "functools" and result.default.config == Config(
        "functools-lru", result.recommendation.config.capacity, {}
    )
    assert result.deployment.settings["maxsize"] == result.recommendation.config.capacity


def test_what_a_product_refuses_to_start_with_is_named_and_pruned(tmp_path):
    memcached = get_target("memcached")
    assert memcached.refuses(Config("memcached", 4 * MIB, {}), BYTES) is None
    assert "over half of -m" in memcached.refuses(Config("memcached", 3 * MIB, {"item_size_max": 2 * MIB}), BYTES)
    assert "cannot be more than 80" in memcached.refuses(
        Config("memcached", 4 * MIB, {"hot_lru_pct": 50, "warm_lru_pct": 40}), BYTES
    )
    assert "below 1 MiB" in memcached.refuses(Config("memcached", MIB - 1, {}), BYTES)
    cachetools_target = get_target("cachetools")
    assert "needs a ttl" in cachetools_target.refuses(Config("cachetools-ttl", 10, {}), OBJECTS)
    trace = tuner.Trace.from_arrays([f"k{k}" for k in np.random.default_rng(4).zipf(1.3, 600) % 40],
                                    np.arange(600) * 1.0)  # fmt: skip
    result = tuner.optimize(trace, budget=20, trials=6, target="cachetools", tune_ttl=True, seed=2)
    assert set(result.trials["policy"]) == {"cachetools-ttl"}  # with a timeout searched, TTLCache alone
    untimed = result.trials[result.trials["ttl"] == "none"]
    assert (
        len(untimed)
        and (untimed["state"] == "pruned").all()
        and (untimed["rejected"].str.contains("needs a ttl")).all()
    )
    assert result.deployment.settings["ttl"] == result.recommendation.config.params["ttl"]
