"""The ``mrc`` report: each policy's miss ratio over cache sizes on a log axis, OPT dashed as the floor, and the table.

Built from ``curves.csv`` (``tuner.mrc.miss_ratio_curve``'s columns, one block
per policy) and, for a sharded fleet, ``shards.csv`` (each shard's own curves) only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tuner.bounds import floor_label, is_floor
from tuner.errors import CachetuneError
from tuner.mrc.curve import how_obtained
from tuner.reports import shards_page
from tuner.reports.charts import Axis, Series, format_bytes, format_number, line_chart
from tuner.reports.page import chart_grid, counted, note, read_table, section, table
from tuner.reports.palette import policy_colour

CURVES_COLUMNS = ("policy", "size_unit", "cache_size", "miss_ratio", "method", "sample_rate")


def _ordered(curves: pd.DataFrame) -> list[str]:
    """Policies best first by mean miss ratio, so legends read as a ranking."""
    return list(curves.groupby("policy")["miss_ratio"].mean().sort_values(kind="stable").index)


def _curve(curves: pd.DataFrame, unit: str, names: list[str]) -> str:
    series = []
    size_text = format_bytes if unit == "bytes" else (lambda value: f"{value:,.0f} {unit}")  # "64 MiB" has its unit
    for name in names:
        line = curves[curves["policy"] == name].sort_values("cache_size")
        line = line[np.isfinite(line["miss_ratio"])]
        if line.empty:
            continue
        hover = [
            f"{name} at {size_text(size)}: miss ratio {ratio:.4f}"
            for size, ratio in zip(line["cache_size"], line["miss_ratio"], strict=True)
        ]
        series.append(
            Series(
                f"{name}{_floor_words(name, unit)} ({how_obtained(line)})",
                list(line["cache_size"]),
                list(line["miss_ratio"]),
                policy_colour(name),
                dashed=is_floor(name),
                hover=hover,
            )
        )
    return line_chart(
        f"miss-ratio-curves-{unit}",
        "Miss-ratio curves" + floor_title(unit, [name for name in names if is_floor(name)]),
        series,
        Axis(f"cache size ({unit}, log scale)", log=True, format=format_bytes if unit == "bytes" else format_number),
        Axis("miss ratio (misses ÷ requests)", zero=True),
    )


def _floor_words(name: str, unit: str) -> str:
    """`` = lower bound`` after a floor's name in a legend at byte capacities (opt alone at object capacities
    is the optimum, as the title says)."""
    return f" = {floor_label(name, unit)}" if is_floor(name) and unit == "bytes" else ""


def floor_title(unit: str, floors: list[str]) -> str:
    """The chart title's note on its dashed floor curves, naming each for what it is at this unit."""
    if not floors:
        return ""
    if unit != "bytes":
        return " (OPT = Belady's optimal floor, dashed)"
    return (
        " (dashed: " + ", ".join(f"{name} = {floor_label(name, unit)}" for name in sorted(floors, reverse=True)) + ")"
    )


def sections(folder: Path, run: dict[str, Any]) -> list[str]:
    """The mrc report's sections after the run description."""
    curves = read_table(folder, "curves", CURVES_COLUMNS)
    if curves is None:
        raise CachetuneError(f"{folder / 'curves.csv'} is missing or empty: not an mrc run's folder")
    names = _ordered(curves)
    charts = [_curve(rows, str(unit), names) for unit, rows in curves.groupby("size_unit", sort=True)]
    explained = note(
        "Colours stand for the same policy in every report. Legends list policies best first (lowest mean miss "
        "ratio) and say how each curve was obtained. Hover a point for its exact figure."
    )
    options = run.get("options") or {}
    if options.get("shards"):
        fleet = f"A fleet of {options['shards']} shards (keys routed by {options.get('shard_hash')}): "
        explained += note(fleet + "each size is the fleet's, split evenly over its shards; exact per shard.")
    caption = "Every policy at every size (curves.csv). Click a header to sort."
    shards = shards_page.mrc_section(folder, curves)
    return [
        section("Charts", chart_grid(charts) + explained, "charts"),
        *([shards] if shards else []),
        section("Curves", table(curves, "curves", caption), "curves"),
    ]


def subtitle(run: dict[str, Any]) -> str:
    """One line under the title: how many curves over how many sizes."""
    options = run.get("options") or {}
    policies = options.get("policies") or []
    sizes = options.get("sizes") or []
    if not (policies and sizes):
        return "miss-ratio curves"
    return f"{counted(len(policies), 'policy')} × {counted(len(sizes), 'cache size')}"
