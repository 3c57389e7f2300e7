"""Replay a trace through one policy at one capacity: the library's core call."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tuner.capacity import OBJECTS, Capacity, parse_capacity
from tuner.engine import kernel
from tuner.policies import Policy, PolicyInput, get_policy
from tuner.seeds import DEFAULT_SEED
from tuner.trace import Trace

HOUR = 3600.0


@dataclass(frozen=True)
class ReplayResult:
    """What one replay measured. Every request counts, cold misses included."""

    policy: str
    params: dict[str, Any]
    capacity: Capacity
    requests: int
    hits: int
    misses: int
    bytes_requested: int
    bytes_missed: int
    evictions: int
    peak_used: int  # the most capacity in use at once, in the capacity's unit
    span_seconds: float
    window_seconds: float
    window_misses: np.ndarray = field(repr=False)
    window_bytes_hit: np.ndarray = field(repr=False)  # per window too: its bytes missed = bytes requested - these
    seconds: float = 0.0

    @property
    def miss_ratio(self) -> float:
        return self.misses / self.requests if self.requests else math.nan

    @property
    def byte_miss_ratio(self) -> float:
        return self.bytes_missed / self.bytes_requested if self.bytes_requested else math.nan

    @property
    def misses_per_hour(self) -> float:
        """Misses divided by the trace's span in hours (NaN for a zero span)."""
        return self.misses / (self.span_seconds / HOUR) if self.span_seconds > 0 else math.nan


def replay(
    trace: Trace,
    policy: str | Policy,
    capacity: int | str | Capacity,
    *,
    seed: int = DEFAULT_SEED,
    ttl: float | None = None,
    window_seconds: float = HOUR,
    **params: Any,
) -> ReplayResult:
    """Replay ``trace`` through ``policy`` with a cache of ``capacity``.

    ``capacity`` is an object count, a byte size such as ``"64MiB"`` or a share
    of the trace's unique objects such as ``"1%"``. ``params`` are the policy's
    own parameters (see ``cachetune policies``); ``seed`` fixes randomized
    policies; ``ttl`` (seconds) expires entries that were fetched that long
    ago; misses are also counted per ``window_seconds`` for timelines.
    """
    result, _, _ = replay_with_state(
        trace, policy, capacity, seed=seed, ttl=ttl, window_seconds=window_seconds, **params
    )
    return result


def replay_with_state(
    trace: Trace,
    policy: str | Policy,
    capacity: int | str | Capacity,
    *,
    seed: int = DEFAULT_SEED,
    ttl: float | None = None,
    window_seconds: float = HOUR,
    **params: Any,
) -> tuple[ReplayResult, tuple, tuple]:
    """``replay``, also returning the policy's final state and arrays, so
    tests can check a policy's queues against a hand-traced sequence."""
    chosen = get_policy(policy) if isinstance(policy, str) else policy
    resolved_params = chosen.resolve_params(params)
    size = parse_capacity(capacity, trace.n_objects)
    if window_seconds <= 0:
        raise ValueError("window_seconds must be positive")
    if ttl is not None and ttl <= 0:
        raise ValueError("ttl must be positive")
    count_objects = size.unit == OBJECTS
    requests = (trace.ids, trace.sizes, trace.timestamps, trace.window_ends(window_seconds))
    cached = np.full(max(trace.n_objects, 1), -1, _residency_dtype(trace, count_objects))
    config = (np.int64(size.amount), count_objects, float(ttl or 0.0), cached)
    sizes = trace.unit_sizes if count_objects else trace.sizes
    policy_input = PolicyInput(trace.ids, sizes, trace.timestamps, trace.n_objects, size.amount, seed)
    state, arrays = chosen.init(policy_input, resolved_params)
    began = time.perf_counter()
    state, stats, window_misses, window_bytes_hit = chosen.replay(requests, config, state, arrays)
    elapsed = time.perf_counter() - began
    result = ReplayResult(
        policy=chosen.name,
        params=resolved_params,
        capacity=size,
        requests=len(trace),
        hits=int(stats[kernel.HITS]),
        misses=int(stats[kernel.MISSES]),
        bytes_requested=int(stats[kernel.BYTES_REQUESTED]),
        bytes_missed=int(stats[kernel.BYTES_MISSED]),
        evictions=int(stats[kernel.EVICTIONS]),
        peak_used=int(stats[kernel.PEAK_USED]),
        span_seconds=trace.span_seconds,
        window_seconds=float(window_seconds),
        window_misses=window_misses,
        window_bytes_hit=window_bytes_hit,
        seconds=elapsed,
    )
    return result, state, arrays


def _residency_dtype(trace: Trace, count_objects: bool) -> type:
    """int32 bytes per cached object (half the memory traffic of int64) unless one is 2 GiB or more."""
    return np.int32 if count_objects or trace.largest_size <= np.iinfo(np.int32).max else np.int64
