"""The search space, read from the policy registry: policy, capacity and each policy's own parameters.

Define-by-run: a trial first picks a policy, then a log-scaled capacity, then
only that policy's parameters as the policy declares them (``Param``). A
policy added to ``tuner/policies/`` joins the search with no change here.
Parameter names are prefixed with the policy's name (``random-age.min_age``)
so two policies may declare a parameter of the same name with different ranges.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import optuna

from tuner.capacity import Capacity
from tuner.optimize.operations import DEFAULTS, OperationSpace
from tuner.policies import Param, Policy

POLICY_KEY = "policy"
CAPACITY_KEY = "capacity"
# The smallest capacity searched is this share of the budget (at least one object).
FLOOR_SHARE = 1e-3


@dataclass(frozen=True)
class Config:
    """One point of the space: what a trial replays; ``params`` are ``tuner.replay``'s keyword arguments (the
    policy's own parameters and the operation settings)."""

    policy: str
    capacity: int
    params: dict[str, Any] = field(default_factory=dict)

    def key(self) -> str:
        """A stable text identity, to spot the same configuration in two trials."""
        return json.dumps([self.policy, self.capacity, self.params], sort_keys=True)


def _param_key(policy: Policy, param: Param) -> str:
    return f"{policy.name}.{param.name}"


@dataclass(frozen=True)
class SearchSpace:
    """Which policies, capacities (in ``unit``) and parameter ranges trials may pick.

    A deploy target narrows the parameters to its product's knobs: ``held``
    ones stay at their defaults (left out of a trial's parameters) and those in
    ``choices`` are picked among the values the product takes.
    """

    policies: tuple[Policy, ...]
    unit: str
    capacity_low: int
    capacity_high: int
    span_seconds: float
    operations: OperationSpace = DEFAULTS
    held: frozenset[str] = frozenset()
    choices: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)

    @classmethod
    def build(cls, policies: list[Policy], budget: Capacity, span_seconds: float, smallest_object: int,
              operations: OperationSpace = DEFAULTS, held: frozenset[str] = frozenset(),
              choices: Mapping[str, tuple[Any, ...]] | None = None) -> SearchSpace:  # fmt: skip
        """Capacities from a small floor up to ``budget``; a byte floor holds at least the smallest object."""
        floor = max(1, math.ceil(budget.amount * FLOOR_SHARE), smallest_object)
        return cls(tuple(policies), budget.unit, min(floor, budget.amount), budget.amount, span_seconds, operations,
                   held, dict(choices or {}))  # fmt: skip

    def searched_params(self, policy: Policy) -> list[Param]:
        """The policy's parameters a trial picks (all but the held ones)."""
        return [param for param in policy.params if param.name not in self.held]

    def param_range(self, param: Param) -> tuple[float, float]:
        low, high = param.search_range(self.span_seconds)
        if param.log:
            low = max(low, 1e-9)
        return low, max(high, low)

    def suggest(self, trial: optuna.Trial) -> Config:
        """Sample a configuration into ``trial`` (define-by-run)."""
        name = trial.suggest_categorical(POLICY_KEY, [policy.name for policy in self.policies])
        capacity = trial.suggest_int(CAPACITY_KEY, self.capacity_low, self.capacity_high, log=True)
        policy = next(policy for policy in self.policies if policy.name == name)
        params: dict[str, Any] = {}
        for param in self.searched_params(policy):
            low, high = self.param_range(param)
            key = _param_key(policy, param)
            if param.name in self.choices:
                params[param.name] = trial.suggest_categorical(key, list(self.choices[param.name]))
            elif param.is_int:
                params[param.name] = trial.suggest_int(key, int(low), int(high), log=param.log)
            else:
                params[param.name] = trial.suggest_float(key, float(low), float(high), log=param.log)
        return Config(name, capacity, {**params, **self.operations.suggest(trial)})

    def screening_capacities(self, levels: int) -> list[int]:
        """The budget, then ``levels - 1`` capacities below it, log-evenly down the upper half of the log range.

        The budget comes first: there every policy's misses are nearly the
        compulsory ones, the anchor the tolerance is measured from. Smaller
        capacities are where policies differ; the lower half of the range (under
        √(floor × budget)) is rarely where a recommendation lands.
        """
        middle = math.sqrt(self.capacity_low * self.capacity_high)
        spread = [self.capacity_high * (middle / self.capacity_high) ** (k / levels) for k in range(levels)]
        return list(dict.fromkeys(max(self.capacity_low, round(capacity)) for capacity in spread))

    def at_defaults(self, policy: Policy, capacity: int) -> dict[str, Any]:
        """Trial parameters for ``policy`` with its declared defaults at ``capacity`` (a screening trial)."""
        chosen: dict[str, Any] = {POLICY_KEY: policy.name, CAPACITY_KEY: capacity}
        for param in self.searched_params(policy):
            if param.name in self.choices:
                chosen[_param_key(policy, param)] = param.default
                continue
            low, high = self.param_range(param)
            value = min(max(param.default, low), high)
            chosen[_param_key(policy, param)] = int(value) if param.is_int else float(value)
        return chosen

    def describe(self) -> dict[str, Any]:
        """What a stored study must match to be resumed: names, unit, bounds and ranges."""
        return {
            "policies": {
                policy.name: {
                    param.name: list(self.choices[param.name])
                    if param.name in self.choices
                    else [*self.param_range(param), param.log]
                    for param in self.searched_params(policy)
                }
                for policy in self.policies
            },
            "capacity": [self.unit, self.capacity_low, self.capacity_high],
            "operations": self.operations.describe(),
        }


def config_of(params: dict[str, Any], operations: OperationSpace = DEFAULTS) -> Config:
    """The configuration a finished trial's stored parameters describe, in a space of ``operations``."""
    name = params[POLICY_KEY]
    prefix = f"{name}."
    own = {key[len(prefix) :]: value for key, value in params.items() if key.startswith(prefix)}
    return Config(name, int(params[CAPACITY_KEY]), {**own, **operations.of(params)})
