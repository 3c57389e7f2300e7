"""The bench report's backend reads and writes per hour: shown for traces with writes, drawn from the replays."""

import json
import re
import shutil

import numpy as np
import pandas as pd
import pytest

from tests.cli import cachetune
from tests.report_runs import bench_writes_run
from tuner import Trace, bench, parse_capacity, replay
from tuner.reports.files import run_record, write_tables
from tuner.reports.html import render_report, write_report
from tuner.trace import DELETE, GET, SET

POLICIES = ("lru", "fifo", "opt")
SIZES = ("5%", "20%")
OPERATIONS = {"write_policy": "write-back", "flush_interval": 1800.0}


def _trace(ops: np.ndarray | None) -> Trace:
    """2,500 requests to 200 skewed keys, 5 s apart (about 3.5 hours, so four hourly windows, the last partial)."""
    rng = np.random.default_rng(11)
    keys = rng.zipf(1.3, 2500) % 200
    return Trace.from_arrays(keys, np.arange(2500) * 5.0, ops=ops, name="mixed" if ops is not None else "reads")


def _mixed_ops() -> np.ndarray:
    return np.random.default_rng(12).choice([GET, SET, DELETE], 2500, p=[0.75, 0.2, 0.05]).astype(np.int8)


def _bench_folder(folder, trace: Trace):
    """What ``cachetune bench --out`` writes for ``trace``: the run's files and the report rendered from them."""
    result = bench(trace, list(POLICIES), SIZES, **OPERATIONS)
    folder.mkdir()
    write_tables(folder, run_record("bench", result.options, trace), result.tables)
    write_report(folder)
    return folder


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    trace = _trace(_mixed_ops())
    return trace, _bench_folder(tmp_path_factory.mktemp("backend") / "mixed", trace)


def _charts(html: str) -> dict[str, str]:
    return dict(re.findall(r'<figure class="chart" data-chart="([^"]+)">(.*?)</figure>', html, re.S))


def _series(chart: str) -> dict[str, dict[str, list[float]]]:
    """Each series' exact figures, from the data attributes the chart puts on its group."""
    found = {}
    for name, attributes in re.findall(r'<g class="series" data-series="([^"]+)"([^>]*)>', chart):
        figures = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', attributes))
        found[name] = {key: [float(value) for value in text.split()] for key, text in figures.items()}
    return found


def test_a_trace_with_writes_gets_backend_reads_and_writes_per_hour_for_every_policy(mixed):
    trace, folder = mixed
    html = (folder / "report.html").read_text()
    charts = _charts(html)
    capacities = [parse_capacity(size, trace.n_objects).amount for size in SIZES]
    expected = [f"{kind}-objects-{amount}" for amount in capacities for kind in ("backend-reads", "backend-writes")]
    assert [name for name in charts if name.startswith("backend-")] == expected  # reads then writes, per size
    assert not any(name.startswith("timeline-") for name in charts)  # the reads chart draws the misses timeline
    assert "Backend reads and writes over time" in html
    assert "reads are GET misses, writes are the SETs and DELETEs passed on" in html
    span_hours = trace.span_seconds / 3600
    writes_seen = set()
    for size, amount in zip(SIZES, capacities, strict=True):
        for policy in POLICIES:
            result = replay(trace, policy, size, **OPERATIONS)
            for kind, per_window in (("reads", result.window_misses), ("writes", result.window_backend_writes)):
                chart = charts[f"backend-{kind}-objects-{amount}"]
                series = _series(chart)
                assert set(series) == set(POLICIES), kind
                figures = series[policy]
                assert figures["counts"] == [float(count) for count in per_window], (policy, size, kind)
                edges = figures["edges"]
                assert edges[:-1] == [float(hour) for hour in range(len(per_window))]
                assert edges[-1] == pytest.approx(span_hours)
                widths = np.diff(edges)
                assert figures["per-hour"] == pytest.approx(np.asarray(per_window) / widths, rel=1e-12)
                # The hover text of each drawn point says the same figure, rounded.
                group = re.search(rf'data-series="{policy}"[^>]*>(.*?)</g>', chart).group(1)
                hovers = re.findall(r"<title>[^<]*: ([0-9,]+) backend " + kind + "/h</title>", group)
                assert hovers == [f"{rate:,.0f}" for rate in figures["per-hour"]]
            assert sum(result.window_backend_writes) == result.backend_writes
            writes_seen.add(tuple(result.window_backend_writes))
    assert len(writes_seen) > 1  # under write-back the write lines differ between policies and sizes


def test_a_read_only_trace_keeps_the_misses_timeline_and_no_backend_charts(tmp_path):
    folder = _bench_folder(tmp_path / "reads", _trace(None))
    html = (folder / "report.html").read_text()
    assert json.loads((folder / "run.json").read_text())["trace"]["has_writes"] is False
    charts = _charts(html)
    assert not any(name.startswith("backend-") for name in charts)
    assert len([name for name in charts if name.startswith("timeline-")]) == 2
    assert "Backend reads" not in html and "data-counts" not in html


def test_a_run_recorded_before_has_writes_is_judged_by_its_results(mixed, tmp_path):
    _, folder = mixed
    copy = shutil.copytree(folder, tmp_path / "older")
    run = json.loads((copy / "run.json").read_text())
    del run["trace"]["has_writes"]
    (copy / "run.json").write_text(json.dumps(run))
    assert render_report(copy) == (folder / "report.html").read_text()
    results = pd.read_csv(copy / "results.csv")
    # Write-back with nothing written yet: no backend writes, but dirty objects say the trace wrote.
    results.assign(backend_writes=0).to_csv(copy / "results.csv", index=False)
    assert "backend-writes-" in render_report(copy)
    results.assign(backend_writes=0, dirty_peak=0).to_csv(copy / "results.csv", index=False)
    assert "backend-writes-" not in render_report(copy)
    results.drop(columns=["backend_writes", "dirty_peak"]).to_csv(copy / "results.csv", index=False)
    assert "backend-writes-" not in render_report(copy)


def test_the_caption_says_write_lines_coincide_when_no_policy_can_change_the_writes(mixed, tmp_path):
    _, folder = mixed
    assert "lie on one another" not in (folder / "report.html").read_text()  # write-back: they differ
    copy = shutil.copytree(folder, tmp_path / "through")
    run = json.loads((copy / "run.json").read_text())
    run["options"]["write_policy"] = "write-through"
    (copy / "run.json").write_text(json.dumps(run))
    assert "Under write-through every policy writes the same" in render_report(copy)


def test_cachetune_report_rebuilds_the_backend_charts_from_the_run_files(tmp_path):
    folder = bench_writes_run(tmp_path / "run")
    first = (folder / "report.html").read_bytes()
    charts = _charts(first.decode())
    assert [name for name in charts if name.startswith("backend-")] == [
        "backend-reads-objects-30", "backend-writes-objects-30", "backend-reads-objects-120",
        "backend-writes-objects-120",
    ]  # fmt: skip
    timeline = pd.read_csv(folder / "timeline.csv")
    for name, chart in charts.items():
        if not name.startswith("backend-"):
            continue
        column = "misses" if name.startswith("backend-reads") else "backend_writes"
        size = int(name.rsplit("-", 1)[1])
        for policy, figures in _series(chart).items():
            rows = timeline[(timeline["policy"] == policy) & (timeline["cache_size"] == size)]
            assert figures["counts"] == rows.sort_values("window_start_hours")[column].astype(float).tolist()
    (folder / "report.html").unlink()
    again = cachetune("report", str(folder))
    assert again.returncode == 0, again.stderr
    assert (folder / "report.html").read_bytes() == first
