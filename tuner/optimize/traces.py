"""Cutting a trace for tuning: time prefixes (holdout, pruning steps); spatial samples are ``tuner.mrc.miniature``'s.

Ids are dense in order of first appearance, so a prefix keeps its ids and only
drops the keys first seen later: no re-hashing of keys. A policy set up from
the trace it is given (W-TinyLFU sizes its sketch from the mean request size)
may still replay a prefix unlike the start of the whole trace, so held-out
misses are counted in one replay of the whole trace, up to a checkpoint at the
cut (``TimeSplit.cut``).
"""

from __future__ import annotations

from dataclasses import dataclass

from tuner.errors import CachetuneError
from tuner.trace import Trace


def prefix(trace: Trace, stop: int) -> Trace:
    """The first ``stop`` requests, sharing the parent's arrays."""
    ids = trace.ids[:stop]
    n_objects = int(ids.max()) + 1 if stop else 0
    return Trace(ids, trace.timestamps[:stop], trace.sizes[:stop], trace.ops[:stop], trace.ttls[:stop],
                 trace.keys[:n_objects], name=trace.name, info=trace.info)  # fmt: skip


@dataclass(frozen=True)
class TimeSplit:
    """The tuning part (the first ``1 - holdout`` of the span) and the whole trace it starts."""

    tuning: Trace
    whole: Trace
    holdout: float

    @property
    def cut(self) -> int:
        """The position of the first held-out request: a replay of the whole trace checkpoints there."""
        return len(self.tuning)

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
    tuning_seconds = (1.0 - holdout) * trace.span_seconds
    stop = int(trace.window_ends(tuning_seconds)[0]) if tuning_seconds > 0 else 0
    if stop < 2 or stop >= len(trace):
        raise CachetuneError(f"holdout {holdout} leaves no requests on one side of the split; try another share",
                             parameter="holdout")  # fmt: skip
    return TimeSplit(prefix(trace, stop), trace, holdout)
