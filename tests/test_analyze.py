"""analyze: stack distances against a naive model and LRU itself, the Zipf fit, the working set, operations and
TTLs, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import zstandard
from typer.testing import CliRunner

import tuner
from tests.cli import cachetune
from tests.conftest import load_oracle_trace, needs_jit
from tuner.analyze import COLD, analyze, popularity_points, zipf_fit
from tuner.cli import app
from tuner.reports.html import render_report
from tuner.trace import DELETE, GET, SET, Trace


def naive_stack_distances(keys) -> list[int]:
    stack: list = []
    distances = []
    for key in keys:
        if key in stack:
            depth = stack.index(key)
            distances.append(depth)
            stack.pop(depth)
        else:
            distances.append(COLD)
        stack.insert(0, key)
    return distances


@pytest.mark.parametrize("capacity", [1, 2, 4, 16, 64])
def test_reuse_bands_give_lru_hits_where_they_end(capacity):
    trace = Trace.from_arrays(np.random.default_rng(4).zipf(1.3, 3000) % 200)
    table = analyze(trace).reuse_distance
    band = table[table["distance_to"] == capacity - 1]
    assert round(band["lru_hit_ratio"].item() * len(trace)) == tuner.replay(trace, "lru", capacity).hits


@needs_jit
def test_reuse_table_reproduces_published_lru_misses():
    table = analyze(load_oracle_trace()).reuse_distance
    at_128 = table[table["distance_to"] == 127]["lru_hit_ratio"].item()
    assert round((1 - at_128) * 113_872) == 99_411  # LRU, 128 objects (libCacheSim)


def test_zipf_fit_recovers_the_exponent():
    ranks = np.arange(1, 5001)
    counts = np.round(1e6 * ranks**-0.9).astype(np.int64)
    alpha, r_squared = zipf_fit(counts)
    assert alpha == pytest.approx(0.9, abs=0.02) and r_squared > 0.99


def test_summary_and_working_set_per_hour():
    keys = np.array([1, 2, 1, 3, 3, 4])
    times = np.array([0, 10, 3599, 3600, 3700, 7300.0])
    sizes = np.array([10, 20, 10, 5, 5, 1])
    result = analyze(Trace.from_arrays(keys, times, sizes), top=2)
    summary = result.summary
    assert (summary["requests"], summary["unique_objects"], summary["bytes"]) == (6, 4, 51)
    assert summary["span_hours"] == pytest.approx(7300 / 3600)
    assert summary["one_hit_wonder_ratio"] == 0.5
    assert result.working_set[["hour", "requests", "unique_objects", "unique_bytes"]].values.tolist() == [
        [0, 3, 2, 30], [1, 2, 1, 5], [2, 1, 1, 1],
    ]  # fmt: skip
    assert result.top_keys["key"].tolist() == ["1", "3"]
    json.dumps(result.to_dict(), allow_nan=False)  # NaN-free, plain values


def test_cli_json_has_the_promised_fields(tmp_path, monkeypatch):
    monkeypatch.setenv("CACHETUNE_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "t.csv"
    path.write_text("time,key,size\n0,a,1\n1800,b,2\n3600,a,1\n")
    out = tmp_path / "run"
    done = CliRunner().invoke(app, ["analyze", "--trace", str(path), "--format", "json", "--out", str(out),
                                    "--no-report"])  # fmt: skip
    assert done.exit_code == 0, done.output
    printed = json.loads(done.stdout[done.stdout.index("{") :])
    assert {k: printed[k] for k in ("requests", "unique_objects", "bytes", "span_hours", "skipped_lines")} == {
        "requests": 3, "unique_objects": 2, "bytes": 4, "span_hours": 1.0, "skipped_lines": 0,
    }  # fmt: skip
    assert {"run.json", "summary.csv", "reuse_distance.csv", "working_set.csv", "top_keys.csv",
            "popularity.csv"} <= {p.name for p in out.iterdir()}  # fmt: skip


def _no_constants(name: str):
    raise AssertionError(f"{name} is not JSON")


def test_report_json_of_a_one_object_trace_is_valid_json(tmp_path, monkeypatch):
    monkeypatch.setenv("CACHETUNE_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "t.csv"
    path.write_text("time,key,size\n0,a,1\n0,a,1\n")  # one object, no time span: no Zipf fit, no request rate
    out = tmp_path / "run"
    done = CliRunner().invoke(app, ["analyze", "--trace", str(path), "--out", str(out), "--no-report"])
    assert done.exit_code == 0, done.output
    printed = CliRunner().invoke(app, ["report", str(out), "--format", "json"])
    assert printed.exit_code == 0, printed.output
    summary = json.loads(printed.stdout, parse_constant=_no_constants)["run"]["summary"]
    assert summary["zipf_alpha"] is None and summary["requests_per_second"] is None and summary["requests"] == 2


def test_popularity_points_span_every_rank_log_spaced():
    counts = np.concatenate([np.round(1e5 * np.arange(1, 10_001) ** -0.8).astype(np.int64), [0, 0]])
    points = popularity_points(np.random.default_rng(1).permutation(counts))
    ranks = points["rank"].to_numpy()
    assert list(points.columns) == ["rank", "requests"] and 150 <= len(points) <= 200
    assert ranks[0] == 1 and ranks[-1] == 10_000 and (np.diff(ranks) > 0).all()  # objects never requested: no rank
    assert (points["requests"].to_numpy() == counts[ranks - 1]).all()
    assert np.diff(np.log(ranks[-50:])).std() < 0.01  # evenly spaced in log rank where ranks are not crowded
    assert popularity_points(np.array([5, 3])).values.tolist() == [[1, 5], [2, 3]]


def test_cli_writes_the_rank_frequency_points_and_the_report(tmp_path):
    completed = cachetune("analyze", "--workload", "zipf", "--requests", "20000", "--objects", "5000", "--out",
                          str(tmp_path))  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    saved = pd.read_csv(tmp_path / "popularity.csv")
    expected = analyze(tuner.generate("zipf", requests=20000, objects=5000)).popularity
    pd.testing.assert_frame_equal(saved, expected)
    summary = json.loads((tmp_path / "run.json").read_text())["summary"]
    assert len(saved) > 100 and saved["rank"].max() == summary["unique_objects"]
    assert "requests per object (sampled ranks)" in (tmp_path / "report.html").read_text()


@pytest.mark.parametrize("seed", range(4))
def test_median_and_reuse_bands_match_numpy(seed):
    """Both come from one count of requests per distance; np.median and a per-request count are the references."""
    rng = np.random.default_rng(seed)
    trace = tuner.Trace.from_arrays(rng.integers(0, int(rng.integers(2, 300)), int(rng.integers(2, 3000))))
    distances = np.array(naive_stack_distances(trace.ids.tolist()))
    reused = distances[distances != COLD]
    result = analyze(trace)
    assert result.summary["median_reuse_distance"] == (float(np.median(reused)) if len(reused) else None)
    for row in result.reuse_distance.itertuples():
        inside = distances == COLD if row.distance_from == COLD else (
            (distances >= row.distance_from) & (distances <= row.distance_to))  # fmt: skip
        assert row.requests == np.count_nonzero(inside)


def test_cli_refuses_a_negative_top(tmp_path):
    done = CliRunner().invoke(app, ["analyze", "--workload", "zipf", "--requests", "500", "--top", "-3",
                                    "--out", str(tmp_path)])  # fmt: skip
    assert done.exit_code == 2 and "--top" in done.output


def test_operation_mix_write_ratio_and_ttls():
    ops = [GET, SET, GET, DELETE, SET, GET, GET, SET, GET, GET]
    ttls = [0, 60, 0, 0, 3600, 0, 0, 30, 0, 0]
    summary = analyze(Trace.from_arrays(list("abcabcabca"), ops=ops, ttls=ttls)).summary
    assert {key: summary[key] for key in ("gets", "sets", "deletes")} == {"gets": 6, "sets": 3, "deletes": 1}
    assert (summary["get_share"], summary["set_share"], summary["delete_share"]) == (0.6, 0.3, 0.1)
    assert summary["write_ratio"] == pytest.approx(0.4) and summary["ttl_share"] == 0.3
    given = np.array([60.0, 3600.0, 30.0])
    assert (summary["ttl_min_seconds"], summary["ttl_max_seconds"]) == (30.0, 3600.0)
    assert summary["ttl_median_seconds"] == np.median(given) == 60.0
    assert summary["ttl_p90_seconds"] == pytest.approx(np.quantile(given, 0.9))
    assert analyze(Trace.from_arrays(list("ab"), ops=[SET, SET])).summary["write_ratio"] == 1.0


def test_a_read_only_trace_without_ttls():
    result = analyze(Trace.from_arrays(list("abca")))
    summary = result.summary
    assert (summary["gets"], summary["sets"], summary["deletes"], summary["write_ratio"]) == (4, 0, 0, 0.0)
    assert summary["ttl_share"] == 0.0 and np.isnan(summary["ttl_median_seconds"])
    assert result.to_dict()["ttl_p90_seconds"] is None  # NaN is null in run.json
    assert {"gets", "write_ratio", "ttl_share", "ttl_max_seconds"} <= set(result.table.columns)


TWITTER_LINES = (
    "0,nz:a,4,96,1,get,0\n1,nz:b,4,46,1,set,3600\n2,nz:a,4,96,1,gets,0\n3,nz:c,4,16,1,add,60\n"
    "4,nz:b,4,46,1,delete,0\n5,nz:a,4,96,1,get,0\n6,nz:c,4,16,1,incr,600\n7,nz:a,4,96,1,stats,0\n"
)


def test_cli_prints_the_operation_mix_and_ttls_of_a_twitter_trace(tmp_path):
    path = tmp_path / "cluster52.0.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress(TWITTER_LINES.encode()))
    out = tmp_path / "run"
    done = CliRunner().invoke(app, ["analyze", "--trace", str(path), "--trace-format", "twitter", "--out", str(out)])
    assert done.exit_code == 0, done.output
    printed = " ".join(done.stdout.split())
    for row in ("GET │ 3 │ 0.4286", "SET │ 3 │ 0.4286", "DELETE │ 1 │ 0.1429", "(SET + DELETE) │ 4 │ 0.5714"):
        assert row in printed, row
    assert "this trace has writes: 57.1% of requests are SETs or DELETEs" in printed
    assert "TTLs (seconds)" in printed and "requests with a TTL (share) │ 0.4286" in printed
    assert "shortest │ 60.0" in printed and "median │ 600.0" in printed and "longest │ 3,600.0" in printed
    assert "skipped 1 of 8 lines: 1 unknown operation" in " ".join(done.stderr.split())
    html = (out / "report.html").read_text()
    assert 'id="operations"' in html and "Reads, writes and TTLs" in html and 'id="ttls"' in html
    assert "this trace has writes" in html


def test_cli_reads_csv_operations_and_ttls_by_column_and_leaves_ttls_out_without_them(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,GET,0\nb,Set,30\na,del,0\nb,get,0\n")
    out = tmp_path / "run"
    done = CliRunner().invoke(app, ["analyze", "--trace", str(path), "--op-col", "2", "--ttl-col", "3", "--format",
                                    "json", "--out", str(out)])  # fmt: skip
    assert done.exit_code == 0, done.output
    printed = json.loads(done.stdout[done.stdout.index("{") :])
    assert (printed["gets"], printed["sets"], printed["deletes"], printed["write_ratio"]) == (2, 1, 1, 0.5)
    assert printed["ttl_share"] == 0.25 and printed["ttl_max_seconds"] == 30.0
    reads = CliRunner().invoke(app, ["analyze", "--trace", str(path), "--out", str(tmp_path / "reads")])
    assert reads.exit_code == 0, reads.output
    assert "reads only: every request is a GET" in reads.stdout and "TTLs (seconds)" not in reads.stdout
    html = render_report(tmp_path / "reads")
    assert "reads only: every request is a GET" in html and 'id="ttls"' not in html
