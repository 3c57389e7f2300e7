"""Each library command's result carries its tables and the arguments it ran with, which run.json records."""

import inspect
import json

import pandas as pd
import pytest

import tuner
from tests.cli import cachetune

# Arguments that say where the requests are, where to report progress or where to keep a study: not options.
NOT_OPTIONS = {"trace", "on_progress", "progress", "out"}


@pytest.fixture(scope="module")
def trace():
    return tuner.generate("zipf", requests=5_000, objects=500, seed=3)


def _arguments(function) -> set[str]:
    return set(inspect.signature(function).parameters) - NOT_OPTIONS


def test_each_result_records_every_argument_it_ran_with(trace):
    results = {
        tuner.bench: tuner.bench(trace, "lru,fifo", [10, "5%"], seed=2),
        tuner.miss_ratio_curves: tuner.miss_ratio_curves(trace, "lru,fifo", [10, 50]),
        tuner.analyze: tuner.analyze(trace, top=3),
        tuner.optimize: tuner.optimize(trace, trials=2, policies="lru,fifo", holdout=0.0),
    }
    for function, result in results.items():
        assert set(result.options) == _arguments(function), function.__name__
        assert all(isinstance(table, pd.DataFrame) for table in result.tables.values())
    assert results[tuner.bench].options["policies"] == ["lru", "fifo"]
    assert results[tuner.bench].options["sizes"] == ["10", "5%"]
    assert results[tuner.optimize].options["study_name"] == "cachetune"  # the default, filled in


def test_the_library_adds_the_floor_to_curves_beyond_lru(trace):
    compared = tuner.miss_ratio_curves(trace, "fifo,lru", [10, 50])
    assert list(dict.fromkeys(compared.table["policy"])) == ["fifo", "lru", "opt"]
    assert compared.options["policies"] == ["fifo", "lru", "opt"]
    fifo = compared.table[compared.table["policy"] == "fifo"].reset_index(drop=True)
    pd.testing.assert_frame_equal(fifo, tuner.miss_ratio_curve(trace, "fifo", [10, 50]))
    assert set(tuner.miss_ratio_curves(trace, "lru", [10]).table["policy"]) == {"lru"}  # LRU's one pass alone
    assert set(tuner.miss_ratio_curves(trace, "fifo", [10], with_floor=False).table["policy"]) == {"fifo"}


def test_run_json_holds_the_results_options_and_the_trace_path_as_given(tmp_path):
    path = tmp_path / "keys.txt"
    path.write_text("".join(f"k{index % 37}\n" for index in range(2_000)))
    out = tmp_path / "run"
    completed = cachetune("bench", "--trace", str(path), "--size", "10", "--policies", "lru", "--out", str(out))
    assert completed.returncode == 0, completed.stderr
    options = json.loads((out / "run.json").read_text())["options"]
    assert options == {"workload": None, "trace": str(path), "policies": ["lru"], "sizes": ["10"], "seed": 0,
                       "seeds": 1, "params": {}, "write_policy": "write-through", "ttl": None, "flush_interval": None,
                       "max_object_size": None, "jobs": None, "dask": None, "scratch": None}  # fmt: skip
