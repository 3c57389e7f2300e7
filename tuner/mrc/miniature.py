"""Miniature simulation: any policy's miss ratio from a scaled-down replay.

Waldspurger, Saemundsson, Ahmad and Park, "Cache modeling and optimization
using miniature simulations", USENIX ATC 2017: replay the unmodified policy
on the requests of the objects sampled at rate R (see ``sampling``) with a
cache R times smaller; the mini-cache's miss ratio estimates the full one.

A mini-cache of a handful of objects magnifies sampling noise and the
policy's own granularity (a 3-object S3-FIFO has no real small queue), so
the sampling rate is raised for small caches until the mini-cache holds at
least ``min_objects`` (100 by default); a cache smaller than that is
replayed in full. For byte capacities the object count is estimated with
the trace's mean object size.

Skewed popularity makes the sample's request count swing with whether a few
hot objects were drawn. As in SHARDS_adj (see ``shards``), the mini-cache's
misses are divided by the expected sampled requests N*R rather than the
actual count, which treats the surplus or shortfall as hits on hot objects;
on a zipf trace this cut the error several-fold.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tuner.capacity import BYTES, Capacity
from tuner.engine.replay import replay
from tuner.mrc.sampling import MODULUS, sample_trace, threshold
from tuner.trace import Trace

DEFAULT_RATE = 0.1
MIN_MINI_OBJECTS = 100


def mini_rate(trace: Trace, capacity: Capacity, rate: float, min_objects: int = MIN_MINI_OBJECTS) -> float:
    """The sampling rate used for ``capacity``: ``rate``, raised so the mini-cache holds ``min_objects``."""
    objects = capacity.amount
    if capacity.unit == BYTES:
        mean_object_bytes = trace.working_set_bytes / max(trace.n_objects, 1)
        objects = capacity.amount / max(mean_object_bytes, 1.0)
    return min(1.0, max(rate, min_objects / max(objects, 1.0)))


class MiniatureSimulator:
    """Replays one policy on spatial samples of one trace, reusing each sample across capacities."""

    def __init__(self, trace: Trace, policy: str, *, seed: int = 0, params: Mapping[str, Any] | None = None):
        self.trace = trace
        self.policy = policy
        self.seed = seed
        self.params = dict(params or {})
        self._samples: dict[int, Trace] = {}

    def _sample(self, rate: float) -> tuple[Trace, float]:
        kept = threshold(rate)
        if kept not in self._samples:
            self._samples[kept] = sample_trace(self.trace, rate, self.seed)
        return self._samples[kept], kept / MODULUS

    def miss_ratio(self, capacity: Capacity, rate: float, min_objects: int = MIN_MINI_OBJECTS) -> tuple[float, float]:
        """``(estimated miss ratio, sampling rate used)`` for a cache of ``capacity``."""
        used_rate = mini_rate(self.trace, capacity, rate, min_objects)
        if used_rate >= 1.0:
            result = replay(self.trace, self.policy, capacity, seed=self.seed, **self.params)
            return result.miss_ratio, 1.0
        sample, used_rate = self._sample(used_rate)
        if len(sample) == 0:
            return float("nan"), used_rate
        mini_capacity = Capacity(max(1, round(capacity.amount * used_rate)), capacity.unit, capacity.spec)
        result = replay(sample, self.policy, mini_capacity, seed=self.seed, **self.params)
        whole = self.trace
        estimate = result.scaled(used_rate, len(whole), int(whole.sizes.sum()), whole.span_seconds)
        return estimate.miss_ratio, used_rate
