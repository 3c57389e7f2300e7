"""How the tuned cache treats writes and timeouts: replay's operation settings, fixed or searched.

A setting the user fixes applies to every trial; one searched is a
categorical choice, so optuna's TPE models it beside the policy: the write
policy among the three when the trace has writes, the cache timeout on a
log-scaled grid from a second to the tuning span, and the largest object
admitted on a log-scaled grid from 1 KiB to the budget (capacities in bytes
only). Each searched grid also holds ``"none"``, no timeout or no limit. The
grids are fixed per study (optuna's categorical choices cannot change from
trial to trial), so a limit above a trial's capacity limits nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import optuna

from tuner.capacity import BYTES, parse_byte_size
from tuner.engine.kernel import WRITE_POLICIES
from tuner.errors import CachetuneError, check_choice
from tuner.trace import Trace

# ``tuner.replay``'s keyword arguments this module may set, which are also trial parameter names.
SETTINGS = ("write_policy", "ttl", "flush_interval", "max_object_size")
NONE = "none"
GRID_POINTS = 8
SMALLEST_LIMIT = 1024


def log_grid(low: float, high: float, points: int = GRID_POINTS) -> list[int]:
    """Up to ``points`` whole numbers log-evenly from ``low`` to ``high``."""
    if high <= low:
        return [int(low)]
    step = (math.log(high) - math.log(low)) / (points - 1)
    return list(dict.fromkeys(round(math.exp(math.log(low) + k * step)) for k in range(points)))


@dataclass(frozen=True)
class OperationSpace:
    """The settings every trial replays with (``fixed``) and those trials choose (``searched``: name → choices)."""

    fixed: dict[str, Any]
    searched: dict[str, list[Any]]

    @classmethod
    def build(cls, trace: Trace, unit: str, budget: int, span_seconds: float, *, write_policy: str | None = None,
              ttl: float | None = None, tune_ttl: bool = False, flush_interval: float | None = None,
              max_object_size: int | str | None = None, limit_object_size: bool = True) -> OperationSpace:  # fmt: skip
        """What to fix and what to search; ``write_policy`` None searches it when ``trace`` has writes, and
        ``max_object_size`` None searches it at byte capacities unless ``limit_object_size`` is False (a
        product's model: the product has its own limit, or none)."""
        fixed: dict[str, Any] = {}
        searched: dict[str, list[Any]] = {}
        if write_policy is not None:
            check_choice("write_policy", write_policy, tuple(WRITE_POLICIES))
            fixed["write_policy"] = write_policy
        elif trace.has_writes:
            searched["write_policy"] = list(WRITE_POLICIES)
        if tune_ttl and ttl is not None:
            raise CachetuneError("give ttl or tune_ttl, not both", parameter="tune_ttl")
        if tune_ttl:
            searched["ttl"] = [NONE, *log_grid(1, max(1.0, span_seconds))]
        elif ttl is not None:
            fixed["ttl"] = ttl
        if flush_interval is not None:
            fixed["flush_interval"] = flush_interval
        if max_object_size is not None:
            fixed["max_object_size"] = parse_byte_size(max_object_size, "max_object_size")
        elif unit == BYTES and limit_object_size:
            searched["max_object_size"] = [NONE, *log_grid(min(SMALLEST_LIMIT, budget), budget)]
        return cls(fixed, searched)

    def suggest(self, trial: optuna.Trial) -> dict[str, Any]:
        """The settings for ``trial``: the fixed ones and a choice of each searched one (``"none"`` left out)."""
        chosen = {name: trial.suggest_categorical(name, choices) for name, choices in self.searched.items()}
        return self.of(chosen)

    def of(self, trial_params: dict[str, Any]) -> dict[str, Any]:
        """The settings a finished trial replayed with, from its stored parameters."""
        chosen = {name: trial_params[name] for name in self.searched if trial_params.get(name, NONE) != NONE}
        return {**self.fixed, **chosen}

    def describe(self) -> dict[str, Any]:
        return {"fixed": self.fixed, "searched": self.searched}


# Every setting at replay's default: what a space without writes or timeouts replays.
DEFAULTS = OperationSpace({}, {})


def settings_of(params: dict[str, Any]) -> dict[str, Any]:
    """The operation settings among a configuration's ``params`` (to replay LRU and OPT the same way)."""
    return {name: value for name, value in params.items() if name in SETTINGS}
