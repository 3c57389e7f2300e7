"""95 % intervals for bench's figures: over a randomized policy's seeds, and over a replay's hourly windows.

Two sources of doubt, two intervals:

- A randomized policy's misses depend on its seed. ``mean_interval`` is the
  Student t interval of the mean over K replays with K seeds: the figure a
  user would get on average, and how far K replays pin it down.
- Two policies compared on one trace differ partly by luck of the trace: a
  few busy hours can decide a small difference. ``paired_difference`` is a
  block bootstrap over the replay's timeline windows (an hour each by
  default): it resamples whole windows with replacement, keeping each
  window's two figures paired, and takes the percentile interval of the
  total difference (Efron and Tibshirani, "An Introduction to the Bootstrap",
  1993, ch. 13; Künsch, "The jackknife and the bootstrap for general
  stationary observations", Annals of Statistics 1989, for blocks). Windows
  keep the dependence between nearby requests inside a block; a cache's
  state carries over window edges, which the bootstrap ignores, so on traces
  with few windows the interval is only a guide.

An interval spanning zero is "not significant": the data cannot tell the two
policies apart at 95 %.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from tuner.seeds import DEFAULT_SEED

CONFIDENCE = 0.95
RESAMPLES = 2000
_CELLS_PER_CHUNK = 1 << 22  # window picks drawn at once: 32 MiB of int64, so a year of hours stays small


@dataclass(frozen=True)
class Interval:
    """An ``estimate`` and its interval ``[low, high]``; NaN bounds when the data cannot give one."""

    estimate: float
    low: float
    high: float

    @property
    def known(self) -> bool:
        return math.isfinite(self.low) and math.isfinite(self.high)

    @property
    def significant(self) -> bool:
        """Whether the interval excludes zero (False when it is unknown)."""
        return self.known and not (self.low <= 0 <= self.high)


def mean_interval(values: Sequence[float] | np.ndarray, confidence: float = CONFIDENCE) -> Interval:
    """The mean of ``values`` (one per seed) and its Student t interval; NaN bounds for fewer than two values."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return Interval(math.nan, math.nan, math.nan)
    mean = float(values.mean())
    if values.size < 2:
        return Interval(mean, math.nan, math.nan)
    half = float(stats.t.ppf((1 + confidence) / 2, values.size - 1) * values.std(ddof=1) / math.sqrt(values.size))
    return Interval(mean, mean - half, mean + half)


def paired_difference(
    first: Sequence[float] | np.ndarray,
    second: Sequence[float] | np.ndarray,
    *,
    confidence: float = CONFIDENCE,
    resamples: int = RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> Interval:
    """``sum(first) - sum(second)`` and its block-bootstrap interval over windows.

    ``first`` and ``second`` are two replays' figures per timeline window (the
    same windows of the same trace). Each of ``resamples`` resamples draws as
    many windows as there are, with replacement, and sums their differences;
    the interval is the resamples' central ``confidence`` share. Fewer than two
    windows give NaN bounds (one window resampled is always itself).
    """
    differences = np.asarray(first, dtype=float) - np.asarray(second, dtype=float)
    if differences.ndim != 1:
        raise ValueError("first and second must be one figure per window, of the same length")
    total = float(differences.sum())
    windows = differences.size
    if windows < 2:
        return Interval(total, math.nan, math.nan)
    rng = np.random.default_rng(seed)
    sums = np.empty(resamples)
    chunk = max(1, _CELLS_PER_CHUNK // windows)
    for start in range(0, resamples, chunk):
        count = min(chunk, resamples - start)
        sums[start : start + count] = differences[rng.integers(0, windows, size=(count, windows))].sum(axis=1)
    low, high = np.quantile(sums, [(1 - confidence) / 2, (1 + confidence) / 2])
    return Interval(total, float(low), float(high))
