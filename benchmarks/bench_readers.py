"""Trace reading speed: access logs against a regex loop, CSV rows per second, the parsed-trace cache.

In one process, on files generated into a temporary folder:

1. ``analyze(read_trace(log))`` on a combined log of ``--log-lines`` lines
   against a plain Python loop that applies one compiled regex per line over
   the same file and interns the paths in a dict (it computes far less);
2. ``read_trace`` on a CSV of ``--csv-rows`` rows (timestamp,key,size);
3. the first ``read_trace`` of the log with the parsed-trace cache (parse and
   store) against the second (load).

Kernels are compiled on a small file first, so the timings exclude numba's
one-off compilation; each timing is the best of ``--repeat`` runs.

    python benchmarks/bench_readers.py [--log-lines N] [--csv-rows N] [--repeat K]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.access_logs import write_combined_log
from tuner import analyze, read_trace

LINE = re.compile(rb'^(\S+) \S+ \S+ \[([^\]]+)\] "(\S+) (\S+)[^"]*" (\d{3}) (\d+|-)')


def regex_loop(path: Path) -> int:
    """The baseline: one compiled regex per line, paths interned in a dict."""
    ids: dict[bytes, int] = {}
    requests = []
    with open(path, "rb") as handle:
        for line in handle:
            match = LINE.match(line)
            if match is None:
                continue
            requests.append(ids.setdefault(match.group(4), len(ids)))
    return len(requests)


def best_of(repeat: int, function) -> tuple[float, object]:
    timings, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        timings.append(time.perf_counter() - start)
    return min(timings), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log-lines", type=int, default=1_000_000)
    parser.add_argument("--csv-rows", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        os.environ["CACHETUNE_CACHE_DIR"] = str(folder / "cache")
        warm = folder / "warm.log"
        write_combined_log(warm, 2_000)
        analyze(read_trace(warm, cache_parsed=False))
        log = folder / "access.log"
        write_combined_log(log, args.log_lines, objects=200_000)
        size_mb = log.stat().st_size / 1e6
        print(f"combined log: {args.log_lines:,} lines, {size_mb:,.0f} MB")

        ours, trace = best_of(args.repeat, lambda: read_trace(log, cache_parsed=False))
        analysis, _ = best_of(args.repeat, lambda: analyze(trace))
        baseline, matched = best_of(args.repeat, lambda: regex_loop(log))
        print(f"  read_trace           {ours:7.3f} s  {args.log_lines / ours / 1e6:6.2f} M lines/s")
        print(f"  read_trace + analyze {ours + analysis:7.3f} s  ({len(trace):,} requests)")
        print(f"  regex loop           {baseline:7.3f} s  ({matched:,} lines matched)")
        print(f"  analyze vs regex loop: {baseline / (ours + analysis):.1f}x faster (target >= 2x)")

        csv_path = folder / "trace.csv"
        rng = np.random.default_rng(1)
        frame = pd.DataFrame({
            "timestamp": np.arange(args.csv_rows) // 100,
            "key": np.minimum(rng.zipf(1.1, args.csv_rows), 10_000_000),
            "size": rng.integers(1, 1 << 20, args.csv_rows),
        })  # fmt: skip
        frame.to_csv(csv_path, index=False)
        read_trace(csv_path, cache_parsed=False)
        csv_seconds, csv_trace = best_of(args.repeat, lambda: read_trace(csv_path, cache_parsed=False))
        print(f"csv: {args.csv_rows:,} rows, {csv_path.stat().st_size / 1e6:,.0f} MB, {csv_trace.n_objects:,} keys")
        print(f"  read_trace           {csv_seconds:7.3f} s  {args.csv_rows / csv_seconds / 1e6:6.2f} M rows/s "
              "(target >= 5)")  # fmt: skip

        first, _ = best_of(1, lambda: read_trace(log))
        second, cached = best_of(args.repeat, lambda: read_trace(log))
        assert cached.info.get("cached")
        print("parsed-trace cache on the log:")
        print(f"  first run (parse + store) {first:7.3f} s, second run (load) {second:7.3f} s: "
              f"{first / second:.0f}x faster (target >= 10x)")  # fmt: skip


if __name__ == "__main__":
    main()
