"""``cachetune verify``: each model against the real thing, and the care taken with a user's server."""

import time

import numpy as np
import pytest

import tuner
from tests.cli import assert_one_line_error, cachetune
from tests.live import require_binary
from tuner.errors import CachetuneError
from tuner.live import servers
from tuner.live.redis_replay import replay_against_redis
from tuner.verify import memcached_args, verify


def _zipf(requests=6_000, objects=800, seed=2) -> tuner.Trace:
    return tuner.generate("zipf", requests=requests, objects=objects, alpha=0.9, seed=seed)


def _sized(trace: tuner.Trace, seed: int = 0) -> tuner.Trace:
    sizes = np.random.default_rng(seed).integers(200, 2_000, trace.n_objects)[trace.ids]
    return tuner.Trace.from_arrays(trace.ids, trace.timestamps, sizes)


@pytest.mark.parametrize("policy", ["functools-lru", "cachetools-lru", "cachetools-lfu", "cachetools-fifo"])
def test_a_deterministic_python_model_equals_the_library_in_every_figure(policy):
    result = verify(_zipf(), policy, 100)
    assert result.real == result.simulated
    assert 0 < result.real.hits < result.real.gets and result.real.evictions > 0
    assert (result.table["difference"] == 0).all()


def test_random_replacement_is_close_to_the_library():
    result = verify(_zipf(), "cachetools-rr", 100, seed=3)
    assert abs(result.hit_ratio_gap) < 0.03


def test_a_textbook_policy_and_a_python_model_with_a_server_are_refused():
    with pytest.raises(CachetuneError, match="textbook policy"):
        verify(_zipf(), "lru", 100)
    with pytest.raises(CachetuneError, match="no --server"):
        verify(_zipf(), "cachetools-lru", 100, server="memcached://127.0.0.1:1")


def test_memcached_arguments_spell_the_models_settings():
    params = {"growth_factor": 1.5, "item_size_max": 2 << 20, "hot_lru_pct": 10, "warm_lru_pct": 60}
    assert memcached_args(64 << 20, params) == ["-m", "64", "-f", "1.5", "-I", "2097152", "-o",
                                                "hot_lru_pct=10,warm_lru_pct=60"]  # fmt: skip
    with pytest.raises(CachetuneError, match="whole MiB"):
        memcached_args(1000, {})


def test_memcached_on_a_throwaway_server_agrees_with_its_model():
    require_binary("memcached")
    trace = _sized(_zipf(requests=30_000, objects=6_000))
    result = verify(trace, "memcached", "2MiB")
    assert result.real.evictions > 0  # the cache is full
    assert abs(result.hit_ratio_gap) <= 0.01
    assert abs(result.simulated.resident - result.real.resident) <= 0.03 * result.real.resident


def test_a_users_memcached_holding_an_item_is_refused_and_left_as_it_was():
    require_binary("memcached")
    from pymemcache.client.base import Client

    with servers.start_memcached(["-m", "8"]) as server:
        client = Client(("127.0.0.1", server.port))
        client.set("theirs", b"precious", noreply=False)  # stored before verify looks (pymemcache's default is noreply)
        with pytest.raises(CachetuneError, match="holds 1 items"):
            verify(_sized(_zipf()), "memcached", "8MiB", server=server.url)
        assert client.get("theirs") == b"precious"
        assert int(client.stats()[b"curr_items"]) == 1
        client.close()


def test_the_command_prints_both_sides_and_writes_its_run(tmp_path):
    result = cachetune("verify", "--workload", "zipf", "--requests", "3000", "--objects", "400",
                       "--policies", "cachetools-lru", "--size", "50", "--out", str(tmp_path / "run"))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "real against simulated" in result.stdout
    assert (tmp_path / "run" / "verify.csv").is_file() and (tmp_path / "run" / "report.html").is_file()
    bad = cachetune("verify", "--workload", "zipf", "--requests", "300", "--policies", "lru", "--size", "50",
                    "--out", str(tmp_path / "bad"))  # fmt: skip
    assert_one_line_error(bad, "textbook policy")
    both = cachetune("verify", "--workload", "zipf", "--policies", "memcached", "--size", "8MiB", "--start",
                     "--server", "memcached://127.0.0.1:1")  # fmt: skip
    assert_one_line_error(both, "exclude each other")


def _redis_trace() -> tuner.Trace:
    base = tuner.generate("zipf", requests=20_000, objects=4_000, alpha=1.0, seed=5)
    sizes = np.random.default_rng(5).integers(1_000, 3_000, base.n_objects)[base.ids]
    return tuner.Trace.from_arrays(base.ids, base.timestamps, sizes)


def test_redis_on_a_throwaway_server_agrees_with_its_model():
    require_binary("redis-server")
    trace = _redis_trace()
    result = verify(trace, "redis-lru", f"{1_062_888 + 4_000_000}B")  # the server's own memory and 4 MB of keys
    real, simulated = result.real, result.simulated
    assert real.evictions > 0
    assert abs(result.hit_ratio_gap) <= 0.01
    assert abs(simulated.resident - real.resident) <= 0.02 * real.resident
    # Every figure has both sides. Evictions follow misses (each miss writes a key, the resident ones stay):
    # measured within 2 % of the server's in two runs; memory (the model's account and an empty server's
    # calibrated memory, against used_memory) within 0.05 %.
    assert result.table["difference"].notna().all()
    assert abs(simulated.evictions - real.evictions) <= 0.08 * real.evictions
    assert abs(simulated.memory - real.memory) <= 0.01 * real.memory


def _paced_trace(requests: int = 600, span: float = 12.0) -> tuner.Trace:
    """Requests evenly spread over ``span`` seconds of trace time, with a gap in the middle."""
    base = _zipf(requests=requests, objects=200, seed=7)
    times = np.linspace(0.0, span, requests)
    times[requests // 2 :] += 2.0
    return tuner.Trace.from_arrays(base.ids, times, np.full(requests, 500))


def test_a_paced_redis_replay_sends_no_request_before_its_time():
    require_binary("redis-server")
    trace, speed = _paced_trace(), 10.0
    due = (trace.timestamps - trace.timestamps[0]) / speed  # 1.4 s for the whole trace
    with servers.start_redis() as server:
        began = time.monotonic()
        live = replay_against_redis(trace, server.url, speed=speed)
        elapsed = time.monotonic() - began
    assert live.replayed == len(trace) and elapsed >= due[-1]
    sent = live.send_times - live.send_times[0]
    assert np.all(np.diff(live.send_times) >= 0)
    assert np.all(sent >= due - 1e-3)  # no request before its time (1 ms: the first send is timed after it went)


def test_a_paced_memcached_replay_takes_the_trace_time_over_the_speed():
    require_binary("memcached")
    trace, speed = _paced_trace(), 10.0
    result = verify(trace, "memcached", "2MiB", speed=speed)
    assert result.options["speed"] == speed and result.real.gets == len(trace)
    assert len(trace) / result.real_requests_per_second >= trace.span_seconds / speed


def test_a_speed_that_is_not_positive_or_for_a_library_is_refused(tmp_path):
    with pytest.raises(CachetuneError, match="speed must be positive"):
        verify(_zipf(), "memcached", "2MiB", speed=0.0)
    with pytest.raises(CachetuneError, match="no --speed"):
        verify(_zipf(), "cachetools-lru", 100, speed=1.0)
    common = ("verify", "--workload", "zipf", "--requests", "300", "--size", "50", "--out", str(tmp_path / "run"))
    assert_one_line_error(cachetune(*common, "--policies", "cachetools-lru", "--speed", "-1"),
                          "speed must be positive")  # fmt: skip
    assert_one_line_error(cachetune(*common, "--policies", "functools-lru", "--speed", "2"), "no --speed")


def test_a_users_redis_holding_a_key_is_refused_and_left_as_it_was():
    require_binary("redis-server")
    import redis

    with servers.start_redis({"maxmemory": 0}) as server:
        client = redis.Redis(port=server.port)
        client.set("theirs", b"precious")
        with pytest.raises(CachetuneError, match="not empty"):
            verify(_redis_trace(), "redis-lru", "8MiB", server=server.url)
        assert client.get("theirs") == b"precious" and client.dbsize() == 1
        assert client.config_get("maxmemory") == {"maxmemory": "0"}
        assert client.config_get("maxmemory-policy") == {"maxmemory-policy": "noeviction"}
        client.close()
