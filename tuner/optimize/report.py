"""The optimizer's outputs: ``best.json`` (the recommendation and its evidence) and the summary panel."""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table

from tuner.optimize.objectives import Measured
from tuner.optimize.recommend import Figures, Scored
from tuner.optimize.run import OptimizeResult


def _number(value: float | None) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def _measures(measured: Measured | None, prefix: str = "") -> dict[str, float | None]:
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


def best_record(result: OptimizeResult) -> dict[str, Any]:
    """What ``best.json`` holds: ``params`` is a mapping ``tuner.replay`` takes as keyword arguments."""
    record = {
        **_figures(result.recommendation),
        "capacity_unit": result.unit,
        "improvement_over_lru": _number(result.improvement_over_lru("tuning")),
        "holdout_improvement_over_lru": _number(result.improvement_over_lru("holdout")),
        "lru": _figures(result.lru),
        "opt": _figures(result.opt),
        **result.options,
        "trials": result.counts,
        "interrupted": result.interrupted,
        "top": [_scored(item) for item in result.top],
    }
    if result.front is not None:
        record["pareto_front"] = [_scored(item) for item in result.front]
    return record


def front_table(result: OptimizeResult) -> pd.DataFrame:
    """``pareto.csv``: the configurations no other beats on both misses and capacity."""
    return pd.DataFrame(
        [{"trial": item.trial, "policy": item.config.policy, "capacity": item.config.capacity,
          "params": json.dumps(item.config.params, sort_keys=True), "misses_objective": item.value}
         for item in result.front or []],
        columns=["trial", "policy", "capacity", "params", "misses_objective"],
    )  # fmt: skip


def _rate(value: float | None, digits: int = 0) -> str:
    return "—" if value is None or math.isnan(value) else f"{value:,.{digits}f}"


def _params(params: dict[str, Any]) -> str:
    return ", ".join(f"{name}={value:.4g}" if isinstance(value, float) else f"{name}={value}"
                     for name, value in params.items())  # fmt: skip


def print_summary(result: OptimizeResult, console: Console) -> None:
    """The recommendation panel: what to run, its misses on tuning and held-out data, LRU and OPT beside it."""
    rec = result.recommendation
    unit = "bytes" if result.unit == "bytes" else "objects"
    figures = Table(box=None, show_header=True, pad_edge=False)
    figures.add_column("")
    figures.add_column("misses/h (tuning)", justify="right")
    figures.add_column("misses/h (held out)", justify="right")
    figures.add_column("miss ratio (tuning)", justify="right")
    rows = [("recommended", rec), ("LRU, same size", result.lru), ("OPT floor (offline)", result.opt)]
    for label, item in rows:
        figures.add_row(label, _rate(item.tuning.misses_per_hour),
                        _rate(item.holdout.misses_per_hour) if item.holdout else "—",
                        _rate(item.tuning.miss_ratio, 4))  # fmt: skip
    gains = [f"{label} {gain:+.1%}" for label, gain in
             (("tuning", result.improvement_over_lru("tuning")), ("held out", result.improvement_over_lru("holdout")))
             if gain is not None]  # fmt: skip
    counts = result.counts
    head = (f"[bold]{rec.config.policy}[/bold] at [bold]{rec.config.capacity:,} {unit}[/bold]"
            + (f"  ({_params(rec.config.params)})" if rec.config.params else ""))  # fmt: skip
    notes = [
        f"fewer misses than LRU at the same size: {', '.join(gains) or '—'}",
        f"objective {result.options['objective']}, smallest within {result.options['tolerance']:.1%} of the best; "
        f"trials: {counts['complete']} complete, {counts['pruned']} pruned, {counts['failed']} failed "
        f"({counts['this_run']} this run, study {result.options['study_name']!r})",
    ]
    if result.interrupted:
        notes.append("[yellow]interrupted: best of the trials finished so far[/yellow]")
    top = Table(title="top configurations (tuning)", title_justify="left", box=None, pad_edge=False)
    for column in ("trial", "policy", f"capacity ({unit})", "params", "objective"):
        top.add_column(column, justify="right" if column in ("trial", "objective") else "left")
    for item in result.front or result.top:
        top.add_row(str(item.trial), item.config.policy, f"{item.config.capacity:,}", _params(item.config.params),
                    f"{item.value:,.4g}")  # fmt: skip
    if result.front is not None:
        top.title = "Pareto front: misses/h against capacity"
    panel = Panel(Group(head, figures, *notes, "", top), title="cachetune optimize", title_align="left")
    console.print(panel, soft_wrap=False)
