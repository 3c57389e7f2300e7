"""What a trial minimises, computed from one replay.

``misses-per-hour`` (default), ``miss-ratio`` and ``byte-miss-ratio`` score
the misses alone within the budget; ``cost`` prices both sides of the trade,
``misses/hour × miss_cost + capacity in GB × memory_cost`` per hour, so a
bigger cache must pay for itself. ``backend-ops`` minimises what reaches the
backend, reads (GET misses) and writes per hour, so it weighs write policies
and timeouts as well as evictions. ``--pareto`` instead keeps misses/hour and
capacity as two objectives and reports the front. For a fleet of ``shards``
caches the capacity scored is each shard's, and ``cost`` pays for all of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from tuner.capacity import BYTES
from tuner.engine.replay import Counts
from tuner.errors import CachetuneError, check_choice

OBJECTIVES = ("misses-per-hour", "miss-ratio", "byte-miss-ratio", "cost", "backend-ops")
GB = 1e9


@dataclass(frozen=True)
class Objective:
    """How a trial is scored; ``bytes_per_object`` converts object capacities to GB for ``cost``, which pays
    for ``shards`` caches of the capacity scored."""

    name: str = "misses-per-hour"
    miss_cost: float = 1.0
    memory_cost: float = 1.0
    bytes_per_object: float = 1.0
    shards: int = 1

    def __post_init__(self) -> None:
        check_choice("objective", self.name, OBJECTIVES)
        for name, cost in (("miss_cost", self.miss_cost), ("memory_cost", self.memory_cost)):
            if cost < 0:
                raise CachetuneError(f"{name} must not be negative, got {cost:g}", parameter=name)

    def capacity_gb(self, capacity: int, unit: str) -> float:
        per_cache = capacity / GB if unit == BYTES else capacity * self.bytes_per_object / GB
        return per_cache * self.shards

    def score(self, measured: Counts, capacity: int, unit: str) -> float:
        """The value a trial reports (lower is better); ``backend-ops`` needs a whole replay (a ReplayResult)."""
        if self.name == "miss-ratio":
            return measured.miss_ratio
        if self.name == "byte-miss-ratio":
            return measured.byte_miss_ratio
        if self.name == "backend-ops":
            return measured.backend_ops_per_hour
        if self.name == "cost":
            return measured.misses_per_hour * self.miss_cost + self.capacity_gb(capacity, unit) * self.memory_cost
        return measured.misses_per_hour
