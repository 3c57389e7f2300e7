"""The per-shard section of a sharded run's report: bench and mrc, self-contained and re-rendered from the files."""

import re

import pandas as pd
import pytest

from tests.cli import cachetune
from tests.report_runs import bench_run, rebuilt_copy
from tuner.reports.html import render_report
from tuner.reports.shards_page import imbalance

SMALL = ("--requests", "6000", "--objects", "600", "--policies", "lru,fifo")


def _charts(html: str) -> list[str]:
    return re.findall(r'<figure class="chart" data-chart="([^"]+)">', html)


@pytest.fixture(scope="module")
def fleet_bench(tmp_path_factory):
    return bench_run(tmp_path_factory.mktemp("bench"), *SMALL, "--shards", "3", "--shard-hash", "ketama")


def test_a_sharded_bench_writes_a_self_contained_report_with_its_shards(fleet_bench):
    html = (fleet_bench / "report.html").read_text()
    assert "http://" not in html and "https://" not in html and "<script src" not in html
    assert '<section id="shards"><h2>Shards</h2>' in html
    results = pd.read_csv(fleet_bench / "results.csv")
    sizes = [f"shards-objects-{size}" for size in results["cache_size"].unique()]
    assert [chart for chart in _charts(html) if chart.startswith("shards-")] == sizes  # a load chart per fleet size
    for shard in range(3):
        assert f"shard-{shard}" in html
    shards = pd.read_csv(fleet_bench / "shards.csv")
    table = imbalance(shards)
    assert len(table) == len(results)  # a row per (policy, fleet size)
    expected = shards.groupby(["policy", "cache_size"], sort=False)["imbalance_misses"].first().tolist()
    assert table["imbalance_misses"].tolist() == pytest.approx(expected)  # the same figure bench computed


def test_report_command_rebuilds_the_sharded_page_from_the_files_alone(fleet_bench, tmp_path):
    copy = rebuilt_copy(fleet_bench, tmp_path / "copy")
    (copy / "shards.csv").unlink()  # without the shards' file, the page is an ordinary bench page
    assert "Shards</h2>" not in render_report(copy)


def test_a_sharded_mrc_report_shows_each_shards_curve_beside_the_fleets(tmp_path):
    out = tmp_path / "mrc"
    completed = cachetune("mrc", "-w", "zipf", *SMALL, "--sizes", "30,120,600", "--shards", "2", "--out", str(out))
    assert completed.returncode == 0, completed.stderr
    html = (out / "report.html").read_text()
    charts = _charts(html)
    assert "shard-curves-lru-objects" in charts and "shard-curves-fifo-objects" in charts
    assert "A fleet of 2 shards (keys routed by redis-cluster)" in html
    assert 'data-series="fleet"' in html and 'data-series="shard-1"' in html
