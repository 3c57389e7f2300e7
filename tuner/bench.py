"""Replay one trace through many policies at many sizes: the comparison table."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tuner.bounds import LOWER_BOUND, LowerBound, lower_bound
from tuner.capacity import BYTES, Capacity, parse_byte_size, parse_capacity
from tuner.engine.kernel import WRITE_POLICIES
from tuner.engine.replay import ReplayResult
from tuner.errors import CachetuneError, check_choice
from tuner.grid import ReplayTask, run_tasks
from tuner.intervals import Interval, mean_interval, paired_difference
from tuner.lineup import named_policies
from tuner.policies import floor_policy, get_policy
from tuner.seeds import DEFAULT_SEED
from tuner.trace import Trace

DEFAULT_SIZES = ("0.1%", "1%", "10%")

RESULT_COLUMNS = [
    "workload", "policy", "params", "cache_size", "size_unit", "size_spec", "requests", "hits", "misses",
    "miss_ratio", "byte_miss_ratio", "misses_per_hour", "evictions", "backend_reads", "backend_writes",
    "writebacks", "invalidations", "expirations", "rejected", "dirty_peak", "dirty_at_end", "backend_ops_per_hour",
    "seconds", "opt_misses", "gap_to_opt", "seeds", "misses_ci_low", "misses_ci_high", "miss_ratio_ci_low",
    "miss_ratio_ci_high", "misses_vs_lru", "vs_lru_ci_low", "vs_lru_ci_high",
]  # fmt: skip
# Columns averaged over a randomized policy's replays (the rest are the same in every replay).
_AVERAGED = ("hits", "misses", "miss_ratio", "byte_miss_ratio", "misses_per_hour", "evictions", "backend_reads",
             "backend_writes", "writebacks", "invalidations", "expirations", "rejected", "dirty_peak", "dirty_at_end",
             "backend_ops_per_hour", "seconds")  # fmt: skip


@dataclass(frozen=True)
class BenchResult:
    """The comparison table, one row per (policy, size), the hourly miss timeline, and what produced them.

    ``options`` are the arguments ``bench`` ran with (policy names resolved),
    so a run's record is written from them rather than from the command line.
    """

    table: pd.DataFrame
    timeline: pd.DataFrame
    options: dict[str, Any]

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table by the name of the run file it is saved as (``results.csv``, ``timeline.csv``)."""
        return {"results": self.table, "timeline": self.timeline}


def result_row(trace: Trace, result: ReplayResult) -> dict[str, Any]:
    """One results-table row for a replay."""
    return {
        "workload": trace.name,
        "policy": result.policy,
        "params": json.dumps(result.params, sort_keys=True),
        "cache_size": result.capacity.amount,
        "size_unit": result.capacity.unit,
        "size_spec": result.capacity.spec,
        "requests": result.requests,
        "hits": result.hits,
        "misses": result.misses,
        "miss_ratio": result.miss_ratio,
        "byte_miss_ratio": result.byte_miss_ratio,
        "misses_per_hour": result.misses_per_hour,
        "evictions": result.evictions,
        "backend_reads": result.backend_reads,
        "backend_writes": result.backend_writes,
        "writebacks": result.writebacks,
        "invalidations": result.invalidations,
        "expirations": result.expirations,
        "rejected": result.rejected,
        "dirty_peak": result.dirty_peak,
        "dirty_at_end": result.dirty_at_end,
        "backend_ops_per_hour": result.backend_ops_per_hour,
        "seconds": result.seconds,
    }


def bound_row(trace: Trace, bound: LowerBound) -> dict[str, Any]:
    """The results-table row of the lower bound: its counts; what only a replay measures (bytes missed,
    evictions, backend writes, time) is left empty."""
    row = dict.fromkeys(RESULT_COLUMNS, math.nan)
    row.update(workload=trace.name, policy=LOWER_BOUND, params="{}", cache_size=bound.capacity.amount,
               size_unit=bound.capacity.unit, size_spec=bound.capacity.spec, requests=bound.requests,
               hits=bound.hits, misses=bound.misses, miss_ratio=bound.miss_ratio,
               misses_per_hour=bound.misses_per_hour, backend_reads=bound.misses)  # fmt: skip
    return row


def replays_row(trace: Trace, results: Sequence[ReplayResult]) -> dict[str, Any]:
    """One results-table row for a policy's replays at one size with several seeds: the mean of each figure,
    and the 95 % t interval over the seeds of the misses and the miss ratio.

    One replay of a randomized policy has no interval (NaN bounds); one of a
    deterministic policy is exact, so its interval is its figure.
    """
    rows = [result_row(trace, result) for result in results]
    row = dict(rows[0])
    if len(rows) > 1:
        row.update({column: float(np.mean([one[column] for one in rows])) for column in _AVERAGED})
    row["seeds"] = len(rows)
    for column in ("misses", "miss_ratio"):
        interval = mean_interval([one[column] for one in rows])
        if len(rows) == 1 and not get_policy(results[0].policy).randomized:
            interval = Interval(row[column], row[column], row[column])
        row[f"{column}_ci_low"], row[f"{column}_ci_high"] = interval.low, interval.high
    return row


def _timeline_rows(results: Sequence[ReplayResult], window_misses: np.ndarray) -> pd.DataFrame:
    """The hourly timeline of a policy's replays at one size: each window's misses and backend writes,
    averaged over the replays' seeds."""
    first = results[0]
    windows = np.arange(len(window_misses))
    writes = np.mean([result.window_backend_writes for result in results], axis=0)
    return pd.DataFrame(
        {
            "policy": first.policy,
            "cache_size": first.capacity.amount,
            "size_unit": first.capacity.unit,
            "window_start_hours": windows * first.window_seconds / 3600.0,
            "misses": window_misses if len(results) > 1 else first.window_misses,
            "backend_writes": writes if len(results) > 1 else first.window_backend_writes,
        }
    )


def _against_lru(key: tuple[str, int, str], window_misses: Mapping[tuple[str, int, str], np.ndarray],
                 seed: int) -> dict[str, float]:  # fmt: skip
    """A row's misses minus LRU's at the same size, and the bootstrap interval of that over the windows."""
    lru = window_misses.get(("lru", *key[1:]))
    if lru is None:
        return {"misses_vs_lru": math.nan, "vs_lru_ci_low": math.nan, "vs_lru_ci_high": math.nan}
    difference = paired_difference(window_misses[key], lru, seed=seed)
    return {"misses_vs_lru": difference.estimate, "vs_lru_ci_low": difference.low, "vs_lru_ci_high": difference.high}


def bench(
    trace: Trace,
    policies: str | Sequence[str] | None = None,
    sizes: Sequence[int | str | Capacity] = DEFAULT_SIZES,
    *,
    seed: int = DEFAULT_SEED,
    seeds: int = 1,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    write_policy: str = "write-through",
    ttl: float | None = None,
    flush_interval: float | None = None,
    max_object_size: int | str | None = None,
    jobs: int | None = None,
    dask: str | None = None,
    scratch: str | os.PathLike | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> BenchResult:
    """Replay ``trace`` through every policy at every size, sorted best first.

    Each row carries ``opt_misses``, the floor's misses at the same size, and ``gap_to_opt`` (misses
    over the floor's, minus one). At an object capacity the floor is the registry's offline policy
    (Belady's MIN, exact), replayed even when it is not among ``policies``; at a byte capacity it is
    the lower bound ``opt-lower`` (``tuner.bounds``: no cache misses less), and when ``opt`` is among
    ``policies`` an ``opt-lower`` row joins its row there (``opt`` is then the offline best found).
    ``params`` maps a policy name to its parameters; ``write_policy``, ``ttl``, ``flush_interval``
    and ``max_object_size`` (bytes, or a size such as ``"8MiB"``) are ``tuner.replay``'s and apply
    to every replay and to the floor, so the gap compares like with like. ``jobs`` replays run in
    parallel threads (the compiled kernels release the GIL); with ``dask`` (a scheduler address, or
    ``local:N`` worker processes) each replay is a task of that Dask cluster instead, reading the
    trace from files written once to ``scratch`` (``tuner.grid.run_tasks``), and the results are the
    same. ``on_progress`` is called with ``(replays done, replays in all)`` after each replay, for
    progress bars.

    ``seeds`` replays each randomized policy that many times, with seeds
    ``seed``, ``seed + 1``, ...: its row holds the mean of each figure over
    them, ``seeds`` (how many), and ``misses_ci_low``/``_high`` and
    ``miss_ratio_ci_low``/``_high``, the 95 % t interval of the mean
    (``tuner.intervals``; NaN from a single replay; a deterministic policy,
    replayed once, is exact: its interval is its figure). When ``lru`` is
    among ``policies``, ``misses_vs_lru`` is each row's misses minus LRU's at
    the same size, with ``vs_lru_ci_low``/``_high`` its 95 % block-bootstrap
    interval over the hourly windows (seeded by ``seed``); an interval
    spanning zero says the difference is not significant.
    """
    chosen = named_policies(policies)
    if isinstance(seeds, bool) or not isinstance(seeds, int | np.integer) or seeds < 1:
        raise CachetuneError(f"seeds must be a whole number of at least 1, got {seeds!r}", parameter="seeds")
    check_choice("write_policy", write_policy, tuple(WRITE_POLICIES))
    largest = None if max_object_size is None else parse_byte_size(max_object_size, "max_object_size")
    operations = {"write_policy": write_policy, "ttl": ttl, "flush_interval": flush_interval,
                  "max_object_size": largest}  # fmt: skip
    # Sizes that come to one capacity (1% and 10% of a tiny trace) are replayed once, under the first of them.
    by_capacity: dict[tuple[int, str], Capacity] = {}
    for size in sizes:
        capacity = parse_capacity(size, trace.n_objects)
        by_capacity.setdefault((capacity.amount, capacity.unit), capacity)
    capacities = list(by_capacity.values())
    if not capacities:
        raise CachetuneError("sizes must hold at least one cache size", parameter="sizes")
    runs = [(policy, capacity, seed + offset) for capacity in capacities for policy in chosen
            for offset in range(seeds if policy.randomized else 1)]  # fmt: skip
    floor = floor_policy()
    has_floor = any(policy.name == floor.name for policy in chosen)
    by_bytes = [capacity for capacity in capacities if capacity.unit == BYTES]
    floor_runs = [] if has_floor else [(floor, capacity, seed) for capacity in capacities if capacity.unit != BYTES]
    for policy in chosen:  # fail on a bad parameter before any replay starts
        policy.resolve_params((params or {}).get(policy.name, {}))

    tasks = [ReplayTask(0, policy.name, capacity, {"seed": replay_seed, **operations,
                                                   **(params or {}).get(policy.name, {})})
             for policy, capacity, replay_seed in runs + floor_runs]  # fmt: skip
    results = run_tasks(lambda _: trace, tasks, jobs=jobs, dask=dask, scratch=scratch, on_progress=on_progress)
    floor_misses = {(r.capacity.amount, r.capacity.unit): r.misses for r in results if r.policy == floor.name}
    # A policy's replays at one size (one per seed for a randomized policy), in the order they were listed.
    grouped: dict[tuple[str, int, str], list[ReplayResult]] = {}
    for result in results[: len(runs)]:
        grouped.setdefault((result.policy, result.capacity.amount, result.capacity.unit), []).append(result)
    window_misses = {key: np.mean([r.window_misses for r in group], axis=0) for key, group in grouped.items()}
    rows = [replays_row(trace, group) | _against_lru(key, window_misses, seed) for key, group in grouped.items()]
    bounds = [lower_bound(trace, capacity, write_policy=write_policy, max_object_size=largest) for capacity in by_bytes]
    floor_misses.update({(bound.capacity.amount, bound.capacity.unit): bound.misses for bound in bounds})
    if has_floor:
        rows += [bound_row(trace, bound) for bound in bounds]
    for row in rows:
        row["opt_misses"] = floor_misses[(row["cache_size"], row["size_unit"])]
        row["gap_to_opt"] = row["misses"] / row["opt_misses"] - 1 if row["opt_misses"] else math.nan
    table = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    table = table.sort_values(["size_unit", "cache_size", "miss_ratio", "policy"], kind="stable").reset_index(drop=True)
    timeline = pd.concat([_timeline_rows(group, window_misses[key]) for key, group in grouped.items()],
                         ignore_index=True)  # fmt: skip
    options = {"policies": [policy.name for policy in chosen], "sizes": [str(size) for size in sizes], "seed": seed,
               "seeds": seeds,
               "params": {name: dict(given) for name, given in (params or {}).items()}, **operations,
               "jobs": jobs, "dask": dask, "scratch": None if scratch is None else str(scratch)}  # fmt: skip
    return BenchResult(table, timeline, options)
