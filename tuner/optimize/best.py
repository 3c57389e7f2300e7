"""``best.json``: the recommendation and its evidence, as plain JSON values."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from tuner.deploy import verify_command
from tuner.engine.replay import Counts
from tuner.optimize.recommend import Figures, Scored
from tuner.optimize.run import OptimizeResult

# The options that decide what "best" means, recorded beside the recommendation.
SETTINGS = ("objective", "tolerance", "holdout", "sample_rate", "pareto", "max_dirty", "seed")


def _number(value: float | None) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def _measures(measured: Counts | None, prefix: str = "") -> dict[str, float | None]:
    if measured is None:
        return {f"{prefix}misses_per_hour": None, f"{prefix}miss_ratio": None, f"{prefix}byte_miss_ratio": None}
    return {
        f"{prefix}misses_per_hour": _number(measured.misses_per_hour),
        f"{prefix}miss_ratio": _number(measured.miss_ratio),
        f"{prefix}byte_miss_ratio": _number(measured.byte_miss_ratio),
    }


def _figures(figures: Figures) -> dict[str, Any]:
    return {
        "policy": figures.config.policy,
        "capacity": figures.config.capacity,
        "params": figures.config.params,
        "objective_value": _number(figures.value),
        **_measures(figures.tuning),
        **_measures(figures.holdout, "holdout_"),
    }


def _scored(item: Scored) -> dict[str, Any]:
    return {"trial": item.trial, "policy": item.config.policy, "capacity": item.config.capacity,
            "params": item.config.params, "objective_value": _number(item.value)}  # fmt: skip


def best_record(result: OptimizeResult, trace_file: str | Path | None = None) -> dict[str, Any]:
    """What ``best.json`` holds: ``params`` is a mapping ``tuner.replay`` takes as keyword arguments.

    With a target, ``deploy`` is the recommendation in the product's own settings, ``default`` the
    product's default at the same capacity (``saving_over_default``: 1 − misses/h ÷ its misses/h) and
    ``verify`` the ``cachetune verify`` line that checks the model against the product on
    ``trace_file``.
    """
    record = {
        **_figures(result.recommendation),
        "capacity_unit": result.unit,
        "improvement_over_lru": _number(result.improvement_over_lru("tuning")),
        "holdout_improvement_over_lru": _number(result.improvement_over_lru("holdout")),
        "lru": _figures(result.lru),
        "opt": _figures(result.opt),
        **{name: result.options[name] for name in SETTINGS},
        "budget": result.budget,
        "study_name": result.options["study_name"],
        "trials": result.counts,
        "interrupted": result.interrupted,
        "top": [_scored(item) for item in result.top],
        "target": result.target,
        "deploy": None if result.deployment is None else result.deployment.settings,
    }
    if result.default is not None:
        record["default"] = _figures(result.default)
        record["saving_over_default"] = _number(result.saving_over_default("tuning"))
        record["holdout_saving_over_default"] = _number(result.saving_over_default("holdout"))
        record["verify"] = verify_command(result.recommendation.config, result.unit, trace_file)
    if result.front is not None:
        record["pareto_front"] = [_scored(item) for item in result.front]
    return record
