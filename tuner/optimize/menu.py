"""How much cache do I need? The default answer when no budget is given: a stated rule and a menu.

The rule. With no cache every GET misses; with the whole working set only the
first request of each object does (the cold misses; measured by replaying LRU
at the whole working set with the settings the user fixed, so writes, deletes
and timeouts count as they would). The *avoidable* misses are the difference, and a configuration's
*gain* is the share of them it avoids: ``(GETs − its misses) ÷ (GETs − cold
misses)``. The recommendation is the smallest configuration (policy, size,
parameters) whose gain reaches ``target_gain`` (90 % by default). Every
figure is measured where ``Judge`` measures the recommendation: on the
held-out part, counted in one replay of the whole trace so the cache is warm
(on the tuning part when nothing is held out).

The menu beside it: the smallest configuration found that reaches each of
``LEVELS`` (50 … 99 %), and for each the size LRU needs to miss no more
(*LRU-equivalent size*): what a better policy saves is memory, which is what
an operator pays for. LRU's sizes come from Mattson's stack distances
(``tuner.mrc.stack_distance``, every size in one pass) where LRU is a stack
algorithm (object capacities, GETs only, no operation settings), else by
bisection on exact replays (to within ``EQUIVALENT_PRECISION``).

The search. Without a budget the study has two objectives, the user's
objective (misses per hour by default) and the size, both minimised, with
optuna's multi-objective TPE: the same study ``--pareto`` runs, so resuming,
shared storage and the trials table work unchanged. Its Pareto front (on the
tuning part) is the candidate list: each point is the best configuration found
at its size, so scanning it by size and replaying each exactly on the
evaluation part gives the smallest size reaching each level. A per-policy
log grid of sizes would find the same sizes with more replays at sizes that
are dominated; the front spends trials where policies differ. The scan stops
at the first point past the highest level wanted, so the cost is one exact
replay per front point below that size. The front may fall short of a level
on the held-out part (new objects appear there); the best policy at the whole
working set closes the list, and a level nothing reaches is left off.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tuner.capacity import OBJECTS
from tuner.engine.replay import Counts
from tuner.errors import CachetuneError
from tuner.mrc.stack_distance import stack_distance_histogram
from tuner.optimize.operations import settings_of
from tuner.optimize.recommend import Figures, Judge, Scored
from tuner.optimize.space import Config

LEVELS = (0.5, 0.75, 0.9, 0.95, 0.99)
DEFAULT_TARGET_GAIN = 0.9
# Bisection for an LRU-equivalent size stops when the bracket is within this share of its low end.
EQUIVALENT_PRECISION = 0.01
# Narrowing a level's size between two points of the front stops when the bracket is within this share.
NARROWING_PRECISION = 0.02


def check_target_gain(target_gain: float) -> None:
    if not 0.0 < target_gain < 1.0:
        raise CachetuneError(f"target_gain must be above 0 and below 1 (0.9 is 90 %), got {target_gain:g}",
                             parameter="target_gain")  # fmt: skip


def evaluated(figures: Figures) -> Counts:
    """The counts a menu is judged on: held out when there is a held-out part, else tuning."""
    return figures.holdout if figures.holdout is not None else figures.tuning


@dataclass(frozen=True)
class Avoidable:
    """The two ends of the rule on the evaluation part: GETs (every one misses with no cache) and cold misses."""

    requests: float
    cold_misses: float

    @property
    def misses(self) -> float:
        return self.requests - self.cold_misses

    def gain(self, misses: float) -> float:
        """The share of the avoidable misses avoided (1 when there is nothing to avoid)."""
        return (self.requests - misses) / self.misses if self.misses > 0 else 1.0


@dataclass(frozen=True)
class MenuItem:
    """The smallest configuration found avoiding at least ``level`` of the avoidable misses.

    ``gain`` is the share it avoids on the evaluation part; ``lru_capacity`` the
    size LRU needs to miss no more there (None: not even the whole working set).
    """

    level: float
    figures: Figures
    gain: float
    lru_capacity: int | None

    @property
    def capacity(self) -> int:
        return self.figures.config.capacity

    @property
    def saved_over_lru(self) -> int | None:
        """Memory a better policy saves: LRU-equivalent size − this size."""
        return None if self.lru_capacity is None else self.lru_capacity - self.capacity


@dataclass(frozen=True)
class Menu:
    """The recommendation (the item at ``target_gain``), the menu at ``LEVELS``, and the rule's two ends."""

    recommendation: MenuItem
    items: list[MenuItem]
    avoidable: Avoidable
    target_gain: float


class LruSizes:
    """The smallest LRU capacity missing no more than a given count on the evaluation part."""

    def __init__(self, judge: Judge, working_set: int, smallest: int) -> None:
        self.judge = judge
        self.working_set = working_set
        self.smallest = max(1, smallest)
        self._misses: dict[tuple[str, int], float] = {}
        self._cumulative_hits: np.ndarray | None = None

    def _one_pass(self, settings: dict) -> bool:
        trace = self.judge.split.whole
        return self.judge.unit == OBJECTS and not settings and not trace.has_writes and not trace.has_ttls

    def _hits_by_size(self) -> np.ndarray:
        """``hits[c]``: evaluation-part hits of LRU at ``c`` objects (a fleet's: at ``c`` objects a shard, the
        shards' hits summed). A request's stack distance depends only on the requests before it, so the
        evaluation part's histogram is the whole trace's less the tuning part's."""
        if self._cumulative_hits is None:
            split, fleet = self.judge.split, self.judge.fleet
            wholes = [split.whole] if fleet is None else list(fleet.parts)
            tunings = [split.tuning] if fleet is None else list(fleet.prefix(split.cut).parts)
            per_cache = []
            for whole, tuning in zip(wholes, tunings, strict=True):
                histogram = stack_distance_histogram(whole.ids, whole.n_objects)
                if split.holdout > 0:
                    histogram = histogram - stack_distance_histogram(tuning.ids, whole.n_objects)
                per_cache.append(np.concatenate(([0], np.cumsum(histogram[1:]))))
            longest = max(len(hits) for hits in per_cache)
            self._cumulative_hits = sum(np.pad(hits, (0, longest - len(hits)), mode="edge") for hits in per_cache)
        return self._cumulative_hits

    def misses(self, capacity: int, settings: dict) -> float:
        key = (repr(sorted(settings.items())), capacity)
        if key not in self._misses:
            self._misses[key] = evaluated(self.judge.figures(Config("lru", capacity, settings))).misses
        return self._misses[key]

    def equivalent(self, misses: float, requests: float, settings: dict) -> int | None:
        """The smallest size at which LRU (with the same operation ``settings``) misses at most ``misses``."""
        if self._one_pass(settings):
            hits = self._hits_by_size()
            size = int(np.searchsorted(hits, requests - misses - 1e-9, side="left"))
            return max(1, size) if size < len(hits) else None
        low, high = self.smallest, self.working_set
        if self.misses(high, settings) > misses:
            return None
        if self.misses(low, settings) <= misses:
            return low
        while high - low > max(1, int(low * EQUIVALENT_PRECISION)):  # misses(low) > target >= misses(high)
            middle = (low + high) // 2
            if self.misses(middle, settings) <= misses:
                high = middle
            else:
                low = middle
        return high


def build_menu(judge: Judge, front: list[Scored], working_set: int, smallest: int, target_gain: float,
               deployed: Callable[[Config], Config] = lambda config: config,
               with_lru: bool = True, fixed: dict | None = None) -> Menu:  # fmt: skip
    """Scan the front by size, replaying each point exactly, until every level and ``target_gain`` is reached;
    then narrow each level's size between the last point short of it and the first reaching it. Where LRU
    (with the same settings) does as well with less, LRU at that size is the smaller configuration and takes
    the level (``with_lru``: LRU is among the policies searched). The whole working set replays with the
    operation settings every trial has (``fixed``: a timeout, a write policy, a size limit the user gave), so
    misses no size can avoid are not counted as avoidable."""
    cold = evaluated(judge.figures(Config("lru", working_set, dict(fixed or {}))))
    avoidable = Avoidable(cold.requests, cold.misses)
    wanted = sorted({*LEVELS, target_gain})
    ordered = sorted(front, key=lambda item: (item.config.capacity, item.value))  # not empty: _conclude checked
    last = ordered[-1].config  # the best policy at the whole working set closes the list
    candidates = [item.config for item in ordered]
    candidates.append(dataclasses.replace(last, capacity=max(working_set, last.capacity)))
    replayed: dict[str, tuple[Figures, float]] = {}

    def measure(config: Config) -> tuple[Figures, float]:
        config = deployed(config)
        if config.key() not in replayed:
            figures = judge.figures(config)
            replayed[config.key()] = (figures, avoidable.gain(evaluated(figures).misses))
        return replayed[config.key()]

    scanned: list[tuple[Figures, float]] = []
    for config in candidates:
        scanned.append(measure(config))
        if all(any(gain >= level for _, gain in scanned) for level in wanted):
            break
    lru = LruSizes(judge, working_set, smallest)
    entries: dict[float, MenuItem] = {}
    for level in wanted:
        first = next((k for k, (_, gain) in enumerate(scanned) if gain >= level), None)
        if first is None:
            continue
        short = scanned[first - 1][0].config.capacity if first else smallest - 1
        figures, gain = _narrowed(level, scanned[first], short, measure)
        counts, settings = evaluated(figures), settings_of(figures.config.params)
        lru_capacity = lru.equivalent(counts.misses, counts.requests, settings)
        if figures.config.policy == "lru" and lru_capacity is not None:  # bisection may stop above its own size
            lru_capacity = min(lru_capacity, figures.config.capacity)
        if with_lru and lru_capacity is not None and lru_capacity < figures.config.capacity:
            figures, gain = measure(Config("lru", lru_capacity, settings))  # LRU does as well with less
        entries[level] = MenuItem(level, figures, gain, lru_capacity)
    for higher, lower in itertools.pairwise(sorted(entries, reverse=True)):
        if entries[lower].capacity > entries[higher].capacity:  # a smaller size reaching the higher level
            entries[lower] = dataclasses.replace(entries[higher], level=lower)
    if target_gain in entries:
        recommendation = entries[target_gain]
    else:  # nothing found reaches the target: the most the search found
        figures, gain = max(scanned, key=lambda pair: pair[1])
        counts = evaluated(figures)
        recommendation = MenuItem(
            target_gain,
            figures,
            gain,
            lru.equivalent(counts.misses, counts.requests, settings_of(figures.config.params)),
        )
    return Menu(recommendation, [entries[level] for level in LEVELS if level in entries], avoidable, target_gain)


def _narrowed(level: float, first: tuple[Figures, float], short: int,
              measure: Callable[[Config], tuple[Figures, float]]) -> tuple[Figures, float]:  # fmt: skip
    """The smallest size of ``first``'s configuration above ``short`` reaching ``level``, by bisection (to within
    ``NARROWING_PRECISION``); gains need not rise with size for every policy, so any size reaching it will do."""
    found = first
    low, high = short, first[0].config.capacity
    while high - low > max(1, int(low * NARROWING_PRECISION)):
        middle = (low + high) // 2
        figures, gain = measure(dataclasses.replace(first[0].config, capacity=middle))
        if gain >= level and figures.config.capacity < found[0].config.capacity:
            found, high = (figures, gain), middle
        else:
            low = middle
    return found
