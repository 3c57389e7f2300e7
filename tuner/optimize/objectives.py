"""What a trial minimises, computed from one replay.

``misses-per-hour`` (default), ``miss-ratio`` and ``byte-miss-ratio`` score
the misses alone within the budget; ``cost`` prices both sides of the trade,
``misses/hour × miss_cost + capacity in GB × memory_cost`` per hour, so a
bigger cache must pay for itself. ``--pareto`` instead keeps misses/hour and
capacity as two objectives and reports the front.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tuner.capacity import BYTES
from tuner.engine.replay import HOUR, ReplayResult
from tuner.errors import CachetuneError, check_choice
from tuner.optimize.traces import Sample

OBJECTIVES = ("misses-per-hour", "miss-ratio", "byte-miss-ratio", "cost")
GB = 1e9


@dataclass(frozen=True)
class Measured:
    """A replay's figures, scaled back to the full trace when the replay saw a spatial sample."""

    misses_per_hour: float
    miss_ratio: float
    byte_miss_ratio: float

    @classmethod
    def of(cls, result: ReplayResult, sample: Sample | None = None, span_seconds: float | None = None) -> Measured:
        """The figures of ``result``; for a replay of ``sample``, estimates for the whole trace it came from.

        Sampled misses are divided by the nominal rate, not by the share of
        requests the sample happened to keep: requests a sample lacks beyond its
        expected share are mostly to a few very popular keys, which hit
        (Waldspurger et al.'s SHARDS-adj correction, FAST 2015).
        """
        span = result.span_seconds if span_seconds is None else span_seconds
        if sample is None or sample.rate == 1.0:
            misses, bytes_missed = float(result.misses), float(result.bytes_missed)
            requests, bytes_requested = result.requests, result.bytes_requested
        else:
            misses, bytes_missed = result.misses / sample.rate, result.bytes_missed / sample.rate
            requests, bytes_requested = sample.source_requests, sample.source_bytes
        return cls(
            misses / (span / HOUR) if span > 0 else math.nan,
            min(1.0, misses / requests) if requests else math.nan,
            min(1.0, bytes_missed / bytes_requested) if bytes_requested else math.nan,
        )


@dataclass(frozen=True)
class Objective:
    """How a trial is scored; ``bytes_per_object`` converts object capacities to GB for ``cost``."""

    name: str = "misses-per-hour"
    miss_cost: float = 1.0
    memory_cost: float = 1.0
    bytes_per_object: float = 1.0

    def __post_init__(self) -> None:
        check_choice("objective", self.name, OBJECTIVES)
        for name, cost in (("miss_cost", self.miss_cost), ("memory_cost", self.memory_cost)):
            if cost < 0:
                raise CachetuneError(f"{name} must not be negative, got {cost:g}", parameter=name)

    def capacity_gb(self, capacity: int, unit: str) -> float:
        return capacity / GB if unit == BYTES else capacity * self.bytes_per_object / GB

    def score(self, measured: Measured, capacity: int, unit: str) -> float:
        """The value a trial reports (lower is better)."""
        if self.name == "miss-ratio":
            return measured.miss_ratio
        if self.name == "byte-miss-ratio":
            return measured.byte_miss_ratio
        if self.name == "cost":
            return measured.misses_per_hour * self.miss_cost + self.capacity_gb(capacity, unit) * self.memory_cost
        return measured.misses_per_hour
