"""Sharded fleets: each routing against the client or server it models, and a fleet's replay against replaying
each shard's requests alone."""

import bisect
import hashlib
import struct

import numpy as np
import pandas as pd
import pytest
import redis
from pymemcache.client.rendezvous import RendezvousHash

import tuner
from tests.cli import assert_one_line_error, cachetune
from tests.live import require_binary
from tuner.errors import CachetuneError
from tuner.live.servers import start_redis
from tuner.shards import SHARD_HASHES, redis_cluster_slots, shard_label, shard_of_objects, shard_replay

TAGGED = ["{user1}.a", "{user1}.b", "foo{}{bar}", "{}x", "a{b", "a}b{c}", "foo{{bar}}zap", "{bar", "}{", "{}", "",
          "{a}{b}", "x{ y }z", "日本{語}", "{ü}é"]  # fmt: skip


def _keyed_trace(n_requests: int = 3000, n_keys: int = 300, seed: int = 3) -> tuner.Trace:
    """A small read-only trace over string keys, some sharing a hash tag, with skewed popularity."""
    rng = np.random.default_rng(seed)
    names = np.array([f"{{user{k % 40}}}:item:{k}" if k % 3 == 0 else f"object:{k}" for k in range(n_keys)], object)
    chosen = np.minimum(rng.zipf(1.3, n_requests) - 1, n_keys - 1)
    return tuner.Trace.from_arrays(names[chosen], name="keyed")


@pytest.mark.parametrize("policy", ["lru", "fifo"])
@pytest.mark.parametrize("hash_name", list(SHARD_HASHES))
def test_a_fleet_is_the_sum_of_its_shards_replayed_alone(hash_name, policy):
    trace = _keyed_trace()
    n_shards, capacity = 4, 60
    fleet = shard_replay(trace, policy, capacity, shards=n_shards, hash=hash_name)
    request_shards = shard_of_objects(trace, n_shards, hash_name)[trace.ids]
    keys = np.asarray(trace.keys, object)[trace.ids]
    alone = [tuner.replay(tuner.Trace.from_arrays(keys[request_shards == shard],
                                                  trace.timestamps[request_shards == shard]),
                          policy, capacity // n_shards) for shard in range(n_shards)]  # fmt: skip
    assert fleet.requests == len(trace) == sum(one.requests for one in alone)
    assert fleet.hits == sum(one.hits for one in alone)
    assert fleet.misses == sum(one.misses for one in alone)
    assert fleet.totals.bytes_missed == sum(one.bytes_missed for one in alone)
    assert fleet.totals.span_seconds == trace.span_seconds
    assert fleet.shard_capacity.amount == capacity // n_shards
    assert fleet.table["misses"].tolist() == [one.misses for one in alone]
    assert fleet.table["used"].tolist() == [one.used for one in alone]
    requests = np.array([one.requests for one in alone])
    assert fleet.imbalance_requests == pytest.approx(requests.max() / requests.mean())
    assert (fleet.table["requests"] > 0).sum() >= 2  # the keys really were spread


def test_a_shard_capacity_replaces_the_split_and_empty_shards_are_reported():
    trace = tuner.Trace.from_arrays([1, 2, 3, 1, 2, 3, 4])
    fleet = shard_replay(trace, "lru", None, shards=8, hash="modulo", shard_capacity=1)
    assert fleet.table["requests"].tolist() == [0, 2, 2, 2, 1, 0, 0, 0]  # integer keys: the key mod 8
    assert fleet.misses == 7 - 3 and fleet.imbalance_requests == pytest.approx(2 / (7 / 8))


def test_bad_fleets_are_one_line_errors():
    trace = tuner.Trace.from_arrays([1, 2, 3])
    with pytest.raises(CachetuneError, match="shards must be"):
        shard_replay(trace, "lru", 10, shards=0)
    with pytest.raises(CachetuneError, match="hash must be one of"):
        shard_replay(trace, "lru", 10, shards=2, hash="crc32")
    with pytest.raises(CachetuneError, match="less than one object"):
        shard_replay(trace, "lru", 3, shards=4)


def test_rendezvous_routes_as_pymemcache():
    keys = np.array([f"session:{k}" for k in range(250)] + list(range(100)) + ["a", "ab", "abc", "abcd"], object)
    trace = tuner.Trace.from_arrays(keys)
    for n_shards in (1, 3, 5):
        ring = RendezvousHash(nodes=[shard_label(shard) for shard in range(n_shards)])
        expected = [int(ring.get_node(key).removeprefix("shard-")) for key in trace.keys]
        assert shard_of_objects(trace, n_shards, "rendezvous").tolist() == expected


def _ketama_reference(n_shards: int, key: str) -> int:
    """An independent, deliberately plain ketama (libketama / libmemcached weighted mode, equal weights, at
    most 24 shards so that no float rounding trims a server's 160 points): 40 MD5s of "host-i" per server,
    4 little-endian words each, sorted; a key takes the first point at or after its MD5's first word."""
    ring = []
    for shard in range(n_shards):
        for i in range(40):
            digest = hashlib.md5(f"shard-{shard}-{i}".encode()).digest()
            ring.extend((point, shard) for point in struct.unpack("<4I", digest))
    ring.sort()
    point = struct.unpack("<I", hashlib.md5(key.encode()).digest()[:4])[0]
    found = bisect.bisect_left(ring, (point, -1))
    return ring[found % len(ring)][1]


def test_ketama_routes_as_an_independent_ketama_ring():
    keys = np.array([f"user:{k}" for k in range(300)] + TAGGED, object)
    trace = tuner.Trace.from_arrays(keys)
    for n_shards in (1, 2, 5):
        expected = [_ketama_reference(n_shards, key) for key in trace.keys]
        routed = shard_of_objects(trace, n_shards, "ketama")
        assert routed.tolist() == expected
    assert len(set(routed.tolist())) == 5


def test_redis_cluster_slots_are_the_servers_keyslots():
    require_binary("redis-server")
    rng = np.random.default_rng(16)
    alphabet = list("ab{}x:1")
    generated = ["".join(rng.choice(alphabet, rng.integers(0, 12))) for _ in range(2500)]
    keys = TAGGED + generated + [f"user:{k}" for k in range(500)] + [b"\xff{\x00}", "123456789"]
    server = start_redis({"cluster-enabled": "yes", "cluster-config-file": "nodes.conf"})
    try:
        client = redis.Redis(host=server.host, port=server.port)
        pipeline = client.pipeline(transaction=False)
        for key in keys:
            pipeline.execute_command("CLUSTER KEYSLOT", key)
        expected = pipeline.execute()
    finally:
        server.stop()
    assert sum("{" in key and "}" in key for key in generated) > 500  # hash tags, well represented
    assert redis_cluster_slots(np.array(keys, object)).tolist() == expected
    trace = tuner.Trace.from_arrays(np.array(keys[:-2], object))
    slot_of = dict(zip(keys, expected, strict=True))
    slots = np.array([slot_of[key] for key in trace.keys])
    assert shard_of_objects(trace, 3, "redis-cluster").tolist() == (slots * 3 // 16384).tolist()


def test_cli_bench_over_a_fleet(tmp_path):
    completed = cachetune("bench", "-w", "zipf", "--requests", "4000", "--objects", "400", "--size", "100",
                          "--policies", "lru", "--shards", "3", "--shard-hash", "rendezvous", "--out",
                          str(tmp_path), "--no-report")  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    results, shards = pd.read_csv(tmp_path / "results.csv"), pd.read_csv(tmp_path / "shards.csv")
    assert len(results) == 1 and len(shards) == 3
    assert results.loc[0, "misses"] == shards["misses"].sum() and shards["requests"].sum() == 4000
    assert (shards["shard_capacity"] == 33).all()
    assert "busiest shard over the mean" in completed.stdout
    assert_one_line_error(cachetune("bench", "-w", "zipf", "--requests", "100", "--shards", "0"), "--shards must be")
    assert_one_line_error(cachetune("bench", "-w", "zipf", "--requests", "100", "--shards", "2", "--shard-hash",
                                    "crc32"), "--shard-hash must be one of")  # fmt: skip
    assert_one_line_error(cachetune("bench", "-w", "zipf", "--requests", "100", "--shards", "2", "--seeds", "3"),
                          "error: --seeds is not supported")  # fmt: skip


def test_long_keys_split_the_hashing_into_smaller_matrices_without_changing_a_route(monkeypatch):
    keys = np.array(["x" * 5000 + "{tag}", "foo", "{a}b", *(f"k{i}" for i in range(200))], object)
    trace = tuner.Trace.from_arrays(keys)
    routes = {name: shard_of_objects(trace, 3, name) for name in ("redis-cluster", "rendezvous")}
    monkeypatch.setattr("tuner.shards._MATRIX_BYTES", 64)
    assert all(shard_of_objects(trace, 3, name).tolist() == route.tolist() for name, route in routes.items())
    assert redis_cluster_slots(keys[:1])[0] == redis_cluster_slots(np.array(["tag"], object))[0]
