"""``cachetune optimize --trace access.log`` with no other option: the default path a user takes first."""

import json

from tests.access_logs import write_combined_log
from tests.cli import cachetune
from tests.conftest import needs_jit


@needs_jit
def test_plain_optimize_on_an_nginx_log_recommends(tmp_path):
    # Its time (a target of two minutes) is measured by benchmarks/bench_optimizer.py, not here.
    log = tmp_path / "access.log"
    write_combined_log(log, 200_000)
    completed = cachetune("optimize", "--trace", str(log), cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert "cachetune optimize" in completed.stdout and "held out" in completed.stdout
    folder = max((tmp_path / "results").iterdir())
    best = json.loads((folder / "best.json").read_text())
    assert best["capacity_unit"] == "bytes" and 0 < best["capacity"] <= best["budget"]
    assert best["holdout_misses_per_hour"] is not None and best["trials"]["this_run"] == 100
    assert best["misses_per_hour"] <= best["lru"]["misses_per_hour"] * 1.01
