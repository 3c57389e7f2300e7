"""Miniature simulation: any policy's figures from a scaled-down replay, for mrc and optimize alike.

Waldspurger, Saemundsson, Ahmad and Park, "Cache modeling and optimization
using miniature simulations", USENIX ATC 2017: replay the unmodified policy
on the requests of the objects sampled at rate R (see ``sampling``) with a
cache R times smaller; the mini-cache's figures estimate the full one's.

The one rule, used by ``cachetune mrc --method mini`` and by the sampled
trials of ``optimize --sample-rate``: a mini-cache of a handful of objects
magnifies sampling noise and the policy's own granularity (a 3-object
S3-FIFO has no real small queue), so the sampling rate is raised for small
caches until the mini-cache holds at least ``MIN_MINI_OBJECTS`` (100); a
cache for which that takes the whole trace is replayed in full. For byte
capacities the object count is estimated with the trace's mean object size.

Skewed popularity makes the sample's request count swing with whether a few
hot objects were drawn. As in SHARDS_adj (see ``shards``), the mini-cache's
misses are divided by the rate rather than scaled by the actual count
(``Counts.scaled``), which treats the surplus or shortfall as hits on hot
objects; on a zipf trace this cut the error several-fold.
"""

from __future__ import annotations

from dataclasses import dataclass

from tuner.capacity import BYTES, Capacity
from tuner.engine.replay import Counts, ReplayResult
from tuner.errors import CachetuneError
from tuner.mrc.sampling import MODULUS, sample_trace, threshold
from tuner.seeds import DEFAULT_SEED
from tuner.trace import Trace

DEFAULT_RATE = 0.1
MIN_MINI_OBJECTS = 100


@dataclass(frozen=True)
class Miniature:
    """What to replay for one capacity: a sample drawn at ``rate`` (the whole trace at rate 1) and its mini-cache."""

    trace: Trace
    rate: float
    capacity: Capacity


class MiniatureSimulator:
    """Spatial samples of one trace at ``rate`` (raised for small caches), each drawn once and reused."""

    def __init__(self, trace: Trace, rate: float = DEFAULT_RATE, seed: int = DEFAULT_SEED):
        if not 0.0 < rate <= 1.0:
            raise CachetuneError(f"sample_rate must be in (0, 1], got {rate:g}", parameter="sample_rate")
        self.trace = trace
        self.rate = rate
        self.seed = seed
        self._bytes_requested = int(trace.sizes.sum())
        self._samples: dict[int, Trace] = {}

    def mini_rate(self, capacity: Capacity) -> float:
        """The sampling rate for ``capacity``: the simulator's, raised so the mini-cache holds ``MIN_MINI_OBJECTS``."""
        objects = capacity.amount
        if capacity.unit == BYTES:
            mean_object_bytes = self.trace.working_set_bytes / max(self.trace.n_objects, 1)
            objects = capacity.amount / max(mean_object_bytes, 1.0)
        return min(1.0, max(self.rate, MIN_MINI_OBJECTS / max(objects, 1.0)))

    def sample(self, rate: float) -> tuple[Trace, float]:
        """The sample at ``rate`` and the rate it really keeps (hashes are compared with an integer threshold)."""
        kept = threshold(rate)
        if kept not in self._samples:
            self._samples[kept] = sample_trace(self.trace, rate, self.seed)
        return self._samples[kept], kept / MODULUS

    def miniature(self, capacity: Capacity) -> Miniature:
        """The sample and mini-cache that estimate a cache of ``capacity``."""
        rate = self.mini_rate(capacity)
        if rate >= 1.0:
            return Miniature(self.trace, 1.0, capacity)
        sample, rate = self.sample(rate)
        return Miniature(sample, rate, Capacity(max(1, round(capacity.amount * rate)), capacity.unit, capacity.spec))

    def estimate(self, result: ReplayResult, miniature: Miniature) -> Counts:
        """The counts of the whole trace that ``result``, a replay of ``miniature``, estimates."""
        return result.scaled(miniature.rate, len(self.trace), self._bytes_requested, self.trace.span_seconds)
