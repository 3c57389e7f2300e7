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
from collections.abc import Callable
from dataclasses import dataclass

import optuna

from tuner.capacity import Capacity
from tuner.engine.replay import ReplayResult, replay
from tuner.fleet import Fleet
from tuner.mrc.miniature import MiniatureSimulator
from tuner.optimize.objectives import Objective
from tuner.optimize.space import Config, SearchSpace
from tuner.optimize.traces import prefix
from tuner.trace import Trace

# Which process runs a trial, so a shared study shows every worker's part.
WORKER = f"{socket.gethostname()}:{os.getpid()}"
PRUNING_SHARE = 0.2


def replay_config(trace: Trace, config: Config, unit: str, seed: int, capacity: int | None = None,
                  checkpoints: tuple[int, ...] = (), fleet: Fleet | None = None) -> ReplayResult:  # fmt: skip
    """One replay of ``config`` (at ``capacity`` when given, else its own) in ``unit``, with ``checkpoints``.

    With a ``fleet`` (of a trace ``trace`` is a prefix of), the capacity is each shard's and the
    result the fleet's: every shard's part of ``trace`` replayed alone (``tuner.fleet``).
    """
    amount = config.capacity if capacity is None else capacity
    capacity_in_unit = Capacity(amount, unit, f"{amount} {unit}")
    if fleet is not None:
        return fleet.prefix(len(trace)).replay(config.policy, capacity_in_unit, seed=seed, checkpoints=checkpoints,
                                               **config.params)  # fmt: skip
    return replay(trace, config.policy, capacity_in_unit, seed=seed, checkpoints=checkpoints, **config.params)


@dataclass
class TrialObjective:
    """``objective(trial)`` for optuna: sample a configuration, replay it, return its score(s).

    With a sampling rate below 1, ``miniatures`` decides what a trial replays
    (the project's one miniature-simulation rule, ``tuner.mrc.miniature``).
    A write-back configuration whose dirty objects ever exceed ``max_dirty``
    (estimated for the whole trace from a sample) is infeasible: the trial is
    pruned, its user attribute ``rejected`` says why. So is a configuration
    ``refuses`` gives a reason for (the product would not start with it).
    With a ``fleet``, a configuration's capacity is each shard's and it is
    scored on the whole fleet.
    """

    space: SearchSpace
    objective: Objective
    miniatures: MiniatureSimulator
    seed: int
    pareto: bool = False
    max_dirty: int | None = None
    refuses: Callable[[Config, str], str | None] | None = None
    fleet: Fleet | None = None

    def __call__(self, trial: optuna.Trial) -> float | tuple[float, float]:
        trial.set_user_attr("worker", WORKER)  # first, so a running trial says whose it is
        config = self.space.suggest(trial)
        unit = self.space.unit
        reason = None if self.refuses is None else self.refuses(config, unit)
        if reason is not None:
            trial.set_user_attr("rejected", reason)
            raise optuna.TrialPruned()
        mini = self.miniatures.miniature(Capacity(config.capacity, unit, f"{config.capacity} {unit}"))
        whole = mini.trace
        steps = [whole] if self.pareto else [prefix(whole, max(1, int(len(whole) * PRUNING_SHARE))), whole]
        for part in steps:
            result = replay_config(part, config, unit, self.seed, mini.capacity.amount, fleet=self.fleet)
            dirty_peak = result.dirty_peak / mini.rate
            if self.max_dirty is not None and dirty_peak > self.max_dirty:
                trial.set_user_attr("rejected", f"dirty_peak {dirty_peak:,.0f} > max_dirty {self.max_dirty:,}")
                raise optuna.TrialPruned()
            is_whole = part is whole
            counts = self.miniatures.estimate(result, mini) if is_whole else result
            value = self.objective.score(counts, config.capacity, unit)
            if not is_whole:
                trial.report(value, step=len(part))
                if trial.should_prune():
                    raise optuna.TrialPruned()
        trial.set_user_attr("misses_per_hour", counts.misses_per_hour)
        trial.set_user_attr("miss_ratio", counts.miss_ratio)
        trial.set_user_attr("byte_miss_ratio", counts.byte_miss_ratio)
        trial.set_user_attr("backend_ops_per_hour", result.backend_ops_per_hour if mini.rate == 1.0 else None)
        trial.set_user_attr("dirty_peak", dirty_peak)
        for name, setting in self.space.operations.fixed.items():  # trials.csv shows every setting, fixed or chosen
            trial.set_user_attr(name, setting)
        trial.set_user_attr("replayed_capacity", mini.capacity.amount)
        if self.fleet is not None:
            trial.set_user_attr("fleet_capacity", config.capacity * self.fleet.shards)
        return (value, float(config.capacity)) if self.pareto else value
