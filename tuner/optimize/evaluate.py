"""Scoring one configuration: the trial objective optuna calls, and exact replays.

Each trial is compiled replays only. Single-objective trials first replay the
first fifth of the tuning trace and report that figure to the pruner, so a
hopeless configuration stops after a fifth of the work; survivors then replay
the whole tuning trace (1.2× the work of one replay). The reported value is
what it claims to be: the objective on that prefix, not an extrapolation.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

import optuna

from tuner.capacity import Capacity
from tuner.engine.replay import ReplayResult, replay
from tuner.optimize.objectives import Objective, measured
from tuner.optimize.space import Config, SearchSpace
from tuner.optimize.traces import Sample, prefix, scaled_capacity
from tuner.trace import Trace

# Which process ran a trial, so a shared study shows every worker's part.
WORKER = f"{socket.gethostname()}:{os.getpid()}"
PRUNING_SHARE = 0.2
# A mini-cache on a spatial sample holds at least this many (average) objects.
MIN_SAMPLED_OBJECTS = 32


def replay_config(
    trace: Trace, config: Config, unit: str, seed: int, capacity: int | None = None, checkpoints: tuple[int, ...] = ()
) -> ReplayResult:
    """One replay of ``config`` (at ``capacity`` when given, else its own) in ``unit``, with ``checkpoints``."""
    amount = config.capacity if capacity is None else capacity
    capacity_in_unit = Capacity(amount, unit, f"{amount} {unit}")
    return replay(trace, config.policy, capacity_in_unit, seed=seed, checkpoints=checkpoints, **config.params)


@dataclass
class TrialObjective:
    """``objective(trial)`` for optuna: sample a configuration, replay it, return its score(s)."""

    space: SearchSpace
    objective: Objective
    sample: Sample
    span_seconds: float
    seed: int
    pareto: bool = False

    def __post_init__(self) -> None:
        whole = self.sample.trace
        first_part = prefix(whole, max(1, int(len(whole) * PRUNING_SHARE)))
        self.steps = [whole] if self.pareto else [first_part, whole]
        mean_size = whole.working_set_bytes / max(1, whole.n_objects)
        unit_size = 1 if self.space.unit == "objects" else max(1, round(mean_size))
        self.floor = MIN_SAMPLED_OBJECTS * unit_size

    def mini_capacity(self, capacity: int) -> int:
        """The capacity a trial replays: the configuration's own, or scaled down on a sample."""
        if self.sample.rate == 1.0:
            return capacity
        return min(capacity, scaled_capacity(capacity, self.sample, self.floor))

    def __call__(self, trial: optuna.Trial) -> float | tuple[float, float]:
        config = self.space.suggest(trial)
        capacity = self.mini_capacity(config.capacity)
        for part in self.steps:
            result = replay_config(part, config, self.space.unit, self.seed, capacity)
            is_whole = part is self.steps[-1]
            counts = measured(result, self.sample, self.span_seconds) if is_whole else measured(result)
            value = self.objective.score(counts, config.capacity, self.space.unit)
            if not is_whole:
                trial.report(value, step=len(part))
                if trial.should_prune():
                    raise optuna.TrialPruned()
        trial.set_user_attr("misses_per_hour", counts.misses_per_hour)
        trial.set_user_attr("miss_ratio", counts.miss_ratio)
        trial.set_user_attr("byte_miss_ratio", counts.byte_miss_ratio)
        trial.set_user_attr("replayed_capacity", capacity)
        trial.set_user_attr("worker", WORKER)
        return (value, float(config.capacity)) if self.pareto else value
