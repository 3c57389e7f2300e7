"""Miss-ratio curves: the one-pass exact LRU curve's cost, SHARDS and miniature-simulation errors.

In one process:

1. on a 10M-request zipf(alpha=1.0) trace over 1M objects, the one-pass
   exact LRU curve (Mattson's stack algorithm) against LRU replays at 0.1 %,
   1 % and 10 % of unique objects: median seconds of ``--repeat`` runs, wall
   clock and CPU time (the curve may use several threads), and their ratio;
2. SHARDS at R = 0.01 against the exact curve on the shared traces of over
   1M requests (``../shared/traces``, skipped where absent): mean absolute
   error over the whole curve (every size from 1 object to all of them) and
   over the 20 log-spaced ``default_sizes``, at seed 0 and over seeds
   0..``--seeds``-1;
3. miniature simulation at R = 0.1 for fifo, arc and s3fifo against full
   replays on a 1M-request zipf(0.8) trace: mean and largest absolute error.

    python benchmarks/bench_mrc.py [--requests N] [--objects N] [--repeat K] [--seeds S]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

import tuner
from tuner.mrc import default_sizes, miss_ratio_curve
from tuner.mrc.shards import shards_miss_ratios
from tuner.mrc.stack_distance import lru_misses
from tuner.workloads import generate

SHARED_TRACES = Path(__file__).resolve().parents[2] / "shared" / "traces"
LARGE_SHARED = ["arc/P3.lis.zst", "caffeine/w106.trace.xz", "caffeine/scarab-recs.trace.xz"]
MINI_SIZES = [100, 300, 1_000, 3_000, 10_000, 30_000, 60_000]


def median_times(run, repeat: int) -> tuple[float, float]:
    """Median wall-clock and CPU seconds of ``repeat`` calls (after one warm-up call)."""
    run()
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def curve_cost(requests: int, objects: int, repeat: int) -> None:
    trace = generate("zipf", requests=requests, objects=objects, alpha=1.0, seed=1)
    sizes = default_sizes(trace)
    print(f"trace: {len(trace):,} requests, {trace.n_objects:,} unique; exact LRU curve at {len(sizes)} sizes")
    replays = {}
    for share in (0.001, 0.01, 0.1):
        capacity = max(1, round(trace.n_objects * share))
        replays[capacity] = median_times(lambda c=capacity: tuner.replay(trace, "lru", c), repeat)
        print(f"  lru replay at {capacity:>9,}: {replays[capacity][0]:.3f} s wall, {replays[capacity][1]:.3f} s CPU")
    wall, cpu = median_times(lambda: lru_misses(trace.ids, trace.n_objects, sizes), repeat)
    mean_wall = statistics.mean(figures[0] for figures in replays.values())
    mean_cpu = statistics.mean(figures[1] for figures in replays.values())
    print(f"  one-pass curve: {wall:.3f} s wall = {wall / mean_wall:.2f} mean LRU replays "
          f"({wall / max(f[0] for f in replays.values()):.2f} of the slowest); "
          f"{cpu:.3f} s CPU = {cpu / mean_cpu:.2f} replays")  # fmt: skip


def shards_error(seeds: int) -> None:
    if not SHARED_TRACES.exists():
        print(f"SHARDS: {SHARED_TRACES} absent, skipped")
        return
    print(f"SHARDS at R = 0.01, mean absolute error (seed 0; mean and max over {seeds} seeds)")
    for relative in LARGE_SHARED:
        trace = tuner.read_trace(SHARED_TRACES / relative)
        every_size = np.arange(1, trace.n_objects + 1)
        log_spaced = np.searchsorted(every_size, default_sizes(trace))
        exact = lru_misses(trace.ids, trace.n_objects, every_size) / len(trace)
        errors = np.array([
            np.abs(shards_miss_ratios(trace, every_size, rate=0.01, seed=seed) - exact)
            for seed in range(seeds)
        ])  # fmt: skip
        print(f"  {relative:32} {len(trace):>10,} requests, {trace.n_objects:,} objects")
        per_seed = {"whole curve": errors.mean(axis=1), "default_sizes": errors[:, log_spaced].mean(axis=1)}
        for label, error in per_seed.items():
            print(f"    {label:14} seed 0: {error[0]:.4f}  mean: {error.mean():.4f}  max: {error.max():.4f}")


def miniature_error() -> None:
    trace = generate("zipf", requests=1_000_000, objects=100_000, alpha=0.8, seed=1)
    print("miniature simulation at R = 0.1 on zipf(0.8), 1M requests, 100k objects, sizes", MINI_SIZES)
    for policy in ("fifo", "arc", "s3fifo"):
        exact = miss_ratio_curve(trace, policy, MINI_SIZES, method="exact")["miss_ratio"].to_numpy()
        estimate = miss_ratio_curve(trace, policy, MINI_SIZES, method="mini", sample_rate=0.1)["miss_ratio"]
        error = np.abs(estimate.to_numpy(float) - exact)
        print(f"  {policy:7} mean {error.mean():.4f}  max {error.max():.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000_000)
    parser.add_argument("--objects", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=10)
    args = parser.parse_args()
    curve_cost(args.requests, args.objects, args.repeat)
    shards_error(args.seeds)
    miniature_error()


if __name__ == "__main__":
    sys.exit(main())
