"""Traces larger than memory: peak anonymous memory and wall time of the CLI, mapped against in-memory replay.

1. Generates (or reuses) an oracleGeneral trace of ``--requests`` requests over
   ``--objects`` objects (popularity about 1/rank, ranks scattered over 64-bit
   ids, per-object sizes from 64 B to 256 KiB, 1,000 requests a second) in
   ``--folder`` (default ``$CACHETUNE_BENCH_DIR`` or /tmp), with its
   parsed-trace cache beside it (``--fresh-cache`` parses again).
2. Runs ``cachetune bench --trace big.bin --policies lru,fifo,s3fifo --size 1%``
   (the first run parses the file into the cache, inside the measured process)
   and ``cachetune mrc --trace big.bin --method shards --sample-rate 0.001`` as
   subprocesses, sampling ``RssAnon`` of the process and all its children from
   ``/proc/PID/status`` every 0.1 s; prints peak GiB and wall time (which
   includes numba compiling the loops once).
3. In this process, replays ``--policy`` at 1% of the objects on the first
   ``--slice`` requests, once from the mapped columns and once from an
   in-memory copy (int64 sizes, as a trace parsed into memory has), after a
   warm-up on a small slice of each (compilation excluded); prints requests/s
   and the mapped/in-memory ratio (best of ``--repeat``).

Targets (issue 16): 1B requests over 50M objects under 4 GiB, 200M requests under 1.5 GiB, mapped replay at 70%
or more of in-memory speed on a 100M-request slice.

    python benchmarks/bench_out_of_core.py --requests 200000000 --objects 10000000 [--folder DIR] [--fresh-cache]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tuner import read_trace, replay
from tuner.readers.oracle_general import RECORD
from tuner.trace import Trace

GIB = 1 << 30
CHUNK = 1 << 24
ROOT = Path(__file__).resolve().parents[1]


def _scattered(values: np.ndarray) -> np.ndarray:
    """A bijection of uint64 (an odd multiplier, then a xor-shift): ranks become unrelated 64-bit ids."""
    mixed = values * np.uint64(0x9E3779B97F4A7C15)
    return mixed ^ (mixed >> np.uint64(29))


def generate(path: Path, requests: int, objects: int, seed: int = 7) -> None:
    """Write the trace chunk by chunk (memory: one chunk), atomically."""
    rng = np.random.default_rng(seed)
    partial = path.with_suffix(".partial")
    with open(partial, "wb") as handle:
        for start in range(0, requests, CHUNK):
            n = min(CHUNK, requests - start)
            ranks = np.minimum(np.exp(rng.random(n) * np.log(objects)).astype(np.uint64) - np.uint64(1), objects - 1)
            records = np.empty(n, RECORD)
            records["time"] = np.arange(start, start + n, dtype=np.uint64) // 1000
            records["id"] = _scattered(ranks + np.uint64(1))
            records["size"] = np.uint32(64) << (_scattered(ranks) % np.uint64(13)).astype(np.uint32)
            records["next_access"] = -1
            records.tofile(handle)
    partial.replace(path)


def _tree(pid: int) -> list[int]:
    """``pid`` and every descendant, from /proc/*/task/*/children."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                queue += [int(child) for child in (task / "children").read_text().split()]
            except OSError:
                continue
    return found


def _rss_anon(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def measured(command: list[str], environment: dict[str, str]) -> tuple[float, float, int]:
    """Run ``command``; (peak RssAnon of its process tree in GiB, wall seconds, exit code)."""
    began = time.perf_counter()
    process = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while process.poll() is None:
        peak = max(peak, sum(_rss_anon(pid) for pid in _tree(process.pid)))
        time.sleep(0.1)
    wall = time.perf_counter() - began
    if process.returncode:
        print(process.stderr.read().decode(errors="replace")[-2000:], file=sys.stderr)
    return peak / GIB, wall, process.returncode


def in_memory(trace: Trace) -> Trace:
    """A copy of ``trace`` in memory, with the column types a trace parsed into memory has."""
    return Trace(np.array(trace.ids), np.array(trace.timestamps), trace.sizes.astype(np.int64), np.array(trace.ops),
                 np.array(trace.ttls), np.array(trace.keys), name=trace.name)  # fmt: skip


def first(trace: Trace, n: int) -> Trace:
    """The first ``n`` requests (views: a mapped trace stays mapped); every key kept, so ids index them."""
    return Trace(trace.ids[:n], trace.timestamps[:n], trace.sizes[:n], trace.ops[:n], trace.ttls[:n], trace.keys,
                 name=trace.name)  # fmt: skip


def replay_rate(trace: Trace, policy: str, capacity: int, repeat: int) -> float:
    """Requests per second of the replay loop (best of ``repeat``)."""
    return max(len(trace) / replay(trace, policy, capacity).seconds for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200_000_000)
    parser.add_argument("--objects", type=int, default=10_000_000)
    parser.add_argument("--folder", type=Path, default=Path(os.environ.get("CACHETUNE_BENCH_DIR", "/tmp")))
    parser.add_argument("--fresh-cache", action="store_true", help="Delete the parsed-trace cache first.")
    parser.add_argument("--slice", type=int, default=100_000_000, help="Requests of the mapped/in-memory replay.")
    parser.add_argument("--policy", default="lru")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--skip-cli", action="store_true", help="Only the mapped/in-memory replay.")
    args = parser.parse_args()

    path = args.folder / f"oracle_{args.requests}_{args.objects}.bin"
    cache = args.folder / "cachetune-bench-cache"
    if args.fresh_cache:
        shutil.rmtree(cache, ignore_errors=True)
    if not path.exists():
        began = time.perf_counter()
        generate(path, args.requests, args.objects)
        print(f"generated {path} ({path.stat().st_size / GIB:.1f} GiB) in {time.perf_counter() - began:.0f} s")
    environment = {**os.environ, "CACHETUNE_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT)}
    os.environ["CACHETUNE_CACHE_DIR"] = str(cache)
    cli = [sys.executable, "-m", "tuner"]
    runs = {
        "bench lru,fifo,s3fifo 1%": [*cli, "bench", "--trace", str(path), "--policies", "lru,fifo,s3fifo",
                                     "--size", "1%", "--no-report", "--format", "csv"],
        "mrc shards 0.001": [*cli, "mrc", "--trace", str(path), "--method", "shards", "--sample-rate", "0.001",
                             "--no-report", "--format", "csv"],
    }  # fmt: skip
    print(f"{args.requests:,} requests over {args.objects:,} objects")
    for name, command in [] if args.skip_cli else runs.items():
        peak, wall, code = measured(command, environment)
        print(f"{name:28s} peak RssAnon {peak:6.2f} GiB  wall {wall:7.1f} s  exit {code}")

    mapped = read_trace(path)
    n = min(args.slice, len(mapped))
    capacity = max(1, mapped.n_objects // 100)
    sliced = first(mapped, n)
    copied = in_memory(sliced)
    for trace in (first(sliced, 100_000), first(copied, 100_000)):  # compile both shapes outside the timing
        replay(trace, args.policy, capacity)
    in_memory_rate = replay_rate(copied, args.policy, capacity, args.repeat)
    mapped_rate = replay_rate(sliced, args.policy, capacity, args.repeat)
    print(f"{args.policy} on {n:,} requests at {capacity:,} objects: in memory {in_memory_rate / 1e6:.1f} M req/s, "
          f"mapped {mapped_rate / 1e6:.1f} M req/s, mapped/in-memory {mapped_rate / in_memory_rate:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
