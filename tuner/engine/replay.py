"""Replay a trace through one policy at one capacity: the library's core call."""

from __future__ import annotations

import inspect
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tuner.capacity import OBJECTS, Capacity, parse_capacity
from tuner.engine import kernel
from tuner.errors import CachetuneError
from tuner.policies import Policy, PolicyInput, get_policy
from tuner.seeds import DEFAULT_SEED
from tuner.trace import Trace

HOUR = 3600.0


@dataclass(frozen=True)
class Counts:
    """Requests and misses over a stretch of a trace: the one home of every ratio and rate.

    Counts are exact integers for a replay, or estimates (floats) for a
    sampled one scaled back to the trace it came from. ``span_seconds`` is the
    stretch's length in trace time (misses per hour divide by it). Every
    request counts, cold misses included.
    """

    requests: float
    misses: float
    bytes_requested: float
    bytes_missed: float
    span_seconds: float

    @property
    def hits(self) -> float:
        return self.requests - self.misses

    @property
    def miss_ratio(self) -> float:
        return min(1.0, self.misses / self.requests) if self.requests else math.nan

    @property
    def byte_miss_ratio(self) -> float:
        return min(1.0, self.bytes_missed / self.bytes_requested) if self.bytes_requested else math.nan

    @property
    def misses_per_hour(self) -> float:
        """Misses divided by the span in hours (NaN for a zero span)."""
        return self.misses / (self.span_seconds / HOUR) if self.span_seconds > 0 else math.nan

    def scaled(self, rate: float, requests: float, bytes_requested: float, span_seconds: float) -> Counts:
        """The counts of a replay of a spatial sample at ``rate``, as estimates for the trace it came from.

        Sampled misses are divided by the nominal rate, not by the share of
        requests the sample happened to keep: requests a sample lacks beyond its
        expected share are mostly to a few very popular keys, which hit
        (Waldspurger et al.'s SHARDS-adj correction, FAST 2015).
        """
        if rate == 1.0:
            return self
        return Counts(requests, self.misses / rate, bytes_requested, self.bytes_missed / rate, span_seconds)


@dataclass(frozen=True)
class ReplayResult(Counts):
    """What one replay measured: the counts of the whole trace, and where they came from.

    ``window_misses`` and ``window_bytes_hit`` are the timeline (one entry per
    ``window_seconds`` of trace time); ``checkpoint_counts[k]`` are the counts
    of the requests before position ``checkpoints[k]``.
    """

    policy: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    capacity: Capacity | None = None
    evictions: int = 0
    used: int = 0  # the capacity in use when the trace ends, in the capacity's unit
    window_seconds: float = HOUR
    window_misses: np.ndarray = field(default=None, repr=False)
    window_bytes_hit: np.ndarray = field(default=None, repr=False)  # a window's bytes missed = requested - these
    checkpoints: tuple[int, ...] = ()
    checkpoint_counts: tuple[Counts, ...] = field(default=(), repr=False)
    seconds: float = 0.0

    def counts_before(self, checkpoint: int) -> Counts:
        """The counts of the requests before position ``checkpoint`` (one of ``checkpoints``)."""
        return self.checkpoint_counts[self.checkpoints.index(checkpoint)]

    def counts_from(self, checkpoint: int) -> Counts:
        """The counts of the requests from position ``checkpoint`` to the end; the span starts at the
        request before it, so the two parts' spans add up to the whole."""
        before = self.counts_before(checkpoint)
        return Counts(self.requests - before.requests, self.misses - before.misses,
                      self.bytes_requested - before.bytes_requested, self.bytes_missed - before.bytes_missed,
                      self.span_seconds - before.span_seconds)  # fmt: skip


def replay(
    trace: Trace,
    policy: str | Policy,
    capacity: int | str | Capacity,
    *,
    seed: int = DEFAULT_SEED,
    ttl: float | None = None,
    window_seconds: float = HOUR,
    checkpoints: Sequence[int] = (),
    **params: Any,
) -> ReplayResult:
    """Replay ``trace`` through ``policy`` with a cache of ``capacity``.

    ``capacity`` is an object count, a byte size such as ``"64MiB"`` or a share
    of the trace's unique objects such as ``"1%"``. ``params`` are the policy's
    own parameters (see ``cachetune policies``); ``seed`` fixes randomized
    policies; ``ttl`` (seconds) expires entries that were fetched that long
    ago; misses are also counted per ``window_seconds`` for timelines, and
    up to each of ``checkpoints`` (request positions) for held-out figures.
    """
    return _replay(trace, policy, capacity, seed, ttl, window_seconds, checkpoints, params)[0]


def replay_with_state(trace: Trace, policy: str | Policy, capacity: int | str | Capacity,
                      **options: Any) -> tuple[ReplayResult, tuple, tuple]:  # fmt: skip
    """``replay`` with the same ``options``, also returning the policy's final state and arrays, so
    tests can check a policy's queues against a hand-traced sequence."""
    bound = inspect.signature(replay).bind(trace, policy, capacity, **options)
    bound.apply_defaults()
    given = bound.arguments
    return _replay(trace, policy, capacity, given["seed"], given["ttl"], given["window_seconds"],
                   given["checkpoints"], given["params"])  # fmt: skip


def _replay(trace, policy, capacity, seed, ttl, window_seconds, checkpoints, params):
    """The replay itself, behind both public functions: their options in order."""
    chosen = get_policy(policy) if isinstance(policy, str) else policy
    resolved_params = chosen.resolve_params(params)
    size = parse_capacity(capacity, trace.n_objects)
    if not window_seconds > 0:
        raise CachetuneError(f"window_seconds must be positive, got {window_seconds}", parameter="window_seconds")
    if ttl is not None and not ttl > 0:
        raise CachetuneError(f"ttl must be positive, got {ttl}", parameter="ttl")
    marks = tuple(int(position) for position in checkpoints)
    if any(not 0 <= position <= len(trace) for position in marks):
        raise CachetuneError(f"checkpoints must be request positions from 0 to {len(trace)}", parameter="checkpoints")
    count_objects = size.unit == OBJECTS
    window_ends = trace.window_ends(window_seconds)
    bounds = np.union1d(window_ends, np.asarray(marks, np.int64)).astype(np.int64)
    bounds = bounds[bounds > 0] if len(trace) else bounds
    requests = kernel.Requests(trace.ids, trace.sizes, trace.timestamps, bounds, None)
    cache = kernel.Cache(
        np.full(max(trace.n_objects, 1), -1, _residency_dtype(trace, count_objects)), np.zeros(kernel.N_TALLY, np.int64)
    )
    sizes = trace.unit_sizes if count_objects else trace.sizes
    policy_input = PolicyInput(trace.ids, sizes, trace.timestamps, trace.n_objects, size.amount, seed)
    state, arrays = chosen.init(policy_input, resolved_params)
    began = time.perf_counter()
    run = kernel.Run(requests, np.int64(size.amount), None if ttl is None else float(ttl), cache)
    state, segment_hits, segment_bytes_hit = chosen.replay(run, state, arrays)
    elapsed = time.perf_counter() - began
    segments = _Segments(trace, bounds, segment_hits, segment_bytes_hit, count_objects)
    whole = segments.counts_before(len(trace))
    window_misses, window_bytes_hit = segments.per_window(window_ends)
    tally = cache.tally
    result = ReplayResult(
        **vars(whole),
        policy=chosen.name,
        params=resolved_params,
        capacity=size,
        evictions=int(tally[kernel.EVICTIONS]),
        used=int(tally[kernel.USED]),
        window_seconds=float(window_seconds),
        window_misses=window_misses,
        window_bytes_hit=window_bytes_hit,
        checkpoints=marks,
        checkpoint_counts=tuple(segments.counts_before(position) for position in marks),
        seconds=elapsed,
    )
    return result, state, arrays


@dataclass(frozen=True)
class _Segments:
    """The kernel's per-segment hits, summed into counts up to a position or per timeline window."""

    trace: Trace
    bounds: np.ndarray
    hits: np.ndarray
    bytes_hit: np.ndarray
    count_objects: bool

    def counts_before(self, position: int) -> Counts:
        trace = self.trace
        last = int(np.searchsorted(self.bounds, position, side="right"))  # segments ending at or before it
        hits = int(self.hits[:last].sum())
        bytes_hit = int(self.bytes_hit[:last].sum())
        bytes_requested = position if self.count_objects else int(trace.sizes[:position].sum())
        span = float(trace.timestamps[position - 1] - trace.timestamps[0]) if position else 0.0
        return Counts(position, position - hits, bytes_requested, bytes_requested - bytes_hit, span)

    def per_window(self, window_ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Misses and bytes hit per timeline window (each window is a run of whole segments)."""
        if not len(self.trace):
            return np.zeros(len(window_ends), np.int64), np.zeros(len(window_ends), np.int64)
        window_of_segment = np.searchsorted(window_ends, self.bounds, side="left")
        hits = np.bincount(window_of_segment, self.hits, minlength=len(window_ends)).astype(np.int64)
        bytes_hit = np.bincount(window_of_segment, self.bytes_hit, minlength=len(window_ends)).astype(np.int64)
        requests = np.diff(window_ends, prepend=0)
        return requests - hits, bytes_hit


def _residency_dtype(trace: Trace, count_objects: bool) -> type:
    """int8 when the capacity counts objects (the loop then reads no size), else int32 bytes per cached
    object (half the memory traffic of int64) unless one is 2 GiB or more."""
    if count_objects:
        return kernel.OBJECT_RESIDENCY
    return np.int32 if trace.largest_size <= np.iinfo(np.int32).max else np.int64
