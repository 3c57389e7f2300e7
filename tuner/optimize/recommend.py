"""From finished trials to a recommendation: the smallest configuration within tolerance of the best.

Trials score configurations; the user should not buy memory that buys
nothing, so among every configuration whose score is within ``tolerance`` of
the best found, the one with the smallest capacity wins (ties: the better
score). Each figure shown next to it comes from an exact replay: on the tuning
part, on the held-out part (the misses after the cut in one replay of the
whole trace, so the cache is warm as it would be in production), for LRU at
the same capacity and for Belady's offline OPT, the floor no online policy
can beat. Each also keeps its misses per timeline window of the part it is
judged on, so a comparison of two configurations can carry a bootstrap
interval (``tuner.intervals.paired_difference``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import optuna

from tuner.engine.replay import Counts
from tuner.fleet import Fleet
from tuner.optimize.evaluate import replay_config
from tuner.optimize.objectives import Objective
from tuner.optimize.operations import OperationSpace
from tuner.optimize.space import Config, config_of
from tuner.optimize.traces import TimeSplit

TOP = 10


@dataclass(frozen=True)
class Scored:
    """A configuration and its objective value (and its trial's number)."""

    config: Config
    value: float
    trial: int


@dataclass(frozen=True)
class Figures:
    """One configuration replayed exactly: its objective and misses on tuning and held-out data, and
    ``windows``, its misses in each timeline window of the part it is judged on (the held-out part,
    cut at the split, when there is one; else the tuning part): they add up to that part's misses."""

    config: Config
    value: float
    tuning: Counts
    holdout: Counts | None
    windows: np.ndarray


def scored_trials(trials: Iterable[optuna.trial.FrozenTrial], operations: OperationSpace) -> list[Scored]:
    """Each distinct configuration of the completed trials (replayed with ``operations``) once, best first."""
    seen: dict[str, Scored] = {}
    for trial in trials:
        if trial.state != optuna.trial.TrialState.COMPLETE:
            continue
        config = config_of(trial.params, operations)
        value = trial.values[0]
        if config.key() not in seen and not math.isnan(value):
            seen[config.key()] = Scored(config, value, trial.number)
    return sorted(seen.values(), key=lambda scored: (scored.value, scored.config.capacity))


def within_tolerance(scored: list[Scored], tolerance: float) -> Scored:
    """The smallest configuration whose value is at most ``best + tolerance × |best|``."""
    best = min(item.value for item in scored)
    limit = best + tolerance * abs(best)
    return min((item for item in scored if item.value <= limit), key=lambda item: (item.config.capacity, item.value))


def pareto_front(scored: list[Scored]) -> list[Scored]:
    """Configurations no other beats on both value and capacity, by capacity."""
    front: list[Scored] = []
    for item in sorted(scored, key=lambda item: (item.config.capacity, item.value)):
        if not front or item.value < front[-1].value:
            front.append(item)
    return front


@dataclass(frozen=True)
class Judge:
    """Replays configurations exactly on the tuning part and, when there is one, the held-out part (with a
    ``fleet`` of ``split.whole``: every shard's part, the cut at the same instant for all)."""

    split: TimeSplit
    objective: Objective
    unit: str
    seed: int
    fleet: Fleet | None = None

    def tuning(self, config: Config) -> Scored:
        result = replay_config(self.split.tuning, config, self.unit, self.seed, fleet=self.fleet)
        return Scored(config, self.objective.score(result, config.capacity, self.unit), -1)

    def figures(self, config: Config) -> Figures:
        tuning = replay_config(self.split.tuning, config, self.unit, self.seed, fleet=self.fleet)
        value = self.objective.score(tuning, config.capacity, self.unit)
        if self.split.holdout <= 0:
            return Figures(config, value, tuning, None, np.asarray(tuning.window_misses, float))
        # Checkpoints at the cut and at each window's end after it: the held-out misses window by window.
        whole_trace, cut = self.split.whole, self.split.cut
        ends = whole_trace.window_ends(tuning.window_seconds)
        marks = (cut, *(int(end) for end in ends if end > cut))
        whole = replay_config(whole_trace, config, self.unit, self.seed, checkpoints=marks, fleet=self.fleet)
        misses_before = np.array([counts.misses for counts in whole.checkpoint_counts], float)
        return Figures(config, value, tuning, whole.counts_from(cut), np.diff(misses_before))
