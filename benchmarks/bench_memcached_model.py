"""Replay speed of the memcached model on a 10M-request zipf trace (the issue's target: at least 10 M requests/s).

Builds a zipf(alpha) trace over ``--objects`` objects whose sizes (key and
value) are drawn from 100 B to 4 kB (seeded, one size per object), then
prints, for a few ``-m`` values, the median requests/second of ``--repeat``
replays through the model (the kernel's own timing, compiled beforehand), its
hit ratio and its evictions, with plain LRU at the same memory for scale, and
the rate of a real memcached started with the same ``-m`` replaying the
trace's first ``--live`` requests (``benchmarks/live_rate.py``; 0 skips it).

    python benchmarks/bench_memcached_model.py [--requests N] [--objects N] [--alpha A] [--repeat K] [--live N]
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np
from live_rate import LIVE_REQUESTS, memcached_rate, shown

import tuner
from tuner.capacity import parse_capacity
from tuner.workloads import generate


def sized(trace: tuner.Trace, seed: int = 0) -> tuner.Trace:
    """The trace with each object's size drawn from 100 B to 4 kB."""
    sizes = np.random.default_rng(seed).integers(100, 4_000, trace.n_objects)[trace.ids]
    return tuner.Trace(trace.ids, trace.timestamps, sizes, trace.ops, trace.ttls, trace.keys, name=trace.name)


def median_run(trace: tuner.Trace, policy: str, capacity: str, repeat: int) -> tuple[float, tuner.ReplayResult]:
    """Median requests per second of ``repeat`` compiled replays, and the last result."""
    result = tuner.replay(trace, policy, capacity)  # compile outside the timing
    speeds = []
    for _ in range(repeat):
        result = tuner.replay(trace, policy, capacity)
        speeds.append(len(trace) / result.seconds)
    return statistics.median(speeds), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000_000)
    parser.add_argument("--objects", type=int, default=1_000_000)
    parser.add_argument("--alpha", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--memory", default="64MiB,256MiB,1GiB", help="the -m values, as byte sizes")
    parser.add_argument("--live", type=int, default=LIVE_REQUESTS, help="requests replayed against memcached")
    args = parser.parse_args()
    trace = sized(generate("zipf", requests=args.requests, objects=args.objects, alpha=args.alpha, seed=1))
    print(f"trace: {len(trace):,} requests, {trace.n_objects:,} objects of 100 B-4 kB, zipf {args.alpha}; "
          f"{trace.object_sizes.sum() / 2**20:,.0f} MiB in all")  # fmt: skip
    print(f"{'-m':>8} {'memcached Mreq/s':>17} {'hit ratio':>9} {'evictions':>11} {'lru Mreq/s':>11} {'lru hit':>8} "
          f"{'live kreq/s':>12} {'model/live':>11}")  # fmt: skip
    for memory in args.memory.split(","):
        speed, result = median_run(trace, "memcached", memory, args.repeat)
        lru_speed, lru = median_run(trace, "lru", memory, args.repeat)
        memory_bytes = parse_capacity(memory, trace.n_objects).amount
        live = memcached_rate(trace, memory_bytes, args.live) if args.live else None
        times_live = "-" if live is None else f"{speed / live:,.0f}x"
        print(f"{memory:>8} {speed / 1e6:>17.1f} {result.hits / result.requests:>9.4f} {result.evictions:>11,} "
              f"{lru_speed / 1e6:>11.1f} {lru.hits / lru.requests:>8.4f} {shown(live):>12} {times_live:>11}",
              flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
