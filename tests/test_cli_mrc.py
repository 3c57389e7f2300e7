"""``cachetune mrc`` as a user runs it: the curves it prints and saves are the library's, exactly."""

import io
import json
import math
import re

import numpy as np
import pandas as pd
import pytest

import tuner
from tests.cli import assert_one_line_error, cachetune
from tuner.mrc import default_sizes
from tuner.mrc.curve import COLUMNS

ZIPF = ("--workload", "zipf", "--requests", "20000", "--objects", "2000", "--seed", "7")


def _zipf() -> tuner.Trace:
    return tuner.generate("zipf", requests=20000, objects=2000, seed=7)


def test_exact_lru_curve_equals_replays_at_every_size(tmp_path):
    completed = cachetune("mrc", *ZIPF, "--method", "exact", "--format", "csv", "--out", str(tmp_path))
    assert completed.returncode == 0, completed.stderr
    curve = pd.read_csv(io.StringIO(completed.stdout))
    assert list(curve.columns) == COLUMNS and set(curve["policy"]) == {"lru"}  # lru alone: no OPT added
    trace = _zipf()
    assert len(curve) == len(default_sizes(trace, 20)) and (curve["method"] == "exact").all()
    assert curve["cache_size"].min() == max(round(trace.n_objects / 1000), 1)
    assert curve["cache_size"].max() == trace.n_objects
    replayed = [tuner.replay(trace, "lru", int(size)).misses for size in curve["cache_size"]]
    assert curve["misses"].tolist() == replayed
    pd.testing.assert_frame_equal(curve, tuner.miss_ratio_curve(trace, "lru", method="exact"), check_dtype=False)
    saved = pd.read_csv(tmp_path / "curves.csv")
    pd.testing.assert_frame_equal(saved, curve)
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["command"] == "mrc" and run["options"]["policies"] == ["lru"] and run["options"]["seed"] == 7
    assert (tmp_path / "report.html").is_file()


def test_other_policies_bring_opt_as_the_floor(tmp_path):
    completed = cachetune("mrc", *ZIPF, "--policies", "fifo,lru", "--sizes", "10,1%,64", "--format", "json",
                          "--out", str(tmp_path), "--no-report")  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    curves = pd.DataFrame(json.loads(completed.stdout))
    assert list(dict.fromkeys(curves["policy"])) == ["fifo", "lru", "opt"]
    trace = _zipf()
    assert sorted(set(curves["cache_size"])) == [10, math.ceil(trace.n_objects / 100), 64]
    by_size = curves.pivot(index="cache_size", columns="policy", values="misses")
    assert (by_size["opt"] <= by_size[["fifo", "lru"]].min(axis=1)).all()
    assert by_size["fifo"].tolist() == [tuner.replay(trace, "fifo", size).misses for size in by_size.index]
    assert not (tmp_path / "report.html").exists()
    without = cachetune("mrc", *ZIPF, "--policies", "fifo", "--no-opt", "--sizes", "3", "--format", "csv",
                        "--out", str(tmp_path))  # fmt: skip
    assert set(pd.read_csv(io.StringIO(without.stdout))["policy"]) == {"fifo"}


def test_table_and_sampled_methods(tmp_path):
    completed = cachetune("mrc", *ZIPF, "--policies", "lru,opt", "--sizes", "6", "--method", "mini",
                          "--sample-rate", "0.5", "--out", str(tmp_path))  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert "cache size" in completed.stdout and "opt" in completed.stdout and "how:" in completed.stdout
    curves = pd.read_csv(tmp_path / "curves.csv")
    assert set(curves["method"]) <= {"mini", "replay"} and np.isfinite(curves["miss_ratio"]).all()
    shards = cachetune("mrc", *ZIPF, "--method", "shards", "--sample-rate", "0.5", "--sizes", "4", "--format",
                       "csv", "--out", str(tmp_path))  # fmt: skip
    assert set(pd.read_csv(io.StringIO(shards.stdout))["method"]) == {"shards"}


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--workload", "nope"], "unknown workload"),
        (["--policies", "lru,belady2"], "--policies: unknown policy"),
        (["--sizes", "0"], "give 1 to"),
        (["--sizes", "1000000000000"], "give 1 to"),
        (["--sizes", "10,-3"], "cache size"),
        (["--sizes", "10,0"], "must be positive"),
        (["--method", "guess"], "--method must be one of"),
        (["--sample-rate", "2"], "--sample-rate must be in (0, 1]"),
        (["--policies", "fifo", "--method", "shards"], "--method 'shards' estimates LRU"),
        (["--format", "xml"], "--format must be one of"),
        (["--trace", "/no/such/trace.csv"], "not both"),
    ],
)
def test_bad_input_gives_one_line_and_non_zero_exit(args, fragment, tmp_path):
    base = ["--requests", "2000", "--objects", "200"]
    if "--workload" not in args:
        base = ["--workload", "zipf", *base]
    assert_one_line_error(cachetune("mrc", *base, *args, "--out", str(tmp_path)), fragment)


def test_missing_trace_file_fails_in_one_line(tmp_path):
    assert_one_line_error(cachetune("mrc", "--trace", str(tmp_path / "none.csv"), "--out", str(tmp_path)), "none.csv")


def test_a_trace_of_fewer_objects_than_default_points_gets_one_point_each(tmp_path):
    path = tmp_path / "three.txt"
    path.write_text("a\nb\na\nc\n")
    completed = cachetune("mrc", "--trace", str(path), "--format", "csv", "--out", str(tmp_path / "run"))
    assert completed.returncode == 0, completed.stderr
    assert pd.read_csv(io.StringIO(completed.stdout))["cache_size"].tolist() == [1, 2, 3]


def test_the_table_names_every_method_a_curve_used(tmp_path):
    # Miniature simulation replays sizes too small to sample in full: the footer says both.
    completed = cachetune("mrc", *ZIPF, "--policies", "arc", "--no-opt", "--method", "mini", "--sizes", "5,20%",
                          "--out", str(tmp_path), "--no-report")  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert re.search(r"how: arc exact, a replay per size, miniature simulation at rate 0\.\d+\n", completed.stdout)
