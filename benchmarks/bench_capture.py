"""What ``@capture.calls`` costs the application: time per call, memory, and a writer that falls behind.

1. Overhead: a function under ``@functools.lru_cache(maxsize=1024)`` called
   with zipf(1.2) arguments (mostly hits, the cheapest call there is), with
   and without ``@capture.calls`` above it; calls are timed in batches of 100,
   alternating the two functions, over ``--calls`` calls each (1M); the
   figure is the median batch time per call. Run twice: with a buffer large
   enough that nothing is dropped (the append path) and with the default
   buffer (the writer cannot keep pace with a tight loop, so part of the
   calls take the drop path).
2. Memory: ``--long-calls`` (10M) calls with the default buffer; the
   process's RSS before and after (the issue's limit: at most 50 MB more).
3. A writer that cannot keep up: every key's ``repr`` sleeps 1 ms in the
   writer thread; the caller's calls keep their speed, and every call is
   either written or counted as dropped. The slowest batch is printed with
   the full garbage collections that ran meanwhile: records waiting in the
   buffer are objects that survive, so they bring the next full collection
   nearer (on this machine 170-210 ms in a process with numpy, pandas and
   numba loaded), which is what the slowest batch measures, not a wait for
   the writer.

    python benchmarks/bench_capture.py [--calls N] [--long-calls N]
"""

from __future__ import annotations

import argparse
import functools
import gc
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from tuner import capture

BATCH = 100


def rss_mb() -> float:
    """Resident memory of this process in MB (Linux /proc)."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * 4096 / 1e6


def arguments(n: int, seed: int = 1) -> list[int]:
    return np.random.default_rng(seed).zipf(1.2, n).tolist()


def batch_times(function, values: list[int]) -> list[float]:
    """Seconds per call of each batch of BATCH calls."""
    clock, times = time.perf_counter, []
    for start in range(0, len(values), BATCH):
        chunk = values[start : start + BATCH]
        began = clock()
        for value in chunk:
            function(value)
        times.append((clock() - began) / len(chunk))
    return times


def overhead(folder: Path, calls: int, buffer_size: int | None, label: str) -> None:
    plain = functools.lru_cache(maxsize=1024)(lambda x: x + 1)
    options = {} if buffer_size is None else {"buffer_size": buffer_size}
    recorded = capture.calls(folder / f"{label}.trace", **options)(functools.lru_cache(maxsize=1024)(lambda x: x + 1))
    values = arguments(calls)
    plain_times, recorded_times = [], []
    for start in range(0, calls, 10_000):  # alternate in slices so drift hits both alike
        chunk = values[start : start + 10_000]
        plain_times += batch_times(plain, chunk)
        recorded_times += batch_times(recorded, chunk)
    recorder = recorded.recorder
    recorder.close()
    plain_ns, recorded_ns = statistics.median(plain_times) * 1e9, statistics.median(recorded_times) * 1e9
    print(f"overhead ({label}): {calls:,} calls each; median per call {plain_ns:.0f} ns plain, "
          f"{recorded_ns:.0f} ns recorded: +{recorded_ns - plain_ns:.0f} ns per call (limit 1000 ns); "
          f"written {recorder.written:,}, dropped {recorder.dropped:,}")  # fmt: skip


def memory(folder: Path, calls: int) -> None:
    recorded = capture.calls(folder / "long.trace")(functools.lru_cache(maxsize=1024)(lambda x: x + 1))
    values = arguments(1_000_000, seed=2)
    before = rss_mb()
    peak = before
    started = time.perf_counter()
    for round_number in range(calls // len(values)):
        for value in values:
            recorded(value)
        peak = max(peak, rss_mb())
        del round_number
    seconds = time.perf_counter() - started
    recorder = recorded.recorder
    recorder.close()
    size = recorder.path.stat().st_size / 1e6 if recorder.path else 0.0
    print(f"memory: {calls:,} calls in {seconds:.1f} s; RSS {before:.0f} MB before, peak {peak:.0f} MB "
          f"(+{peak - before:.0f} MB; limit 50 MB); written {recorder.written:,}, dropped {recorder.dropped:,}; "
          f"file {size:.1f} MB")  # fmt: skip


class SlowKey:
    """A key whose repr takes 1 ms: the writer thread falls far behind the caller."""

    __slots__ = ("value",)

    def __init__(self, value: int) -> None:
        self.value = value

    def __repr__(self) -> str:
        time.sleep(0.001)
        return f"SlowKey({self.value})"


def slow_writer(folder: Path, calls: int) -> None:
    keys = [SlowKey(value) for value in arguments(calls, seed=3)]
    function = capture.calls(folder / "slow.trace", buffer_size=10_000)(lambda key: key)
    collections: list[float] = []  # full collections during the calls: the usual cause of the slowest batch
    began: list[float] = []

    def timed(phase: str, info: dict) -> None:
        if info["generation"] == 2:
            began.append(time.perf_counter()) if phase == "start" else collections.append(
                time.perf_counter() - began[-1]
            )

    gc.callbacks.append(timed)
    times = batch_times(function, keys)
    gc.callbacks.remove(timed)
    recorder = function.recorder
    started = time.perf_counter()
    recorder.close()
    closing = time.perf_counter() - started
    print(f"slow writer: {calls:,} calls, median {statistics.median(times) * 1e9:.0f} ns, slowest batch "
          f"{max(times) * 1e9:.0f} ns per call; written {recorder.written:,} + dropped {recorder.dropped:,} = "
          f"{recorder.written + recorder.dropped:,}; close() wrote the buffered rest in {closing:.1f} s; "
          f"{len(collections)} full garbage collections, longest "
          f"{max(collections, default=0) * 1e3:.0f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--long-calls", type=int, default=10_000_000)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        overhead(Path(folder), options.calls, options.calls + 1, "no drops")
        overhead(Path(folder), options.calls, None, "default buffer")
        memory(Path(folder), options.long_calls)
        slow_writer(Path(folder), min(options.calls, 200_000))


if __name__ == "__main__":
    main()
