"""Replay speed of the Redis models: a 10M-request zipf trace through redis-lru, -lfu, -random and -ttl.

Builds a 10M-request zipf(alpha=1.0) trace over 1M objects with values of 100-2,000 bytes (seeded;
every key a 1-hour TTL for redis-ttl, which evicts only keys with one), and prints for each model and
``maxmemory`` the median requests/second of ``--repeat`` replays (the kernel's own timing, compiled
outside it) beside LRU's on the trace's own sizes, and the rate of a real redis-server set up the same
way replaying the trace's first ``--live`` requests (``benchmarks/live_rate.py``; 0 skips it). The
issue's target: at least 20 M requests/s.

    python benchmarks/bench_redis_models.py [--requests N] [--objects N] [--repeat K] [--policies redis-lru,...]
        [--live N]
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np
from live_rate import LIVE_REQUESTS, redis_rate, shown

import tuner
from tuner.policies.redis_eviction import calibration
from tuner.workloads import generate


def median_speed(trace: tuner.Trace, policy: str, capacity: str, repeat: int) -> float:
    tuner.replay(trace, policy, capacity)  # compile outside the timing
    return statistics.median(len(trace) / tuner.replay(trace, policy, capacity).seconds for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000_000)
    parser.add_argument("--objects", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--policies", default="redis-lru,redis-lfu,redis-random,redis-ttl")
    parser.add_argument("--live", type=int, default=LIVE_REQUESTS, help="requests replayed against redis-server")
    args = parser.parse_args()
    keys = generate("zipf", requests=args.requests, objects=args.objects, alpha=1.0, seed=1)
    sizes = np.random.default_rng(2).integers(100, 2_000, keys.n_objects)[keys.ids]
    trace = tuner.Trace.from_codes(keys.ids, keys.keys, keys.timestamps, sizes, name="zipf")
    with_ttls = tuner.Trace.from_codes(keys.ids, keys.keys, keys.timestamps, sizes,
                                       ttls=np.full(len(keys), 3600.0, np.float32), name="zipf-ttl")  # fmt: skip
    baseline = calibration()["baseline_bytes"]
    print(f"trace: {len(trace):,} requests, {trace.n_objects:,} unique, values 100-2,000 B, "
          f"{trace.span_seconds / 3600:.1f} h; Redis's own memory {baseline:,} B")  # fmt: skip
    print(f"{'policy':13} {'maxmemory':>10} {'Mreq/s':>7} {'lru Mreq/s':>11} {'live kreq/s':>12} {'model/live':>11}")
    for policy in args.policies.split(","):
        replayed = with_ttls if policy == "redis-ttl" else trace
        for megabytes in (16, 128, 1024):
            capacity = f"{megabytes}MiB"
            speed = median_speed(replayed, policy, capacity, args.repeat)
            lru = median_speed(replayed, "lru", f"{(megabytes << 20) - baseline}B", args.repeat)
            live = redis_rate(replayed, policy, megabytes << 20, args.live) if args.live else None
            times_live = "-" if live is None else f"{speed / live:,.0f}x"
            print(f"{policy:13} {capacity:>10} {speed / 1e6:>7.1f} {lru / 1e6:>11.1f} {shown(live):>12} "
                  f"{times_live:>11}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
