"""Replay speed of every policy next to libCacheSim, on the same trace, in the same process.

Builds a 10M-request zipf(alpha=1.0) trace over 1M objects once, writes it as a
libCacheSim oracleGeneral binary, then for each policy and each cache size
(0.1 %, 1 %, 10 % of unique objects) prints the median requests/second of
``--repeat`` replays in cachetune and in libCacheSim (``hashpower`` set to the
cache size, as BENCHMARKING.md asks), their ratio and both miss counts; then
the shared loop's lru and fifo as a share of the hand-written loops in
``ceiling.py`` (the limit of a compiled replay); then the cold-start time of
``cachetune bench`` with the six seed policies, with an empty kernel cache
(numba compilation included) and with a warm one.

    python benchmarks/bench_throughput.py [--requests N] [--objects N] [--repeat K]
"""

from __future__ import annotations

import argparse
import functools
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import tuner
from tuner.workloads import generate

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ceiling import fifo_hits, lru_hits

# cachetune policy -> libCacheSim class (Random is not comparable in misses, only speed).
LIBCACHESIM_NAMES = {
    "lru": "LRU", "fifo": "FIFO", "lfu": "LFU", "random": "Random", "clock": "Clock", "arc": "ARC",
    "2q": "TwoQ", "sieve": "Sieve", "s3fifo": "S3FIFO", "wtinylfu": "WTinyLFU", "lirs": "LIRS", "opt": "Belady",
}  # fmt: skip
SEED_POLICIES = "lru,lfu,mru,fifo,random,random-age"
ORACLE = np.dtype([("t", "<u4"), ("id", "<u8"), ("sz", "<u4"), ("nxt", "<i8")])


def write_oracle_general(trace: tuner.Trace, path: Path) -> None:
    """The trace in libCacheSim's binary layout, with real next-access positions for Belady."""
    order = np.argsort(trace.ids, kind="stable")  # request positions grouped by object, in time order
    same_object = trace.ids[order[1:]] == trace.ids[order[:-1]]
    following = np.full(len(trace), -1, np.int64)
    following[order[:-1][same_object]] = order[1:][same_object] + 1  # 1-based, as libCacheSim expects
    records = np.zeros(len(trace), ORACLE)
    records["t"] = trace.timestamps.astype(np.uint32)
    records["id"] = trace.ids.astype(np.uint64) + 1
    records["sz"] = 1
    records["nxt"] = following
    records.tofile(path)


def median_seconds(run, repeat: int) -> tuple[float, int]:
    times, misses = [], 0
    for _ in range(repeat):
        began = time.perf_counter()
        misses = run()
        times.append(time.perf_counter() - began)
    return statistics.median(times), misses


def cachetune_run(trace: tuner.Trace, policy: tuner.policies.Policy, capacity: int):
    """A callable replaying ``trace`` in cachetune's ``policy``; returns its miss count."""
    return lambda: tuner.replay(trace, policy, capacity).misses


def libcachesim_run(name: str, capacity: int, path: Path, requests: int):
    """A callable replaying ``path`` in libCacheSim's ``name``; returns its miss count."""
    import libcachesim as lcs

    hashpower = min(24, max(12, math.ceil(math.log2(capacity)) + 1))

    def run() -> int:
        reader = lcs.TraceReader(str(path), lcs.TraceType.ORACLE_GENERAL_TRACE)
        cache = getattr(lcs, name)(capacity, hashpower=hashpower)
        miss_ratio, _ = cache.process_trace(reader)
        return round(miss_ratio * requests)

    return run


def print_ceiling(trace: tuner.Trace, repeat: int) -> None:
    """The shared loop's speed as a share of the hand-written loop of the same policy, size by size."""
    print(f"{'policy':10} {'size':>8} {'shared Mreq/s':>14} {'hand-written':>13} {'share':>6}")
    for name, hand_written in (("lru", lru_hits), ("fifo", fifo_hits)):
        for share in (0.001, 0.01, 0.1):
            capacity = max(1, round(trace.n_objects * share))
            hand_written(trace.ids, trace.n_objects, capacity)  # compile outside the timing
            tuner.replay(trace, name, capacity)
            run_by_hand = functools.partial(hand_written, trace.ids, trace.n_objects, capacity)
            ceiling, ceiling_hits = median_seconds(run_by_hand, repeat)
            shared, shared_misses = median_seconds(cachetune_run(trace, tuner.get_policy(name), capacity), repeat)
            assert ceiling_hits == len(trace) - shared_misses, "the hand-written loop must count the same hits"
            print(f"{name:10} {capacity:>8,} {len(trace) / shared / 1e6:>14.1f} {len(trace) / ceiling / 1e6:>13.1f} "
                  f"{ceiling / shared:>5.2f}x", flush=True)  # fmt: skip


def cold_start(requests: int) -> tuple[float, float]:
    """Seconds for the first ``cachetune bench`` with an empty kernel cache, then with a warm one."""
    command = [sys.executable, "-m", "tuner", "bench", "--workload", "zipf", "--requests", str(requests),
               "--policies", SEED_POLICIES, "--size", "1%", "--format", "csv", "--no-report",
               "--out", tempfile.mkdtemp()]  # fmt: skip
    with tempfile.TemporaryDirectory() as cache_dir:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir}
        figures = []
        for _ in range(2):
            began = time.perf_counter()
            subprocess.run(command, env=env, check=True, capture_output=True)
            figures.append(time.perf_counter() - began)
    return figures[0], figures[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000_000)
    parser.add_argument("--objects", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--policies", default="all")
    parser.add_argument("--skip-cold-start", action="store_true")
    args = parser.parse_args()

    began = time.perf_counter()
    trace = generate("zipf", requests=args.requests, objects=args.objects, alpha=1.0, seed=1)
    print(f"trace: {len(trace):,} requests, {trace.n_objects:,} unique, built in {time.perf_counter() - began:.1f} s")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "zipf.oracleGeneral.bin"
        write_oracle_general(trace, path)
        print(f"{'policy':10} {'size':>8} {'cachetune Mreq/s':>17} {'libCacheSim Mreq/s':>19} {'ratio':>7} "
              f"{'misses':>10} {'lcs misses':>10}")  # fmt: skip
        for policy in tuner.policies.parse_policies(args.policies):
            for share in (0.001, 0.01, 0.1):
                capacity = max(1, round(trace.n_objects * share))
                tuner.replay(trace, policy, capacity)  # compile / load kernels outside the timing
                ours, our_misses = median_seconds(cachetune_run(trace, policy, capacity), args.repeat)
                line = f"{policy.name:10} {capacity:>8,} {len(trace) / ours / 1e6:>17.1f}"
                if policy.name in LIBCACHESIM_NAMES:
                    theirs, their_misses = median_seconds(
                        libcachesim_run(LIBCACHESIM_NAMES[policy.name], capacity, path, len(trace)), args.repeat
                    )
                    line += f" {len(trace) / theirs / 1e6:>19.1f} {theirs / ours:>6.2f}x {our_misses:>10,}"
                    line += f" {their_misses:>10,}"
                else:
                    line += f" {'—':>19} {'':>7} {our_misses:>10,}"
                print(line, flush=True)
        print_ceiling(trace, args.repeat)
    if not args.skip_cold_start:
        first, warm = cold_start(1_000_000)
        print(f"cold start of `cachetune bench` (6 seed policies, 1M requests): "
              f"{first:.1f} s with an empty kernel cache, {warm:.1f} s compiled")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
