"""Cutting a trace for tuning: time prefixes (holdout, pruning steps) and spatial samples.

Ids are dense in order of first appearance, so a prefix keeps its ids and only
drops the keys first seen later: no re-hashing of keys. A policy set up from
the trace it is given (W-TinyLFU sizes its sketch from the mean request size)
may still replay a prefix unlike the start of the whole trace, so held-out
misses are counted in one replay of the whole trace (``TimeSplit``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tuner.errors import CachetuneError
from tuner.mrc.sampling import sample_trace
from tuner.trace import Trace


def prefix(trace: Trace, stop: int) -> Trace:
    """The first ``stop`` requests, sharing the parent's arrays."""
    ids = trace.ids[:stop]
    n_objects = int(ids.max()) + 1 if stop else 0
    return Trace(ids, trace.timestamps[:stop], trace.sizes[:stop], trace.ops[:stop], trace.keys[:n_objects],
                 name=trace.name, info=trace.info)  # fmt: skip


@dataclass(frozen=True)
class TimeSplit:
    """The tuning part (the first ``1 - holdout`` of the span) and the whole trace it starts.

    ``window_seconds`` puts the cut on the end of the whole trace's first
    window (``Trace.window_ends``), so one replay of the whole trace counts
    the held-out misses as the misses of the windows after the first.
    """

    tuning: Trace
    whole: Trace
    holdout: float
    window_seconds: float = math.inf

    @property
    def holdout_hours(self) -> float:
        return float(self.whole.timestamps[-1] - self.tuning.timestamps[-1]) / 3600.0


def split_by_time(trace: Trace, holdout: float) -> TimeSplit:
    """Tune on the requests before ``start + (1 - holdout) × span``; ``holdout = 0`` tunes on everything."""
    if not 0.0 <= holdout < 1.0:
        raise CachetuneError(f"holdout must be at least 0 and below 1, got {holdout}", parameter="holdout")
    if len(trace) < 2:
        raise CachetuneError("the trace needs at least two requests to tune on")
    if holdout == 0.0:
        return TimeSplit(trace, trace, 0.0)
    window_seconds = (1.0 - holdout) * trace.span_seconds
    stop = int(trace.window_ends(window_seconds)[0]) if window_seconds > 0 else 0
    if stop < 2 or stop >= len(trace):
        raise CachetuneError(f"holdout {holdout} leaves no requests on one side of the split; try another share",
                             parameter="holdout")  # fmt: skip
    return TimeSplit(prefix(trace, stop), trace, holdout, window_seconds)


@dataclass(frozen=True)
class Sample:
    """A spatial sample of a trace: every request to the kept keys, and how much it kept."""

    trace: Trace
    rate: float
    source_requests: int
    source_bytes: int


def spatial_sample(trace: Trace, rate: float, seed: int = 0) -> Sample:
    """Every request to the keys ``tuner.mrc.sampling`` keeps at ``rate`` and ``seed`` (SHARDS-style sampling).

    Hashing keys, not requests, keeps each kept object's whole history, so
    reuse distances (and hence hit ratios at a capacity scaled by ``rate``) are
    preserved in expectation (Waldspurger et al., "Efficient MRC Construction
    with SHARDS", FAST 2015).
    """
    if not 0.0 < rate <= 1.0:
        raise CachetuneError(f"sample_rate must be in (0, 1], got {rate:g}", parameter="sample_rate")
    if rate == 1.0:
        return Sample(trace, 1.0, len(trace), int(trace.sizes.sum()))
    sampled = sample_trace(trace, rate, seed)
    if not len(sampled):
        raise CachetuneError(f"sample_rate {rate:g} keeps no key of this trace; raise it", parameter="sample_rate")
    return Sample(sampled, rate, len(trace), int(trace.sizes.sum()))


def scaled_capacity(capacity: int, sample: Sample, floor: int) -> int:
    """The mini-cache size for ``capacity``: scaled by the rate, never below ``floor``."""
    return max(floor, round(capacity * sample.rate))
