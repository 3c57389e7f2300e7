"""The floor results are measured against: the fewest misses any cache could have at a capacity.

At an object capacity the floor is the registry's offline policy, ``opt``
(Belady's MIN): its misses are the optimum, exactly. At a byte capacity with
variable sizes the optimum is NP-hard to find, so the floor is two numbers
that bracket it, and every table and report names them for what they are:

- ``opt-lower``, the **lower bound**: no cache, offline or not, misses less
  (PFOO-L, ``tuner.engine.reuse``). It is a count, not a schedule: it has no
  timeline, no evictions and no byte miss ratio. Gaps (``gap_to_opt``) are
  measured against it, so a policy's gap is never understated.
- ``opt``, the **offline best found**: a schedule a cache could follow
  (``tuner.policies.opt``), an upper bound on the optimum.

The lower bound is computed here, not replayed: it sorts reuse intervals and
fills the cache's space-time, with no request loop. How requests count
(README, "Counting rules"): every GET counts, the first request of an object
included (always a miss: no interval ends there); an interval ends at the
object's next request, so the last request of each object starts none. With
writes: an interval can be a hit only when it ends at a GET and starts at a
GET or at a SET that writes the cache (not a DELETE, nor a write-around SET,
which leave the object absent). TTLs are not modelled: an expiry only takes
hits away, so the bound without them is still a bound, looser.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tuner.capacity import BYTES, OBJECTS, Capacity, parse_capacity
from tuner.engine.replay import Counts
from tuner.engine.reuse import NEVER, cheapest_that_fit, interval_costs, next_uses
from tuner.errors import check_choice
from tuner.policies import floor_policy
from tuner.trace import GET, SET, Trace

LOWER_BOUND = "opt-lower"
WRITE_POLICIES = ("write-through", "write-back", "write-around")


@dataclass(frozen=True)
class LowerBound(Counts):
    """The fewest GET misses any cache of ``capacity`` could have on a trace (counts of GETs, as a
    replay's). ``intervals`` is how many reuse intervals fit (the most hits), ``dearest`` the cost
    (size × distance) of the dearest of them (-1 when none fits)."""

    policy: str = LOWER_BOUND
    capacity: Capacity | None = None
    intervals: int = 0
    dearest: int = -1

    @property
    def byte_miss_ratio(self) -> float:
        """Not bounded: the intervals are chosen to count hits, not bytes."""
        return math.nan


def lower_bound(trace: Trace, capacity: int | str | Capacity, *, write_policy: str = "write-through",
                max_object_size: int | None = None) -> LowerBound:  # fmt: skip
    """The lower bound on ``trace``'s GET misses at ``capacity`` (see the module docstring).

    ``write_policy`` says whether a SET leaves the object cached (write-through, write-back) or not
    (write-around); ``max_object_size`` (bytes) leaves larger objects out at byte capacities, as a
    replay refuses them.
    """
    check_choice("write_policy", write_policy, WRITE_POLICIES)
    size = parse_capacity(capacity, trace.n_objects)
    by_bytes = size.unit == BYTES
    sizes = trace.sizes if by_bytes else trace.unit_sizes
    largest = size.amount if max_object_size is None or not by_bytes else min(size.amount, int(max_object_size))
    following = next_uses(trace.ids, trace.n_objects)
    counted = _countable(trace.ops, following, write_policy) if trace.has_writes else None
    costs = interval_costs(trace.ids, sizes, trace.n_objects, largest, counted, following)
    taken = cheapest_that_fit(costs, size.amount, len(trace))
    gets = int(np.count_nonzero(trace.ops == GET)) if trace.has_writes else len(trace)
    span = float(trace.timestamps[-1] - trace.timestamps[0]) if len(trace) else 0.0
    if by_bytes:
        read = trace.sizes if not trace.has_writes else trace.sizes[trace.ops == GET]
        bytes_requested = int(read.sum())
    else:
        bytes_requested = gets
    return LowerBound(gets, gets - taken, bytes_requested, math.nan, span, capacity=size, intervals=taken,
                      dearest=int(costs[taken - 1]) if taken else -1)  # fmt: skip


def _countable(ops: np.ndarray, following: np.ndarray, write_policy: str) -> np.ndarray:
    """Per request, whether the interval from it to the object's next request can end in a hit: it
    ends at a GET and starts at a request that leaves the object cached (a GET, or a SET that writes
    the cache; never a DELETE)."""
    has_next = following != NEVER
    ends_at_get = np.zeros(len(ops), bool)
    ends_at_get[has_next] = ops[following[has_next]] == GET
    leaves_cached = (ops == GET) | ((ops == SET) & (write_policy != "write-around"))
    return ends_at_get & leaves_cached


def floor_names(unit: str) -> tuple[str, ...]:
    """The floor rows at a capacity in ``unit``: ``opt`` for objects; ``opt-lower`` and ``opt`` for bytes."""
    return (floor_policy().name,) if unit == OBJECTS else (LOWER_BOUND, floor_policy().name)


def is_floor(name: str) -> bool:
    """Whether ``name`` is a floor row (the lower bound or the offline policy), never a choice."""
    return name in (LOWER_BOUND, floor_policy().name)


def floor_label(name: str, unit: str) -> str:
    """What a floor row is, in words: ``optimum`` (objects), ``lower bound`` or ``offline best found`` (bytes)."""
    if name == LOWER_BOUND:
        return "lower bound"
    return "optimum (Belady)" if unit == OBJECTS else "offline best found"
