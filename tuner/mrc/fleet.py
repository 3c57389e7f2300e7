"""A sharded fleet's miss-ratio curves, exact per shard: ``cachetune mrc --shards N``.

Each point is the fleet at total size S: N caches of ``S // N`` each
(``tuner.shards.shard_capacity_of``), every key on the shard its client's hash
picks. A shard's curve is exact on its own sub-trace: for LRU at object
capacities (and a read-only sub-trace without TTLs, where LRU is a stack
algorithm) one Mattson pass gives it at every size; any other policy, or
byte capacities, replays the shard at each size. The fleet's misses at S are
the shards' misses summed, so the curve equals ``shard_replay`` at every
size. Sampling (``shards``, ``mini``) estimates one cache's curve and is not
offered: the per-shard curves are what sampling would blur.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from tuner.bounds import LOWER_BOUND, lower_bound
from tuner.capacity import BYTES, OBJECTS, Capacity, parse_capacity
from tuner.engine.replay import replay
from tuner.errors import CachetuneError, check_choice
from tuner.fleet import Fleet
from tuner.lineup import named_policies
from tuner.mrc.curve import COLUMNS, METHODS, CurvesResult, default_sizes
from tuner.mrc.stack_distance import lru_misses
from tuner.policies import floor_policy
from tuner.seeds import DEFAULT_SEED
from tuner.shards import shard_capacity_of
from tuner.trace import Trace

FLEET_COLUMNS = [*COLUMNS, "shard_capacity", "imbalance_requests", "imbalance_misses"]
SHARD_CURVE_COLUMNS = ["policy", "cache_size", "shard", "shard_capacity", "size_unit", "requests", "misses",
                       "miss_ratio"]  # fmt: skip


def check_fleet_method(method: str) -> None:
    """A fleet's curves are exact per shard: ``auto`` and ``exact`` only (a one-line error for the samplers)."""
    check_choice("method", method, METHODS)
    if method not in ("auto", "exact"):
        raise CachetuneError(f"method {method!r} estimates one cache from a sample; a fleet's curves are exact "
                             "per shard: use method exact (or auto)", parameter="method")  # fmt: skip


def _shard_misses(part: Trace, policy: str, capacities: list[Capacity], seed: int) -> tuple[list[int], list[int], str]:
    """One shard's GETs and misses at each per-shard capacity, and how they were obtained."""
    if policy == LOWER_BOUND:
        bounds = [lower_bound(part, capacity) for capacity in capacities]
        return [int(one.requests) for one in bounds], [int(one.misses) for one in bounds], "bound"
    one_pass = (policy == "lru" and not part.has_writes and not part.has_ttls
                and all(capacity.unit == OBJECTS for capacity in capacities))  # fmt: skip
    if one_pass:
        misses = lru_misses(part.ids, part.n_objects, [capacity.amount for capacity in capacities])
        return [len(part)] * len(capacities), [int(count) for count in misses], "exact"
    results = [replay(part, policy, capacity, seed=seed) for capacity in capacities]
    return [one.requests for one in results], [one.misses for one in results], "replay"


def _over_mean(values: np.ndarray) -> float:
    mean = float(values.mean())
    return float(values.max()) / mean if mean > 0 else float("nan")


def fleet_curves(
    trace: Trace,
    policies: str | Sequence[str] | None = "lru",
    sizes: Sequence[int | str | Capacity] | None = None,
    method: str = "auto",
    *,
    shards: int,
    shard_hash: str = "redis-cluster",
    seed: int = DEFAULT_SEED,
    with_floor: bool = True,
    on_progress: Callable[[int, int], None] | None = None,
) -> CurvesResult:
    """Each policy's fleet curve at the fleet sizes ``sizes`` (split evenly over ``shards``), exactly.

    ``curves`` has ``miss_ratio_curve``'s columns at the fleet's size, plus
    ``shard_capacity`` and the imbalance (the busiest shard's requests and
    misses over the mean); ``shards`` has each shard's own curve (its requests,
    misses and miss ratio at each per-shard size). The floor joins as in
    ``miss_ratio_curves``: OPT replayed per shard, and at byte sizes the lower
    bound summed over the shards. ``on_progress`` gets ``(curves done, curves in all)``.
    """
    check_fleet_method(method)
    fleet = Fleet.route(trace, shards, shard_hash)
    chosen_sizes = default_sizes(trace) if sizes is None else list(sizes)
    capacities = [shard_capacity_of(trace, size, shards) for size in chosen_sizes]
    fleet_sizes = [parse_capacity(size, trace.n_objects).amount for size in chosen_sizes]
    names = [policy.name for policy in named_policies(policies)]
    floor = floor_policy().name
    if with_floor and floor not in names and names != ["lru"]:
        names.append(floor)
    if floor in names and any(capacity.unit == BYTES for capacity in capacities):
        names.append(LOWER_BOUND)
    curve_rows, shard_rows = [], []
    for done, name in enumerate(names, 1):
        requests = np.zeros((shards, len(capacities)), np.int64)
        misses = np.zeros((shards, len(capacities)), np.int64)
        hows = set()
        for shard, part in enumerate(fleet.parts):
            requests[shard], misses[shard], how = _shard_misses(part, name, capacities, seed)
            hows.add(how)
        how = "replay" if "replay" in hows else min(hows)
        for k, capacity in enumerate(capacities):
            fleet_requests, fleet_misses = int(requests[:, k].sum()), int(misses[:, k].sum())
            curve_rows.append({"policy": name, "cache_size": fleet_sizes[k], "size_unit": capacity.unit,
                               "miss_ratio": fleet_misses / fleet_requests if fleet_requests else float("nan"),
                               "misses": fleet_misses, "method": how,
                               "sample_rate": 1.0, "shard_capacity": capacity.amount,
                               "imbalance_requests": _over_mean(requests[:, k]),
                               "imbalance_misses": _over_mean(misses[:, k])})  # fmt: skip
            shard_rows += [{"policy": name, "cache_size": curve_rows[-1]["cache_size"], "shard": shard,
                            "shard_capacity": capacity.amount, "size_unit": capacity.unit,
                            "requests": int(requests[shard, k]), "misses": int(misses[shard, k]),
                            "miss_ratio": misses[shard, k] / requests[shard, k] if requests[shard, k] else float("nan")}
                           for shard in range(shards)]  # fmt: skip
        if on_progress is not None:
            on_progress(done, len(names))
    options = {"policies": names, "sizes": [str(size) for size in chosen_sizes], "method": "exact", "sample_rate": None,
               "seed": seed, "with_floor": with_floor, "shards": shards, "shard_hash": shard_hash}  # fmt: skip
    return CurvesResult(pd.DataFrame(curve_rows, columns=FLEET_COLUMNS), options,
                        pd.DataFrame(shard_rows, columns=SHARD_CURVE_COLUMNS))  # fmt: skip
