"""Miss-ratio curves: one policy's miss ratio over many cache sizes, as one table.

Three ways to get there, chosen by ``method``:

- ``exact``: LRU at object capacities from one pass of Mattson's stack
  algorithm (``stack_distance``); any other policy, or byte capacities, by a
  full replay per size. Exact either way.
- ``shards``: LRU at object capacities from a spatial sample (``shards``).
- ``mini``: any policy, replayed on a spatial sample with a proportionally
  smaller cache (``miniature``).

``auto`` takes ``exact`` for LRU (its one pass costs about as much as a few
replays) and for traces small enough to replay at every size, ``mini``
otherwise.

``miss_ratio_curves`` puts several policies' curves in one table, with the
floor's beside them (at byte capacities both the lower bound and the offline
best found), as ``cachetune mrc`` shows them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from tuner.bounds import LOWER_BOUND, lower_bound
from tuner.capacity import BYTES, OBJECTS, Capacity, parse_capacity
from tuner.engine.replay import replay
from tuner.errors import CachetuneError, check_choice
from tuner.lineup import named_policies, named_policy
from tuner.mrc import miniature, shards
from tuner.mrc.sampling import check_rate
from tuner.mrc.stack_distance import lru_misses
from tuner.policies import floor_policy
from tuner.seeds import DEFAULT_SEED
from tuner.trace import Trace

METHODS = ("auto", "exact", "shards", "mini")
COLUMNS = ["policy", "cache_size", "size_unit", "miss_ratio", "misses", "method", "sample_rate"]
# ``auto`` replays every size in full while that replays at most this many requests in total.
AUTO_REPLAY_REQUESTS = 100_000_000


def default_sizes(trace: Trace, points: int = 20) -> list[int]:
    """About ``points`` object counts spaced evenly on a log scale from 0.1% to 100% of unique objects."""
    top = max(trace.n_objects, 1)
    grid = np.geomspace(max(top / 1000, 1), top, points)
    return sorted({round(float(size)) for size in grid})


def miss_ratio_curve(
    trace: Trace,
    policy: str = "lru",
    sizes: Sequence[int | str | Capacity] | None = None,
    method: str = "auto",
    sample_rate: float | None = None,
    *,
    seed: int = DEFAULT_SEED,
    **params: Any,
) -> pd.DataFrame:
    """Miss ratio of ``policy`` on ``trace`` at each of ``sizes``, one row per size.

    ``sizes`` are capacities as ``tuner.replay`` reads them (objects, bytes
    such as ``"64MiB"``, or ``"1%"``); by default ``default_sizes(trace)``.
    ``sample_rate`` is the share of objects sampled by ``shards`` (default
    0.01) and ``mini`` (default 0.1); ``seed`` picks the sample and seeds
    randomized policies; ``params`` are the policy's own parameters.

    Columns: ``policy, cache_size, size_unit, miss_ratio, misses, method,
    sample_rate``. ``method`` says how each row was obtained (``exact``
    one-pass, ``replay``, ``shards`` or ``mini``); estimated rows give misses
    as the ratio times the trace's requests, rounded (NA when a sample came
    out empty).
    """
    check_choice("method", method, METHODS)
    if sample_rate is not None:
        check_rate(sample_rate)
    chosen = named_policy(policy)
    chosen.resolve_params(params)
    chosen_sizes = default_sizes(trace) if sizes is None else sizes
    capacities = [parse_capacity(size, trace.n_objects) for size in chosen_sizes]
    one_pass = chosen.name == "lru" and all(capacity.unit == OBJECTS for capacity in capacities)
    if method == "auto":
        small = len(trace) * len(capacities) <= AUTO_REPLAY_REQUESTS
        method = "exact" if one_pass or small else "mini"
    if method == "exact":
        rows = _exact_rows(trace, chosen.name, capacities, one_pass, seed, params)
    elif method == "shards":
        if not one_pass:
            raise CachetuneError("method 'shards' estimates LRU at object capacities only; use 'mini' for others",
                                 parameter="method")  # fmt: skip
        rate = sample_rate or shards.DEFAULT_RATE
        ratios = shards.shards_miss_ratios(trace, [capacity.amount for capacity in capacities], rate, seed)
        rows = [(capacity, ratio, "shards", rate) for capacity, ratio in zip(capacities, ratios, strict=True)]
    else:
        rows = _miniature_rows(trace, chosen.name, capacities, sample_rate or miniature.DEFAULT_RATE, seed, params)
    return _table(trace, chosen.name, rows)


@dataclass(frozen=True)
class CurvesResult:
    """Every policy's curve in one table (``miss_ratio_curve``'s columns), and the arguments that produced it;
    for a sharded fleet (``tuner.mrc.fleet``), ``shards`` holds each shard's own curves."""

    table: pd.DataFrame
    options: dict[str, Any]
    shards: pd.DataFrame | None = None

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table by the name of the run file it is saved as (``curves.csv``, a fleet's ``shards.csv``)."""
        return {"curves": self.table, **({} if self.shards is None else {"shards": self.shards})}


def miss_ratio_curves(
    trace: Trace,
    policies: str | Sequence[str] | None = "lru",
    sizes: Sequence[int | str | Capacity] | None = None,
    method: str = "auto",
    sample_rate: float | None = None,
    *,
    seed: int = 0,
    with_floor: bool = True,
    on_progress: Callable[[int, int], None] | None = None,
) -> CurvesResult:
    """``miss_ratio_curve`` for each of ``policies`` at the same ``sizes``, one table, in the order given.

    With ``with_floor``, the floor's curves join any comparison beyond LRU
    alone (LRU's exact curve takes one pass, while OPT's takes a replay per
    size, which would cost more than the curve it is a floor for): OPT's
    (Belady's optimum at object capacities, the offline best found at byte
    capacities) and, at byte capacities, the lower bound ``opt-lower``
    (``tuner.bounds``; computed, not replayed: method ``bound``). ``on_progress`` is called with ``(curves done, curves
    in all)`` after each policy, for progress bars.
    """
    names = [policy.name for policy in named_policies(policies)]
    floor = floor_policy().name
    if with_floor and floor not in names and names != ["lru"]:
        names.append(floor)
    chosen_sizes = default_sizes(trace) if sizes is None else list(sizes)
    parts = []
    for done, name in enumerate(names, 1):
        parts.append(miss_ratio_curve(trace, name, chosen_sizes, method, sample_rate, seed=seed))
        if on_progress is not None:
            on_progress(done, len(names))
    by_bytes = [capacity for capacity in (parse_capacity(size, trace.n_objects) for size in chosen_sizes)
                if capacity.unit == BYTES]  # fmt: skip
    if floor in names and by_bytes:
        bounds = [
            (bound.capacity, bound.miss_ratio, "bound", 1.0) for bound in map(partial(lower_bound, trace), by_bytes)
        ]
        parts.append(_table(trace, LOWER_BOUND, bounds))
        names.append(LOWER_BOUND)
    options = {"policies": names, "sizes": [str(size) for size in chosen_sizes], "method": method,
               "sample_rate": sample_rate, "seed": seed, "with_floor": with_floor}  # fmt: skip
    return CurvesResult(pd.concat(parts, ignore_index=True), options)


def _exact_rows(trace, policy, capacities, one_pass, seed, params):
    if one_pass:
        misses = lru_misses(trace.ids, trace.n_objects, [capacity.amount for capacity in capacities])
        requests = max(len(trace), 1)
        return [(capacity, count / requests, "exact", 1.0) for capacity, count in zip(capacities, misses, strict=True)]
    return [
        (capacity, replay(trace, policy, capacity, seed=seed, **params).miss_ratio, "replay", 1.0)
        for capacity in capacities
    ]


def _miniature_rows(trace, policy, capacities, rate, seed, params):
    simulator = miniature.MiniatureSimulator(trace, rate, seed)
    rows = []
    for capacity in capacities:
        mini = simulator.miniature(capacity)
        if not len(mini.trace):
            rows.append((capacity, float("nan"), "mini", mini.rate))
            continue
        result = replay(mini.trace, policy, mini.capacity, seed=seed, **params)
        rows.append((capacity, simulator.estimate(result, mini).miss_ratio, "mini" if mini.rate < 1.0 else "replay",
                     mini.rate))  # fmt: skip
    return rows


def _table(trace: Trace, policy: str, rows) -> pd.DataFrame:
    records = [
        {
            "policy": policy,
            "cache_size": capacity.amount,
            "size_unit": capacity.unit,
            "miss_ratio": float(ratio),
            "misses": round(ratio * len(trace)) if np.isfinite(ratio) else pd.NA,
            "method": how,
            "sample_rate": float(rate),
        }
        for capacity, ratio, how, rate in rows
    ]
    return pd.DataFrame.from_records(records, columns=COLUMNS).astype({"misses": "Int64"})


# How ``miss_ratio_curve`` obtained its rows, in words (its ``method`` column).
METHOD_WORDS = {
    "exact": "exact, one pass",
    "replay": "exact, a replay per size",
    "shards": "SHARDS estimate",
    "mini": "miniature simulation",
    "bound": "lower bound (PFOO-L), computed",
}


def how_obtained(rows: pd.DataFrame) -> str:
    """How one policy's rows were obtained, e.g. ``exact, a replay per size, miniature simulation at rate 0.1``.

    A curve may mix methods (``mini`` replays small traces in full), so each
    one is named, with the lowest sampling rate it used.
    """
    parts = []
    for method, group in rows.groupby("method", sort=False):
        rate = group["sample_rate"].min()
        parts.append(METHOD_WORDS.get(str(method), str(method)) + (f" at rate {rate:g}" if rate < 1 else ""))
    return ", ".join(parts)
