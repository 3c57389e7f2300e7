"""Replay a trace through one policy at one capacity: the library's core call."""

from __future__ import annotations

import inspect
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from tuner.capacity import OBJECTS, Capacity, parse_capacity
from tuner.engine import kernel
from tuner.errors import CachetuneError
from tuner.policies import Policy, PolicyInput, get_policy
from tuner.seeds import DEFAULT_SEED
from tuner.trace import DELETE, GET, SET, Trace

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

    The counts are of GETs (``requests`` are GETs, ``misses`` GET misses, each
    of which reads the backend). ``backend_writes`` counts every write that
    reached the backend: write-through and write-around SETs, DELETEs, SETs
    the cache refused under write-back, and ``writebacks`` (dirty objects
    written at eviction, expiry or a flush). ``dirty_peak`` is the most dirty
    objects at once (the writes at risk if the cache dies), ``dirty_at_end``
    those never written. ``window_misses``, ``window_bytes_hit`` and
    ``window_backend_writes`` are the timeline (one entry per
    ``window_seconds`` of trace time); ``checkpoint_counts[k]`` are the counts
    of the requests before position ``checkpoints[k]``.
    """

    policy: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    capacity: Capacity | None = None
    write_policy: str = "write-through"
    ttl: float | None = None
    flush_interval: float | None = None
    max_object_size: int | None = None
    evictions: int = 0
    used: int = 0  # the capacity in use when the trace ends, in the capacity's unit
    resident: int = 0  # objects cached when the trace ends
    backend_writes: int = 0
    writebacks: int = 0
    invalidations: int = 0
    expirations: int = 0
    rejected: int = 0  # refused admissions, GET or SET
    dirty_peak: int = 0
    dirty_at_end: int = 0
    window_seconds: float = HOUR
    window_misses: np.ndarray = field(default=None, repr=False)
    window_bytes_hit: np.ndarray = field(default=None, repr=False)  # a window's bytes missed = requested - these
    window_backend_writes: np.ndarray = field(default=None, repr=False)
    checkpoints: tuple[int, ...] = ()
    checkpoint_counts: tuple[Counts, ...] = field(default=(), repr=False)
    seconds: float = 0.0

    @property
    def backend_reads(self) -> float:
        """Every GET miss reads the backend."""
        return self.misses

    @property
    def backend_ops_per_hour(self) -> float:
        """Backend reads and writes per hour of trace time (NaN for a zero span)."""
        hours = self.span_seconds / HOUR
        return (self.backend_reads + self.backend_writes) / hours if hours > 0 else math.nan

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
    write_policy: str = "write-through",
    ttl: float | None = None,
    flush_interval: float | None = None,
    max_object_size: int | None = None,
    window_seconds: float = HOUR,
    checkpoints: Sequence[int] = (),
    **params: Any,
) -> ReplayResult:
    """Replay ``trace`` through ``policy`` with a cache of ``capacity``.

    ``capacity`` is an object count, a byte size such as ``"64MiB"`` or a share
    of the trace's unique objects such as ``"1%"``. ``params`` are the policy's
    own parameters (see ``cachetune policies``); ``seed`` fixes randomized
    policies. The trace's SETs go by ``write_policy`` (``write-through``,
    ``write-back``: dirty objects are also written every ``flush_interval``
    seconds of trace time when given, or ``write-around``); ``ttl`` is the
    cache timeout in seconds for objects whose request gave none;
    ``max_object_size`` (bytes) refuses larger objects. Misses are also
    counted per ``window_seconds`` for timelines, and up to each of
    ``checkpoints`` (request positions) for held-out figures.
    """
    options = _Options(seed, write_policy, ttl, flush_interval, max_object_size, window_seconds, tuple(checkpoints))
    return _replay(trace, policy, capacity, options, params)[0]


def replay_with_state(trace: Trace, policy: str | Policy, capacity: int | str | Capacity,
                      **options: Any) -> tuple[ReplayResult, tuple, tuple]:  # fmt: skip
    """``replay`` with the same ``options``, also returning the policy's final state and arrays, so
    tests can check a policy's queues against a hand-traced sequence."""
    bound = inspect.signature(replay).bind(trace, policy, capacity, **options)
    bound.apply_defaults()
    given = bound.arguments
    chosen = _Options(given["seed"], given["write_policy"], given["ttl"], given["flush_interval"],
                      given["max_object_size"], given["window_seconds"], tuple(given["checkpoints"]))  # fmt: skip
    return _replay(trace, policy, capacity, chosen, given["params"])


@dataclass(frozen=True)
class _Options:
    """``replay``'s options beside the policy's own parameters, checked once."""

    seed: int
    write_policy: str
    ttl: float | None
    flush_interval: float | None
    max_object_size: int | None
    window_seconds: float
    checkpoints: tuple[int, ...]

    def check(self, trace: Trace) -> None:
        if self.write_policy not in kernel.WRITE_POLICIES:
            raise CachetuneError(f"write_policy must be one of {', '.join(kernel.WRITE_POLICIES)}, "
                                 f"got {self.write_policy!r}", parameter="write_policy")  # fmt: skip
        for name in ("window_seconds", "ttl", "flush_interval", "max_object_size"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise CachetuneError(f"{name} must be positive, got {value}", parameter=name)
        if any(not 0 <= position <= len(trace) for position in self.checkpoints):
            raise CachetuneError(f"checkpoints must be request positions from 0 to {len(trace)}",
                                 parameter="checkpoints")  # fmt: skip


def _replay(trace, policy, capacity, options, params):
    """The replay itself, behind both public functions."""
    chosen = get_policy(policy) if isinstance(policy, str) else policy
    resolved_params = chosen.resolve_params(params)
    size = parse_capacity(capacity, trace.n_objects)
    options.check(trace)
    charged = chosen.charge(trace, size, resolved_params) if chosen.charge is not None else None
    marks = tuple(int(position) for position in options.checkpoints)
    count_objects = size.unit == OBJECTS and charged is None
    if charged is not None:
        sizes, amount = charged.sizes, charged.capacity
        largest = int(sizes.max()) if len(sizes) else 0
    else:
        sizes, amount = (trace.unit_sizes if count_objects else trace.sizes), size.amount
        largest = trace.largest_size
    window_ends = trace.window_ends(options.window_seconds)
    bounds = np.union1d(window_ends, np.asarray(marks, np.int64)).astype(np.int64)
    bounds = bounds[bounds > 0] if len(trace) else bounds
    # The loop compiles once for each shape of replay it meets, so replays come in few shapes: a
    # read-only trace leaves out (None) the operations and, when nothing can expire, the TTLs and the
    # timeout; a trace with writes gives operations and a flush interval (unused ones off). Expiry
    # (TTLs and timeout together) and dirty objects, the two that cost most, are the only options.
    # The size limit is always given (no limit is the largest int64): checking it costs nothing
    # beside reading the size. With a capacity in objects the loop reads no size, so the requests
    # carry the trace's sizes whatever the unit (one array type, one compiled loop fewer).
    ops = trace.ops if trace.has_writes else None
    full = ops is not None
    expiring = trace.has_ttls or options.ttl is not None
    requests = kernel.Requests(trace.ids, trace.sizes if count_objects else sizes, trace.timestamps, bounds, ops,
                               trace.ttls if expiring else None)  # fmt: skip
    n_slots = max(trace.n_objects, 1)
    writes_back = options.write_policy == "write-back" and ops is not None
    dirty = kernel.new_dirty_list(n_slots) if writes_back else None
    cache = kernel.Cache(np.full(n_slots, -1, _residency_dtype(largest, count_objects)),
                         np.zeros(kernel.N_TALLY, np.int64), dirty, kernel.new_expiries(n_slots, expiring))  # fmt: skip
    policy_input = PolicyInput(trace.ids, sizes, trace.timestamps, trace.n_objects, amount, options.seed,
                               removes=_removes(trace, options, count_objects, expiring), ops=ops,
                               ttl=options.ttl)  # fmt: skip
    state, arrays = chosen.init(policy_input, resolved_params)
    began = time.perf_counter()
    flush_interval = options.flush_interval if writes_back else None
    run = kernel.Run(
        requests,
        np.int64(amount),
        cache,
        _setting(options.ttl, float, expiring, 0.0),
        kernel.WRITE_POLICIES[options.write_policy],
        _setting(flush_interval, float, full, 0.0),
        np.int64(options.max_object_size or np.iinfo(np.int64).max),
    )
    state, segment_hits, segment_bytes_hit, segment_writes = chosen.replay(run, state, arrays)
    elapsed = time.perf_counter() - began
    segments = _Segments(trace, sizes, bounds, segment_hits, segment_bytes_hit, count_objects)
    whole = segments.counts_before(len(trace))
    window_misses, window_bytes_hit = segments.per_window(window_ends)
    tally = cache.tally
    result = ReplayResult(
        **vars(whole),
        policy=chosen.name,
        params=resolved_params,
        capacity=size,
        write_policy=options.write_policy,
        ttl=options.ttl,
        flush_interval=options.flush_interval,
        max_object_size=options.max_object_size,
        evictions=int(tally[kernel.EVICTIONS]),
        used=int(tally[kernel.USED]),
        resident=int(np.count_nonzero(cache.held >= 0)),
        backend_writes=int(tally[kernel.BACKEND_WRITES]),
        writebacks=int(tally[kernel.WRITEBACKS]),
        invalidations=int(tally[kernel.INVALIDATIONS]),
        expirations=int(tally[kernel.EXPIRATIONS]),
        rejected=int(tally[kernel.REJECTED]),
        dirty_peak=int(tally[kernel.DIRTY_PEAK]),
        dirty_at_end=int(tally[kernel.DIRTY]),
        window_seconds=float(options.window_seconds),
        window_misses=window_misses,
        window_bytes_hit=window_bytes_hit,
        window_backend_writes=segments.summed_per_window(segment_writes, window_ends),
        checkpoints=marks,
        checkpoint_counts=tuple(segments.counts_before(position) for position in marks),
        seconds=elapsed,
    )
    return result, state, arrays


@dataclass(frozen=True)
class _Segments:
    """The kernel's per-segment hits, summed into counts up to a position or per timeline window
    (bytes in ``sizes``: the trace's, or what a model of a real cache charges for them)."""

    trace: Trace
    sizes: np.ndarray
    bounds: np.ndarray
    hits: np.ndarray
    bytes_hit: np.ndarray
    count_objects: bool

    def counts_before(self, position: int) -> Counts:
        """The GETs before ``position`` (every request, in a read-only trace) and their misses."""
        trace = self.trace
        last = int(np.searchsorted(self.bounds, position, side="right"))  # segments ending at or before it
        hits = int(self.hits[:last].sum())
        bytes_hit = int(self.bytes_hit[:last].sum())
        gets = int(self.gets_before(position))
        if self.count_objects:
            bytes_requested = gets
        elif trace.has_writes:
            bytes_requested = int(self.sizes[:position][trace.ops[:position] == GET].sum())
        else:
            bytes_requested = int(self.sizes[:position].sum())
        span = float(trace.timestamps[position - 1] - trace.timestamps[0]) if position else 0.0
        return Counts(gets, gets - hits, bytes_requested, bytes_requested - bytes_hit, span)

    def gets_before(self, positions):
        """The GETs before each of ``positions`` (a position or an array of them): the positions
        themselves in a read-only trace, with no array as long as the trace."""
        if not self.trace.has_writes:
            return positions
        return self._gets_so_far[positions]

    @cached_property
    def _gets_so_far(self) -> np.ndarray:
        return np.concatenate(([0], np.cumsum(self.trace.ops == GET)))

    def per_window(self, window_ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """GET misses and bytes hit per timeline window (each window is a run of whole segments)."""
        hits = self.summed_per_window(self.hits, window_ends)
        bytes_hit = self.summed_per_window(self.bytes_hit, window_ends)
        if not len(self.trace):
            return hits, bytes_hit
        gets = np.diff(self.gets_before(window_ends), prepend=0)
        return gets - hits, bytes_hit

    def summed_per_window(self, per_segment: np.ndarray, window_ends: np.ndarray) -> np.ndarray:
        """A per-segment count summed per timeline window."""
        if not len(self.trace):
            return np.zeros(len(window_ends), np.int64)
        window_of_segment = np.searchsorted(window_ends, self.bounds, side="left")
        return np.bincount(window_of_segment, per_segment, minlength=len(window_ends)).astype(np.int64)


def _removes(trace: Trace, options: _Options, count_objects: bool, expiring: bool) -> bool:
    """Whether an object can leave without being evicted: a DELETE, an expiry, a write-around SET
    invalidating it, or a SET re-sizing it (only with a byte capacity)."""
    if expiring:
        return True
    has_deletes = trace.has_writes and bool(np.any(trace.ops == DELETE))
    has_sets = trace.has_writes and bool(np.any(trace.ops == SET))
    return has_deletes or (has_sets and (options.write_policy == "write-around" or not count_objects))


def _setting(value, kind, full: bool, off):
    """A setting for the loop: None when not given, unless the loop needs it present (then ``off``)."""
    if value is None:
        return kind(off) if full else None
    return kind(value)


def _residency_dtype(largest_size: int, count_objects: bool) -> type:
    """int8 when the capacity counts objects (the loop then reads no size), else int32 bytes per cached
    object (half the memory traffic of int64) unless one is 1 GiB or more (the bit above a size marks
    a dirty object: ``kernel.dirty_flag``)."""
    if count_objects:
        return kernel.OBJECT_RESIDENCY
    return np.int32 if largest_size < kernel.dirty_flag(np.empty(0, np.int32)) else np.int64
