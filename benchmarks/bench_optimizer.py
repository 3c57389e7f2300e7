"""The optimizer against a brute-force grid, and spatial sampling against exact trials.

Part 1, on three workloads (zipf, loop, zipf-scan) with per-object sizes so the
``cost`` objective trades memory against misses: a grid over every online
policy × 12 log-spaced byte capacities × each policy's parameters at three
values, all replayed on the tuning part (first 70 % of the span); then
``tuner.optimize`` with a fifth of the grid's evaluations as its trial
budget. Prints both best objectives, the regret (optimizer ÷ grid − 1, of the
recommendation and of the best trial), evaluations and wall time.

Part 2, on the zipf spec (1M requests): misses/hour of a spread of
configurations replayed exactly and on spatial samples at 0.1 and 0.01 —
mean and worst relative error, and the replay speed-up.

Part 3: the wall time of ``cachetune optimize --trace access.log`` with no
other option on a 200,000-request nginx combined log (target: two minutes),
after a small run that compiles every policy's kernel.

    python benchmarks/bench_optimizer.py [--requests N] [--policies a,b,...] [--seed N] [--quick]
"""

from __future__ import annotations

import argparse
import itertools
import math
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tuner
from tests.access_logs import write_combined_log
from tuner.capacity import BYTES, OBJECTS, Capacity
from tuner.mrc.miniature import MiniatureSimulator
from tuner.optimize.evaluate import replay_config
from tuner.optimize.objectives import Objective
from tuner.optimize.run import candidate_policies
from tuner.optimize.space import Config, SearchSpace
from tuner.optimize.traces import prefix, split_by_time
from tuner.workloads import generate

CAPACITIES = 12
MISS_COST = 1e-4  # per miss
MEMORY_COST = 5.0  # per GB per hour


def with_sizes(trace: tuner.Trace, seed: int) -> tuner.Trace:
    """``trace`` with a lognormal size per object (median 8 KiB), the same on every request."""
    sizes = np.random.default_rng(seed).lognormal(math.log(8192), 1.0, trace.n_objects).astype(np.int64) + 1
    return tuner.Trace.from_arrays(trace.keys[trace.ids], trace.timestamps, sizes[trace.ids], name=trace.name)


def param_grid(space: SearchSpace, policy) -> list[dict]:
    """Each parameter at its default and half-way (log-wise where declared) to either bound."""
    axes = []
    for param in policy.params:
        low, high = space.param_range(param)
        default = min(max(param.default, low), high)
        if param.log:
            values = [math.sqrt(low * default), default, math.sqrt(default * high)]
        else:
            values = [(low + default) / 2, default, (default + high) / 2]
        values = sorted({round(v) if param.is_int else float(v) for v in values})
        axes.append([(param.name, value) for value in values])
    return [dict(combo) for combo in itertools.product(*axes)]


def grid_search(trace: tuner.Trace, space: SearchSpace, scoring: Objective) -> tuple[float, Config, int, float]:
    capacities = np.unique(np.geomspace(space.capacity_low, space.capacity_high, CAPACITIES).round().astype(int))
    configs = [Config(policy.name, int(capacity), params) for policy in space.policies
               for params in param_grid(space, policy) for capacity in capacities]  # fmt: skip

    def score(config: Config) -> float:
        result = replay_config(trace, config, space.unit, 0)
        return scoring.score(result, config.capacity, space.unit)

    for policy in space.policies:  # compile (or load) every kernel first: time replays, not numba
        replay_config(prefix(trace, 1000), Config(policy.name, space.capacity_low, {}), space.unit, 0)
    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        values = list(pool.map(score, configs))
    best = int(np.argmin(values))
    return values[best], configs[best], len(configs), time.perf_counter() - began


def compare_with_grid(name: str, trace: tuner.Trace, policies: str | None, seed: int) -> None:
    scoring = Objective("cost", MISS_COST, MEMORY_COST, trace.working_set_bytes / trace.n_objects)
    budget = Capacity(trace.working_set_bytes, BYTES, "working set")
    split = split_by_time(trace, 0.3)
    space = SearchSpace.build(candidate_policies(policies), budget, split.tuning.span_seconds, int(trace.sizes.min()))
    grid_best, grid_config, evaluations, grid_seconds = grid_search(split.tuning, space, scoring)
    trials = evaluations // 5
    began = time.perf_counter()
    result = tuner.optimize(trace, objective="cost", miss_cost=MISS_COST, memory_cost=MEMORY_COST, trials=trials,
                            seed=seed, policies=policies)  # fmt: skip
    seconds = time.perf_counter() - began
    rec, best_trial = result.recommendation, result.top[0]
    print(f"\n{name}: {len(trace):,} requests, {trace.n_objects:,} objects, working set "
          f"{trace.working_set_bytes / 1e9:.3f} GB; cost = misses/h × {MISS_COST} + GB × {MEMORY_COST}")  # fmt: skip
    print(f"  grid      best {grid_best:10.4f}  {grid_config.policy} {grid_config.capacity:,} B {grid_config.params}"
          f"  evaluations {evaluations:4d}  {grid_seconds:6.1f} s")  # fmt: skip
    print(f"  optimizer best {best_trial.value:10.4f}  {best_trial.config.policy} {best_trial.config.capacity:,} B"
          f"  trials {result.counts['trials']:4d} ({result.counts['pruned']} pruned)  {seconds:6.1f} s")  # fmt: skip
    print(f"  recommended    {rec.value:10.4f}  {rec.config.policy} {rec.config.capacity:,} B {rec.config.params}"
          f"  held out {rec.holdout.misses_per_hour:,.0f} misses/h,"
          f" LRU {result.lru.holdout.misses_per_hour:,.0f}")  # fmt: skip
    print(f"  regret: recommendation {rec.value / grid_best - 1:+.2%}, "
          f"best trial {best_trial.value / grid_best - 1:+.2%}; "
          f"evaluations {result.counts['trials'] / evaluations:.0%} of the grid's")  # fmt: skip


def sampling_error(requests: int) -> None:
    trace = generate("zipf", requests=requests)
    space = SearchSpace.build(candidate_policies(None), Capacity(trace.n_objects, OBJECTS, "all"),
                              trace.span_seconds, 1)  # fmt: skip
    capacities = np.geomspace(100, trace.n_objects / 2, 4).round().astype(int)
    configs = [Config(policy.name, int(capacity), {param.name: param.default for param in policy.params})
               for policy in space.policies for capacity in capacities]  # fmt: skip
    exact, exact_seconds = [], 0.0
    for config in configs:
        began = time.perf_counter()
        exact.append(replay_config(trace, config, OBJECTS, 0).misses_per_hour)
        exact_seconds += time.perf_counter() - began
    print(f"\nspatial sampling on zipf ({len(trace):,} requests, {trace.n_objects:,} objects), "
          f"{len(configs)} configurations, misses/h against exact replays:")  # fmt: skip
    for rate in (0.1, 0.01):
        began = time.perf_counter()
        miniatures = MiniatureSimulator(trace, rate)
        miniatures.sample(rate)
        sampling_seconds = time.perf_counter() - began
        errors, seconds = [], 0.0
        for config, truth in zip(configs, exact, strict=True):
            mini = miniatures.miniature(Capacity(config.capacity, OBJECTS, str(config.capacity)))
            began = time.perf_counter()
            result = replay_config(mini.trace, config, OBJECTS, 0, mini.capacity.amount)
            seconds += time.perf_counter() - began
            estimate = miniatures.estimate(result, mini).misses_per_hour
            errors.append(abs(estimate / truth - 1))
        print(f"  rate {rate:5}: mean error {np.mean(errors):.2%}, worst {np.max(errors):.2%}; replays "
              f"{exact_seconds / seconds:.0f}× faster ({sampling_seconds:.2f} s to sample once)")  # fmt: skip


def plain_run(requests: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "access.log"
        write_combined_log(log, requests)

        def optimize_cli(*options: str) -> float:
            began = time.monotonic()
            subprocess.run([sys.executable, "-m", "tuner", "optimize", *options], check=True, capture_output=True,
                           cwd=folder)  # fmt: skip
            return time.monotonic() - began

        optimize_cli("-w", "loop", "--objects", "50", "--requests", "500", "--trials", "20", "--out", "warm")
        seconds = optimize_cli("--trace", str(log), "--out", "run")
        print(f"plain `cachetune optimize --trace access.log` on {requests:,} requests: {seconds:.1f} s (target 120 s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300_000, help="requests per workload in part 1")
    parser.add_argument("--policies", default=None, help="comma-separated policies to search (default: all online)")
    parser.add_argument("--seed", type=int, default=1, help="the optimizer's seed in part 1")
    parser.add_argument("--quick", action="store_true", help="part 1 only, on zipf-scan")
    args = parser.parse_args()
    workloads = {
        "zipf": generate("zipf", requests=args.requests, objects=args.requests // 10),
        "loop": generate("loop", requests=args.requests // 3, objects=1000),
        "zipf-scan": generate("zipf-scan", requests=args.requests),
    }
    for name, trace in workloads.items():
        if not args.quick or name == "zipf-scan":
            compare_with_grid(name, with_sizes(trace, seed=7), args.policies, args.seed)
    if not args.quick:
        sampling_error(1_000_000)
        plain_run(200_000)


if __name__ == "__main__":
    main()
