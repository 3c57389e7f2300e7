"""``best.json``: the recommendation and its evidence, as plain JSON values."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from tuner.deploy import verify_command
from tuner.engine.replay import Counts
from tuner.intervals import Interval
from tuner.optimize.menu import Menu, MenuItem, evaluated
from tuner.optimize.recommend import Figures, Scored
from tuner.optimize.run import OptimizeResult

# The options that decide what "best" means, recorded beside the recommendation.
SETTINGS = ("objective", "tolerance", "target_gain", "holdout", "sample_rate", "pareto", "max_dirty", "seed")


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


def _difference(interval: Interval, holdout: bool) -> dict[str, Any]:
    """A comparison's difference in misses and its 95 % bootstrap interval (``tuner.intervals``)."""
    return {"measured_on": "holdout" if holdout else "tuning", "misses": interval.estimate,
            "low": _number(interval.low), "high": _number(interval.high),
            "significant": interval.significant}  # fmt: skip


def _scored(item: Scored) -> dict[str, Any]:
    return {"trial": item.trial, "policy": item.config.policy, "capacity": item.config.capacity,
            "params": item.config.params, "objective_value": _number(item.value)}  # fmt: skip


def _menu_item(item: MenuItem) -> dict[str, Any]:
    return {"level": item.level, "policy": item.figures.config.policy, "capacity": item.capacity,
            "params": item.figures.config.params, "misses_per_hour": _number(evaluated(item.figures).misses_per_hour),
            "objective_value": _number(item.figures.value),
            "avoided": _number(item.gain), "lru_capacity": item.lru_capacity,
            "saved_over_lru": item.saved_over_lru}  # fmt: skip


def _menu(menu: Menu, holdout: bool) -> dict[str, Any]:
    return {
        "target_gain": menu.target_gain,
        "measured_on": "holdout" if holdout else "tuning",
        "requests": menu.avoidable.requests,
        "cold_misses": menu.avoidable.cold_misses,
        "avoidable_misses": menu.avoidable.misses,
        "avoided": _number(menu.recommendation.gain),
        "lru_capacity": menu.recommendation.lru_capacity,
        "saved_over_lru": menu.recommendation.saved_over_lru,
    }


def best_record(result: OptimizeResult, trace_file: str | Path | None = None) -> dict[str, Any]:
    """What ``best.json`` holds: ``params`` is a mapping ``tuner.replay`` takes as keyword arguments.

    With a target, ``deploy`` is the recommendation in the product's own settings, ``default`` the
    product's default at the same capacity (``saving_over_default``: 1 − misses/h ÷ its misses/h) and
    ``verify`` the ``cachetune verify`` line that checks the model against the product on
    ``trace_file`` (left out for a fleet). Without a budget, ``rule`` is the avoidable-misses rule the recommendation
    meets (its two ends, the share avoided and LRU's size for the same misses) and ``menu`` the
    smallest configuration found at each level (``tuner.optimize.menu``). ``misses_against_lru`` (and
    ``misses_against_default``) are the recommendation's misses minus theirs on the part it is judged
    on, with a 95 % block-bootstrap interval over the timeline windows and whether it excludes zero.
    For a fleet (``shards``), every capacity is each shard's and every figure the fleet's; ``fleet``
    states the shards, their routing and both the per-shard and the fleet's capacity.
    """
    holdout = result.recommendation.holdout is not None
    record = {
        **_figures(result.recommendation),
        "capacity_unit": result.unit,
        "improvement_over_lru": _number(result.improvement_over_lru("tuning")),
        "holdout_improvement_over_lru": _number(result.improvement_over_lru("holdout")),
        "lru": _figures(result.lru),
        "misses_against_lru": _difference(result.misses_against(result.lru), holdout),
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
        record["misses_against_default"] = _difference(result.misses_against(result.default), holdout)
        if result.options.get("shards") is None:  # verify replays one server on the whole trace, not a fleet
            record["verify"] = verify_command(result.recommendation.config, result.unit, trace_file)
    if result.menu is not None:
        record["rule"] = _menu(result.menu, holdout)
        record["menu"] = [_menu_item(item) for item in result.menu.items]
    if result.front is not None:
        record["pareto_front"] = [_scored(item) for item in result.front]
    if result.options.get("shards") is not None:
        shards, capacity = result.options["shards"], result.recommendation.config.capacity
        record["fleet"] = {"shards": shards, "shard_hash": result.options["shard_hash"], "shard_capacity": capacity,
                           "fleet_capacity": capacity * shards}  # fmt: skip
    return record
