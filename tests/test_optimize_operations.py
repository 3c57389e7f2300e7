"""``optimize`` over replay's operation settings: write policy, cache timeout, object size limit, dirty cap."""

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import tuner
from tuner.cli import app
from tuner.optimize import best_record
from tuner.optimize.operations import settings_of
from tuner.trace import GET, SET


@pytest.fixture(scope="module")
def writes():
    """Hot keys written every fourth request and read in between, cold keys read once; sizes vary."""
    n = 3000
    index = np.arange(n)
    keys = np.where(index % 2 == 1, index % 20, 1000 + index)
    ops = np.where((index % 2 == 1) & (index % 8 == 1), SET, GET)
    sizes = 100 + (keys % 7) * 900
    return tuner.Trace.from_arrays(keys, index.astype(float), sizes, ops, name="writes")


def test_write_policy_ttl_and_object_size_are_searched_and_recorded(writes):
    result = tuner.optimize(writes, budget="20KiB", trials=12, seed=1, policies="lru", tune_ttl=True, holdout=0.0)
    columns = set(result.trials.columns)
    assert {"write_policy", "ttl", "max_object_size"} <= columns
    assert set(result.trials["write_policy"].dropna()) <= {"write-through", "write-back", "write-around"}
    best = best_record(result)
    assert {"write_policy", "ttl", "max_object_size"} & set(best["params"]) or best["params"] == {}
    assert best["lru"]["params"] == settings_of(best["params"])


def test_the_backend_ops_objective_and_max_dirty(writes):
    result = tuner.optimize(writes, budget=30, trials=12, seed=2, policies="lru", objective="backend-ops",
                            write_policy="write-back", max_dirty=3, holdout=0.0)  # fmt: skip
    best = best_record(result)
    assert best["params"]["write_policy"] == "write-back" and best["max_dirty"] == 3
    rejected = result.trials[result.trials["state"] == "pruned"]
    assert len(rejected) and rejected["rejected"].str.contains("max_dirty 3").all()
    complete = result.trials[result.trials["state"] == "complete"]
    assert (complete["dirty_peak"] <= 3).all()
    assert complete["value"].tolist() == pytest.approx(complete["backend_ops_per_hour"].tolist())


def test_cli_optimize_takes_the_operation_flags(tmp_path, writes):
    lines = ["key,time,size,op"] + [
        f"k{key},{time},{size},{'set' if op == SET else 'get'}"
        for key, time, size, op in zip(writes.keys[writes.ids], writes.timestamps, writes.sizes, writes.ops,
                                       strict=True)
    ]  # fmt: skip
    trace = tmp_path / "writes.csv"
    trace.write_text("\n".join(lines) + "\n")
    done = CliRunner().invoke(app, ["optimize", "--trace", str(trace), "--op-col", "op", "--budget", "20KiB",
                                    "--trials", "8", "--policies", "lru", "--write-policy", "write-through",
                                    "--ttl", "600", "--max-object-size", "4KiB", "--holdout", "0",
                                    "--no-report", "--out", str(tmp_path / "run")])  # fmt: skip
    assert done.exit_code == 0, done.output
    best = json.loads((tmp_path / "run" / "best.json").read_text())
    assert best["params"] == {"write_policy": "write-through", "ttl": 600.0, "max_object_size": 4096}
    trials = pd.read_csv(tmp_path / "run" / "trials.csv")
    assert (trials["max_object_size"] == 4096).all() and (trials["ttl"] == 600).all()
