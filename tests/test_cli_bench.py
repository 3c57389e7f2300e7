"""``cachetune bench``, ``generate`` and ``policies`` as a user runs them."""

import io
import json
import math

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import tuner
from tests.cli import assert_one_line_error, cachetune
from tuner.bench import RESULT_COLUMNS
from tuner.cli import app
from tuner.cli.output import _claim


def test_the_seed_loop_case(tmp_path):
    completed = cachetune("bench", "--workload", "loop", "--objects", "1000", "--requests", "100000",
                          "--size", "999", "--format", "csv", "--out", str(tmp_path))  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    table = pd.read_csv(io.StringIO(completed.stdout)).set_index("policy")
    assert table.loc["lru", "miss_ratio"] == 1.0
    assert table.loc["fifo", "miss_ratio"] == 1.0
    assert table.loc["mru", "miss_ratio"] <= 0.02
    assert table.loc["random", "miss_ratio"] <= 0.02


def test_out_folder_has_the_results_and_how_to_reproduce_them(tmp_path):
    completed = cachetune("bench", "-w", "zipf", "--requests", "20000", "--objects", "2000", "--size", "1%",
                          "--size", "64", "--policies", "lru,fifo", "--seed", "5", "--out", str(tmp_path))  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    table = pd.read_csv(tmp_path / "results.csv")
    assert set(RESULT_COLUMNS) <= set(table.columns)
    assert len(table) == 4 and set(table["policy"]) == {"lru", "fifo"}
    assert (table["hits"] + table["misses"] == table["requests"]).all()
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["command"] == "bench" and run["options"]["seed"] == 5
    assert run["trace"]["info"]["requests"] == 20000 and "numba" in run["versions"]
    assert "lru" in completed.stdout  # the table went to stdout


def test_json_format_is_clean_on_stdout(tmp_path):
    completed = cachetune("bench", "-w", "uniform", "--requests", "5000", "--objects", "100", "--size", "10",
                          "--policies", "lru", "--format", "json", "--out", str(tmp_path))  # fmt: skip
    rows = json.loads(completed.stdout)
    assert rows[0]["policy"] == "lru" and rows[0]["requests"] == 5000


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--workload", "nope"], "unknown workload"),
        (["--workload", "zipf", "--policies", "lru,belady2"], "--policies: unknown policy 'belady2'"),
        (["--workload", "zipf", "--size", "0"], "must be positive"),
        (["--workload", "zipf", "--size", "-3"], "cache size"),
        (["--workload", "zipf", "--alpha", "0"], "alpha must be positive"),
        (["--workload", "/no/such/spec.toml"], "cannot read workload spec"),
        (["--workload", "zipf", "--format", "xml"], "--format must be one of table, csv, json; got 'xml'"),
    ],
)
def test_bad_arguments_give_one_line_and_non_zero_exit(args, fragment, tmp_path):
    assert_one_line_error(cachetune("bench", *args, "--out", str(tmp_path)), fragment)


def test_policies_lists_every_policy_with_parameters():
    completed = cachetune("policies")
    assert completed.returncode == 0
    for name in tuner.POLICIES:
        assert name in completed.stdout


def _oracle_general(keys: np.ndarray, path) -> None:
    records = np.zeros(len(keys), np.dtype([("t", "<u4"), ("id", "<u8"), ("sz", "<u4"), ("nxt", "<i8")]))
    records["id"], records["sz"], records["nxt"] = keys + 1, 1, -1
    records.tofile(path)


def test_generated_trace_replays_like_the_workload_and_like_libcachesim(tmp_path):
    lcs = pytest.importorskip("libcachesim")
    options = ["--workload", "zipf", "--requests", "30000", "--objects", "5000", "--alpha", "0.9", "--seed", "11"]
    csv_path = tmp_path / "zipf.csv"
    assert cachetune("generate", *options, "-o", str(csv_path)).returncode == 0
    frame = pd.read_csv(csv_path)
    assert list(frame.columns) == ["timestamp", "key", "size"] and len(frame) == 30_000
    from_file = tuner.Trace.from_arrays(frame["key"].to_numpy(), frame["timestamp"].to_numpy(), frame["size"])
    sizes = ["50", "500", "2500"]
    completed = cachetune("bench", *options, "--policies", "lru,fifo", "--format", "csv", "--out", str(tmp_path),
                          *[arg for size in sizes for arg in ("--size", size)])  # fmt: skip
    from_workload = pd.read_csv(io.StringIO(completed.stdout))
    binary = tmp_path / "zipf.oracleGeneral.bin"
    _oracle_general(frame["key"].to_numpy(np.int64), binary)
    for size in sizes:
        for policy, name in (("lru", "LRU"), ("fifo", "FIFO")):
            ours = tuner.replay(from_file, policy, int(size)).misses
            row = from_workload[(from_workload["policy"] == policy) & (from_workload["cache_size"] == int(size))]
            assert int(row["misses"].iloc[0]) == ours
            reader = lcs.TraceReader(str(binary), lcs.TraceType.ORACLE_GENERAL_TRACE)
            miss_ratio, _ = getattr(lcs, name)(int(size), hashpower=16).process_trace(reader)
            assert math.isclose(miss_ratio * len(frame), ours, abs_tol=0.01)


def test_a_failed_run_leaves_no_folder_and_a_bad_out_fails_first(tmp_path):
    out = tmp_path / "run"
    assert_one_line_error(cachetune("bench", "--trace", str(tmp_path / "none.txt"), "--out", str(out)), "none.txt")
    assert not out.exists()
    a_file = tmp_path / "file"
    a_file.write_text("x")
    assert_one_line_error(cachetune("bench", "--workload", "nope", "--out", str(a_file / "sub")), "cannot create it")


def test_runs_started_in_the_same_second_get_folders_of_their_own(tmp_path):
    stem = tmp_path / "results" / "bench-20261126-120000"
    assert [_claim(stem).name for _ in range(3)] == [stem.name, f"{stem.name}-2", f"{stem.name}-3"]


def test_no_report_into_a_used_folder_removes_the_old_report(tmp_path):
    small = ("--workload", "zipf", "--requests", "2000", "--objects", "200", "--size", "20", "--out", str(tmp_path))
    assert cachetune("bench", *small, "--policies", "lru").returncode == 0
    assert (tmp_path / "report.html").is_file()
    assert cachetune("bench", *small, "--policies", "fifo", "--no-report").returncode == 0
    assert not (tmp_path / "report.html").exists()


def _hot_writes_csv(path) -> None:
    """Ten hot keys, each written every few requests and read in between, plus a stream of cold reads."""
    lines = ["key,time,size,op,ttl"]
    for i in range(2000):
        key, op = (f"hot{i % 10}", "set" if i % 4 == 1 else "get") if i % 2 else (f"cold{i}", "get")
        lines.append(f"{key},{i},100,{op},0")
    path.write_text("\n".join(lines) + "\n")


def test_bench_counts_backend_writes_and_write_back_saves_them(tmp_path):
    trace = tmp_path / "writes.csv"
    _hot_writes_csv(trace)
    tables = {}
    for write_policy in ("write-through", "write-back"):
        done = CliRunner().invoke(app, ["bench", "--trace", str(trace), "--op-col", "op", "--policies", "lru,fifo",
                                        "--size", "50", "--write-policy", write_policy, "--flush-interval", "60",
                                        "--ttl", "3600", "--max-object-size", "8MiB", "--format", "csv",
                                        "--out", str(tmp_path / write_policy)])  # fmt: skip
        assert done.exit_code == 0, done.output
        tables[write_policy] = pd.read_csv(io.StringIO(done.stdout)).set_index("policy")
    new = ["backend_reads", "backend_writes", "writebacks", "invalidations", "expirations", "rejected", "dirty_peak",
           "dirty_at_end", "backend_ops_per_hour"]  # fmt: skip
    assert set(new) <= set(tables["write-back"].columns)
    through, back = tables["write-through"], tables["write-back"]
    assert (back["backend_writes"] < through["backend_writes"]).all()
    assert (back["writebacks"] > 0).all() and (through["writebacks"] == 0).all()
    assert (back["backend_reads"] == back["misses"]).all()
    timeline = pd.read_csv(tmp_path / "write-back" / "timeline.csv")
    assert timeline.groupby("policy")["backend_writes"].sum().to_dict() == back["backend_writes"].to_dict()
    run = json.loads((tmp_path / "write-back" / "run.json").read_text())
    assert run["options"]["write_policy"] == "write-back" and run["options"]["max_object_size"] == 8 * 2**20


def test_the_bench_table_shows_backend_ops_only_for_traces_with_writes(tmp_path):
    trace, gets = tmp_path / "writes.csv", tmp_path / "gets.csv"
    _hot_writes_csv(trace)
    gets.write_text("".join(line.rsplit(",", 2)[0] + "\n" for line in trace.read_text().splitlines()))
    same = ["--policies", "lru", "--size", "50", "--ttl", "3600", "--max-object-size", "8MiB", "--no-report"]
    with_writes = CliRunner().invoke(app, ["bench", "--trace", str(trace), "--op-col", "op", *same,
                                           "--out", str(tmp_path / "w")])  # fmt: skip
    reads_only = CliRunner().invoke(app, ["bench", "--trace", str(gets), *same, "--out", str(tmp_path / "r")])
    assert "backend ops/h" in with_writes.stdout and "backend ops/h" not in reads_only.stdout


def test_a_bad_max_object_size_names_the_flag(tmp_path):
    done = cachetune("bench", "-w", "zipf", "--requests", "1000", "--max-object-size", "10%", "--out", str(tmp_path))
    assert_one_line_error(done, "--max-object-size must be a size in bytes")


def test_seeds_print_the_interval_and_write_its_columns(tmp_path):
    completed = cachetune("bench", "-w", "zipf", "--requests", "3000", "--objects", "300", "--rate", "0.2",
                          "--size", "20", "--policies", "lru,random", "--seeds", "3", "--out", str(tmp_path),
                          "--no-report")  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert "mean of 3 seeds ± half the 95% t interval" in completed.stdout
    assert "vs LRU" in completed.stdout
    table = pd.read_csv(tmp_path / "results.csv").set_index("policy")
    assert table.loc["random", "seeds"] == 3 and table.loc["lru", "seeds"] == 1
    assert table.loc["random", "misses_ci_low"] < table.loc["random", "misses"] < table.loc["random", "misses_ci_high"]
    assert table.loc["random", "vs_lru_ci_low"] <= table.loc["random", "misses_vs_lru"]
    assert table.loc["random", "misses_vs_lru"] <= table.loc["random", "vs_lru_ci_high"]
    assert json.loads((tmp_path / "run.json").read_text())["options"]["seeds"] == 3
    assert_one_line_error(
        cachetune("bench", "-w", "zipf", "--requests", "500", "--seeds", "0", "--out", str(tmp_path)), "--seeds must be"
    )


def test_a_piped_table_is_laid_out_whole_and_columns_still_set_the_width(tmp_path):
    run = ("bench", "--workload", "zipf", "--requests", "3000", "--objects", "300", "--policies", "lru,random",
           "--size", "5%", "--seeds", "3", "--no-report")  # fmt: skip
    piped = cachetune(*run, "--out", str(tmp_path / "piped"))
    assert piped.returncode == 0, piped.stderr
    table = [line for line in piped.stdout.splitlines() if line.startswith(("┃", "│"))]
    assert table and not any("…" in line for line in table)  # no cell cut short
    assert "vs LRU [95% CI]" in piped.stdout and 80 < max(len(line) for line in table) <= 200
    narrow = cachetune(*run, "--out", str(tmp_path / "narrow"), columns=60)
    assert max(len(line) for line in narrow.stdout.splitlines() if line.startswith(("┃", "│"))) <= 60
