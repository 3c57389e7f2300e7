"""``report.html`` from a run's files: self-contained, complete, and the same page when re-rendered."""

import itertools
import json
import math
import re
import shutil
from html.parser import HTMLParser

import pandas as pd
import pytest

from tests.cli import assert_one_line_error, cachetune
from tests.report_runs import analyze_run, bench_run, mrc_run, optimize_run, rebuilt_copy
from tuner.errors import CachetuneError
from tuner.policies import POLICIES
from tuner.reports import bench_page, mrc_page, optimize_page
from tuner.reports.charts import Axis, Series, _linear_ticks, _log_ticks, format_bytes, format_number, line_chart
from tuner.reports.html import render_report, write_report
from tuner.reports.palette import POLICY_COLOURS, policy_colour

SMALL = ("--requests", "6000", "--objects", "600", "--policies", "lru,fifo,mru,opt")


@pytest.fixture(scope="module")
def bench_folder(tmp_path_factory):
    return bench_run(tmp_path_factory.mktemp("bench"), *SMALL)


class _Elements(HTMLParser):
    """Every start tag with its attributes, to look for anything that would load from elsewhere."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _charts(html: str) -> list[str]:
    return re.findall(r'<figure class="chart" data-chart="([^"]+)">', html)


def test_bench_writes_a_self_contained_report(bench_folder):
    html = (bench_folder / "report.html").read_text()
    assert "http://" not in html and "https://" not in html
    parser = _Elements()
    parser.feed(html)
    loading = [(tag, attrs) for tag, attrs in parser.tags if {"src", "href"} & set(attrs) or tag in ("link", "iframe")]
    assert not loading, loading
    charts = _charts(html)
    assert charts[:2] == ["miss-ratio-bars", "miss-ratio-curves-objects"]
    assert len([chart for chart in charts if chart.startswith("timeline-")]) == 3
    assert "<table" in html and html.count("<tr>") == 1 + 4 * 3  # header + every (policy, size)
    for text in ("cachetune bench --workload zipf", "span", "numba", "miss ratio (misses ÷ requests)",
                 "cache size (objects, log scale)", "trace time (hours)", "misses per hour"):  # fmt: skip
        assert text in html, text


def test_report_command_rebuilds_the_same_page_from_the_files_alone(bench_folder, tmp_path):
    rebuilt_copy(bench_folder, tmp_path / "copy")


def test_no_report_skips_the_page(tmp_path):
    completed = cachetune("bench", "-w", "zipf", "--size", "5%", *SMALL, "--no-report", "--out", str(tmp_path))
    assert completed.returncode == 0, completed.stderr
    assert (tmp_path / "results.csv").exists() and not (tmp_path / "report.html").exists()


def test_one_colour_per_policy_across_charts(bench_folder):
    html = (bench_folder / "report.html").read_text()
    for policy in ("lru", "fifo", "mru", "opt"):
        groups = re.findall(rf'<g class="series" data-series="{policy}">(.*?)</g>', html)
        colours = {colour for group in groups for colour in re.findall(r'(?:fill|stroke)="(#[0-9A-Fa-f]{6})"', group)}
        assert colours == {policy_colour(policy)}, (policy, colours)
    assert set(POLICIES) <= set(POLICY_COLOURS)  # every registered policy has a colour of its own
    assert len({policy_colour(p) for p in POLICIES}) == len(POLICIES)


def test_missing_optional_files_leave_their_charts_out(bench_folder, tmp_path):
    copy = shutil.copytree(bench_folder, tmp_path / "copy")
    (copy / "timeline.csv").unlink()
    results = pd.read_csv(copy / "results.csv")
    results[results["size_spec"] == "5%"].to_csv(copy / "results.csv", index=False)
    charts = _charts(render_report(copy))
    assert charts == ["miss-ratio-bars"]  # one size: no curves; no timeline file: no timeline


def test_report_formats_print_the_files(bench_folder):
    as_csv = cachetune("report", str(bench_folder), "--format", "csv")
    assert as_csv.returncode == 0 and as_csv.stdout == (bench_folder / "results.csv").read_text()
    as_json = json.loads(cachetune("report", str(bench_folder), "--format", "json").stdout)
    assert as_json["run"]["command"] == "bench" and len(as_json["results"]) == 12 and as_json["timeline"]


def test_bad_folders_fail_in_one_line(tmp_path):
    assert_one_line_error(cachetune("report", str(tmp_path / "nowhere")), "not a folder")
    assert_one_line_error(cachetune("report", str(tmp_path)), "run.json not found")
    (tmp_path / "run.json").write_text('{"command": "dance"}')
    assert_one_line_error(cachetune("report", str(tmp_path)), "no report for command 'dance'")
    (tmp_path / "run.json").write_text('{"command": "bench"}')
    assert_one_line_error(cachetune("report", str(tmp_path)), "results.csv is missing")
    (tmp_path / "run.json").write_text("{")
    assert_one_line_error(cachetune("report", str(tmp_path)), "not valid JSON")
    with pytest.raises(CachetuneError, match=r"run\.json not found"):
        write_report(tmp_path / "nowhere")


def test_axis_ticks_are_round_numbers():
    assert _linear_ticks([0.13, 0.87], zero=True) == (0.0, 1.0, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0])
    low, high, ticks = _log_ticks([806, 8052])
    assert ticks == [1000, 2000, 5000, 10000] and low < 806 and high > 8052
    assert _log_ticks([10, 1e6])[2] == [10, 100, 1000, 1e4, 1e5, 1e6]
    assert format_number(126779.7) == "127k"
    assert format_number(0.25) == "0.25" and format_number(2_500_000) == "2.5M"
    assert format_bytes(64 * 2**20) == "64 MiB" and format_bytes(512) == "512 B"


def test_line_chart_skips_points_a_log_axis_cannot_show():
    chart = line_chart("c", "T", [Series("lru", [0, 10, 100], [0.5, 0.4, 0.3], "#000")], Axis("x", log=True),
                       Axis("y", zero=True))  # fmt: skip
    assert chart.count("<circle") == 2 and "NaN" not in chart and "inf" not in chart


def _same_page_again(folder) -> str:
    first = (folder / "report.html").read_text()
    completed = cachetune("report", str(folder))
    assert completed.returncode == 0, completed.stderr
    assert (folder / "report.html").read_text() == first
    assert "http://" not in first and "https://" not in first
    return first


def test_optimize_report_shows_the_recommendation_and_the_evidence(tmp_path):
    folder = optimize_run(tmp_path, requests=6000, trials=10)
    html = _same_page_again(folder)
    assert 'id="recommendation"' in html and "held-out part" in html and "fewer misses than LRU" in html
    assert _charts(html) == ["optimization-history", "pareto-front", "parameter-importances"]
    assert 'id="pareto"' in html and 'id="top"' in html
    (folder / "pareto.csv").unlink()
    (folder / "best.json").unlink()
    html = render_report(folder)  # an interrupted or older run: what there is
    assert _charts(html)[:2] == ["optimization-history", "trials-by-capacity"] and "best.json is missing" in html


def test_analyze_report_shows_popularity_reuse_and_hours(tmp_path):
    html = _same_page_again(analyze_run(tmp_path))
    assert _charts(html) == ["popularity", "reuse-distance", "lru-hit-ratio", "hourly"]
    assert "fitted Zipf, α = " in html and "Zipf exponent α" in html and "one-hit wonders" in html
    assert "requests per object (sampled ranks)" in html  # analyze writes popularity.csv, spanning every rank
    (tmp_path / "popularity.csv").unlink()  # an older run: the top keys only
    assert "requests per object (top keys only)" in render_report(tmp_path)


def test_mrc_report_draws_one_curve_per_policy_with_opt_dashed(tmp_path):
    html = _same_page_again(mrc_run(tmp_path))
    assert _charts(html) == ["miss-ratio-curves-objects"]
    assert "cache size (objects, log scale)" in html and "OPT = Belady&#x27;s optimal floor" in html
    for policy in ("lru", "fifo", "opt"):
        group = re.search(rf'<g class="series" data-series="{policy}[^"]*">(.*?)</g>', html).group(1)
        assert policy_colour(policy) in group and ("stroke-dasharray" in group) == (policy == "opt"), policy
    assert html.count("<tr>") == 1 + 3 * 10  # header + every (policy, size)
    assert "3 policies × 10 cache sizes" in html


def _run_folder(folder, command: str, **tables: str):
    """A run folder written by hand: ``run.json`` naming the command and each CSV given as text."""
    folder.mkdir(exist_ok=True)
    (folder / "run.json").write_text(json.dumps({"command": command}))
    for name, text in tables.items():
        (folder / f"{name}.csv").write_text(text)
    return folder


def test_hourly_chart_draws_hours_without_requests_at_zero(tmp_path):
    folder = _run_folder(tmp_path, "analyze", working_set="hour,requests,unique_objects\n0,360,40\n5,120,30\n")
    chart = re.search(r'data-chart="hourly">(.*?)</figure>', render_report(folder), re.S).group(1)
    requests = re.search(r'data-series="requests">(.*?)</g>', chart).group(1)
    circles = re.findall(r'<circle cx="([0-9.]+)"[^>]*><title>([^<]*)</title>', requests)
    assert [title for _, title in circles] == [f"hour {h}: {n} requests" for h, n in enumerate([360, 0, 0, 0, 0, 120])]
    gaps = [float(b) - float(a) for (a, _), (b, _) in itertools.pairwise(circles)]
    assert max(gaps) - min(gaps) < 0.2  # one hover per hour, each at its own hour's middle (to SVG rounding)


def test_subtitles_name_the_timeout_and_count_in_the_singular():
    options = {"objective": "misses", "budget": "10%", "trials": None, "timeout": 30.0}
    assert optimize_page.subtitle({"options": options}) == "objective misses, budget 10%, timeout 30 s"
    assert optimize_page.subtitle({"options": {**options, "trials": 1, "timeout": None}}).endswith(", 1 trial")
    one = {"options": {"policies": ["lru"], "sizes": ["5%"]}}
    assert mrc_page.subtitle(one) == bench_page.subtitle(one) == "1 policy × 1 cache size"


def test_byte_sizes_carry_their_unit_once(tmp_path):
    curves = "policy,size_unit,cache_size,miss_ratio,method,sample_rate\n"
    curves += "".join(f"lru,{unit},{size},0.5,exact,1\n" for unit in ("bytes", "objects") for size in (64 << 20, 1000))
    html = render_report(_run_folder(tmp_path / "mrc", "mrc", curves=curves))
    assert (
        "lru at 64 MiB: miss ratio" in html and "lru at 1,000 objects: miss ratio" in html and "MiB bytes" not in html
    )
    results = "policy,params,size_unit,cache_size,size_spec,miss_ratio,misses_per_hour,byte_miss_ratio\n"
    results += "lru,{},bytes,67108864,64MiB,0.5,10,0.5\nlru,{},objects,1000,5%,0.5,10,0.5\n"
    timeline = "policy,size_unit,cache_size,window_start_hours,misses\n"
    timeline += "".join(f"lru,{unit},{size},{hour},5\n" for unit, size in (("bytes", 64 << 20), ("objects", 1000))
                        for hour in (0, 1))  # fmt: skip
    html = render_report(_run_folder(tmp_path / "bench", "bench", results=results, timeline=timeline))
    assert "cache 64MiB = 64 MiB</text>" in html and "cache 5% = 1,000 objects</text>" in html


@pytest.mark.parametrize(
    ("command", "name", "text", "missing"),
    [
        ("mrc", "curves", "a,b\n1,2\n", "columns 'policy', 'size_unit', 'cache_size'"),
        (
            "bench",
            "results",
            "policy,size_unit,cache_size,size_spec,miss_ratio,misses_per_hour,byte_miss_ratio\n"
            "lru,objects,10,10,0.5,1,0.5\n",
            "column 'params'",
        ),
        ("analyze", "working_set", "requests,unique_objects\n3,2\n", "column 'hour'"),
        ("optimize", "trials", "a,b\n1,2\n", "columns 'number', 'policy', 'capacity'"),
    ],
)
def test_a_table_without_a_column_the_report_reads_fails_in_one_line(tmp_path, command, name, text, missing):
    _run_folder(tmp_path, command, **{name: text})
    assert_one_line_error(cachetune("report", str(tmp_path)), f"{name}.csv has no {missing}")


def _series_groups(html: str, chart: str) -> dict[str, str]:
    figure = re.search(rf'<figure class="chart" data-chart="{chart}">(.*?)</figure>', html, re.S).group(1)
    return dict(re.findall(r'<g class="series" data-series="([^"]+)"[^>]*>(.*?)</g>', figure, re.S))


def test_bench_seeds_draw_error_bars_for_randomized_policies_only(tmp_path):
    folder = bench_run(tmp_path, "--requests", "6000", "--objects", "600", "--policies", "lru,random", "--seeds", "3")
    html = (folder / "report.html").read_text()
    results = pd.read_csv(folder / "results.csv")
    sizes = results["cache_size"].nunique()
    assert sizes == 3 and set(results.loc[results["policy"] == "random", "seeds"]) == {3}
    for chart in ("miss-ratio-bars", "miss-ratio-curves-objects"):
        groups = _series_groups(html, chart)
        assert groups["random"].count('class="error-bar"') == sizes  # one per size
        assert "error-bar" not in groups["lru"]  # deterministic: exact, no bar
    assert "Error bars: the 95% interval" in html


def test_an_error_bar_spans_its_interval_and_none_is_drawn_without_one():
    series = Series("random", [1.0, 2.0, 3.0], [0.5, 0.4, 0.3], "#123456",
                    errors=[(0.45, 0.55), (math.nan, math.nan), (0.3, 0.3)])  # fmt: skip
    svg = line_chart("c", "t", [series], Axis("x"), Axis("y", zero=True))
    bars = re.findall(r'class="error-bar" d="M([\d.]+),([\d.]+)V([\d.]+)', svg)
    assert len(bars) == 1
    circles = re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)"', svg)
    x, low, high = (float(v) for v in bars[0])
    assert x == float(circles[0][0]) and high < float(circles[0][1]) < low  # around the point, low below it
    assert float(circles[0][1]) == pytest.approx((low + high) / 2, abs=0.2)
