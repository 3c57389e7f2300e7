"""``mrc --shards``: a fleet's miss-ratio curve, exact per shard, against ``shard_replay`` at every size."""

import numpy as np
import pandas as pd
import pytest

import tuner
from tests.cli import assert_one_line_error, cachetune
from tuner.shards import SHARD_HASHES, shard_replay


def _keyed_trace() -> tuner.Trace:
    """A read-only trace over string keys (some sharing a hash tag) with skewed popularity."""
    rng = np.random.default_rng(5)
    names = np.array([f"{{user{k % 30}}}:item:{k}" if k % 4 == 0 else f"object:{k}" for k in range(400)], object)
    chosen = np.minimum(rng.zipf(1.3, 4000) - 1, 399)
    return tuner.Trace.from_arrays(names[chosen], name="keyed")


@pytest.mark.parametrize("hash_name", list(SHARD_HASHES))
def test_a_fleet_curve_is_the_sum_of_its_shards_replayed(hash_name):
    trace, n_shards, sizes = _keyed_trace(), 3, [6, 30, 90, 300]
    result = tuner.fleet_curves(trace, "lru,fifo", sizes, shards=n_shards, shard_hash=hash_name, with_floor=False)
    curves, per_shard = result.table, result.tables["shards"]
    assert set(result.tables) == {"curves", "shards"}
    assert set(curves["method"]) == {"exact", "replay"}  # lru in one pass per shard, fifo by replays
    for policy in ("lru", "fifo"):
        for size in sizes:
            fleet = shard_replay(trace, policy, size, shards=n_shards, hash=hash_name)
            row = curves[(curves["policy"] == policy) & (curves["cache_size"] == size)].iloc[0]
            assert row["misses"] == fleet.misses
            assert row["miss_ratio"] == pytest.approx(fleet.miss_ratio)
            assert row["shard_capacity"] == size // n_shards
            assert row["imbalance_misses"] == pytest.approx(fleet.imbalance_misses)
            assert row["imbalance_requests"] == pytest.approx(fleet.imbalance_requests)
            shards = per_shard[(per_shard["policy"] == policy) & (per_shard["cache_size"] == size)]
            assert shards["misses"].tolist() == fleet.table["misses"].tolist()
            assert shards["requests"].tolist() == fleet.table["requests"].tolist()


def test_a_fleet_curve_at_byte_sizes_is_exact_too():
    rng = np.random.default_rng(2)
    keys = rng.integers(0, 300, 3000)
    trace = tuner.Trace.from_arrays(keys, sizes=100 + keys * 7, name="sized")
    sizes = ["20KiB", "100KiB"]
    result = tuner.fleet_curves(trace, "lru", sizes, shards=2, shard_hash="modulo")
    assert result.table["cache_size"].tolist() == [20 * 1024, 100 * 1024]
    assert set(result.table["method"]) == {"replay"}
    for size, misses in zip(sizes, result.table["misses"], strict=True):
        assert misses == shard_replay(trace, "lru", size, shards=2, hash="modulo").misses


def test_cli_mrc_over_a_fleet(tmp_path):
    out = tmp_path / "run"
    completed = cachetune("mrc", "-w", "zipf", "--requests", "4000", "--objects", "400", "--policies", "lru",
                          "--sizes", "40,200", "--shards", "4", "--shard-hash", "rendezvous",
                          "--out", str(out))  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert "4 shards by rendezvous" in completed.stdout
    curves, shards = pd.read_csv(out / "curves.csv"), pd.read_csv(out / "shards.csv")
    assert curves["shard_capacity"].tolist() == [10, 50]
    assert sorted(shards["shard"].unique()) == [0, 1, 2, 3]
    assert shards.groupby("cache_size")["misses"].sum().tolist() == curves["misses"].tolist()
    html = (out / "report.html").read_text()
    assert "Shards" in html


@pytest.mark.parametrize("method", ["shards", "mini"])
def test_cli_mrc_fleet_refuses_sampling(method):
    completed = cachetune("mrc", "-w", "zipf", "--requests", "100", "--shards", "2", "--method", method)
    assert_one_line_error(completed, "exact per shard")
