"""``cachetune optimize --trace access.log`` with no other option: the default path a user takes first."""

import json
import time

from tests.access_logs import write_combined_log
from tests.cli import cachetune
from tests.conftest import needs_jit

TWO_MINUTES = 120.0


@needs_jit
def test_plain_optimize_on_an_nginx_log_recommends_within_two_minutes(tmp_path):
    log = tmp_path / "access.log"
    written = write_combined_log(log, 200_000)
    # Compile every policy's kernel into numba's disk cache first (the enqueued first trials touch each one):
    # the time limit is for a user's run, not for the one-off compilation after an install or upgrade.
    warm = cachetune("optimize", "-w", "loop", "--objects", "50", "--requests", "500", "--trials", "20", cwd=tmp_path)
    assert warm.returncode == 0, warm.stderr
    began = time.monotonic()
    completed = cachetune("optimize", "--trace", str(log), cwd=tmp_path)
    seconds = time.monotonic() - began
    assert completed.returncode == 0, completed.stderr
    assert "cachetune optimize" in completed.stdout and "held out" in completed.stdout
    folder = max((tmp_path / "results").iterdir())
    best = json.loads((folder / "best.json").read_text())
    assert best["capacity_unit"] == "bytes" and 0 < best["capacity"] <= best["budget"]
    assert best["holdout_misses_per_hour"] is not None and best["trials"]["this_run"] == 100
    assert best["misses_per_hour"] <= best["lru"]["misses_per_hour"] * 1.01
    assert written["requests"] > 0 and seconds < TWO_MINUTES, f"took {seconds:.0f} s"
