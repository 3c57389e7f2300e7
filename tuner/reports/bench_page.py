"""The ``bench`` report: miss ratios per policy and size, miss-ratio curves, the hourly timeline, the table.

Built from ``results.csv`` (required) and ``timeline.csv`` (optional) only.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tuner.errors import CachetuneError
from tuner.policies import floor_policy
from tuner.reports.charts import Axis, SecondAxis, Series, bar_chart, format_bytes, format_number, line_chart
from tuner.reports.page import chart_grid, counted, note, read_table, section, table
from tuner.reports.palette import policy_colour

MAX_TIMELINES = 4  # one chart per size; beyond this, evenly spaced sizes are shown
RESULTS_COLUMNS = ("policy", "params", "size_unit", "cache_size", "size_spec", "miss_ratio", "misses_per_hour",
                   "byte_miss_ratio")  # fmt: skip
TIMELINE_COLUMNS = ("policy", "size_unit", "cache_size", "window_start_hours", "misses")


def _size_label(cache_size: int, unit: str, spec: str) -> str:
    amount = format_bytes(cache_size) if unit == "bytes" else f"{cache_size:,}"
    return amount if spec in (str(cache_size), "", "nan") else f"{spec} = {amount}"


def _series_names(results: pd.DataFrame) -> pd.Series:
    """A line per policy; the parameters join the name only when a policy ran with several."""
    several = results.groupby("policy")["params"].transform("nunique") > 1
    return results["policy"].where(~several, results["policy"] + " " + results["params"].astype(str))


def _ordered(results: pd.DataFrame) -> list[str]:
    """Series best first by mean miss ratio, so legends read as a ranking."""
    return list(results.groupby("series")["miss_ratio"].mean().sort_values(kind="stable").index)


def _unit_label(unit: str) -> str:
    return "bytes" if unit == "bytes" else "objects"


def _bars(
    results: pd.DataFrame,
    names: list[str],
    column: str,
    title: str,
    y_label: str,
    chart_id: str,
    second: SecondAxis | None,
) -> str:
    sizes = results.drop_duplicates(["size_unit", "cache_size"]).sort_values(["size_unit", "cache_size"])
    groups = [_size_label(r.cache_size, r.size_unit, str(r.size_spec)) for r in sizes.itertuples()]
    keyed = results.set_index(["series", "size_unit", "cache_size"])[column]
    series = []
    for name in names:
        values = [float(keyed.get((name, r.size_unit, r.cache_size), math.nan)) for r in sizes.itertuples()]
        hover = [f"{name} at {group}: {value:.4f}" for group, value in zip(groups, values, strict=True)]
        series.append(Series(name, [], values, policy_colour(name.split(" ")[0]), hover=hover))
    units = " and ".join(_unit_label(unit) for unit in sizes["size_unit"].unique())
    return bar_chart(chart_id, title, groups, series, f"cache size ({units})", Axis(y_label), second)


def _per_hour_axis(results: pd.DataFrame) -> SecondAxis | None:
    """Misses per hour as a right-hand axis when it is the miss ratio times one constant (one trace)."""
    usable = results[(results["miss_ratio"] > 0) & np.isfinite(results["misses_per_hour"])]
    if usable.empty:
        return None
    factors = usable["misses_per_hour"] / usable["miss_ratio"]
    if not np.allclose(factors, factors.iloc[0], rtol=1e-6):
        return None
    return SecondAxis("misses per hour of trace time", float(factors.iloc[0]))


def _curves(results: pd.DataFrame, names: list[str]) -> list[str]:
    charts = []
    for unit, rows in results.groupby("size_unit", sort=True):
        if rows["cache_size"].nunique() < 2:
            continue
        series = []
        for name in names:
            line = rows[rows["series"] == name].sort_values("cache_size")
            if line.empty:
                continue
            policy = name.split(" ")[0]
            hover = [
                f"{name} at {_size_label(r.cache_size, r.size_unit, str(r.size_spec))}: {r.miss_ratio:.4f}"
                for r in line.itertuples()
            ]
            series.append(
                Series(
                    name,
                    list(line["cache_size"]),
                    list(line["miss_ratio"]),
                    policy_colour(policy),
                    dashed=policy == floor_policy().name,
                    hover=hover,
                )
            )
        x_axis = Axis(
            f"cache size ({_unit_label(unit)}, log scale)",
            log=True,
            format=format_bytes if unit == "bytes" else format_number,
        )
        floor = " (OPT = Belady's optimal floor, dashed)" if floor_policy().name in set(rows["policy"]) else ""
        title = "Miss-ratio curves" + floor
        charts.append(
            line_chart(
                f"miss-ratio-curves-{unit}", title, series, x_axis, Axis("miss ratio (misses ÷ requests)", zero=True)
            )
        )
    return charts


def _hourly_rates(rows: pd.DataFrame, span_hours: float | None) -> tuple[list[float], list[float]]:
    """Bin edges (hours) and misses per hour in each bin; the last bin counts only the time it covers."""
    starts = rows["window_start_hours"].to_numpy(dtype=float)
    widths = np.diff(starts)
    width = float(widths[widths > 0].min()) if (widths > 0).any() else 1.0
    ends = starts + width
    if span_hours and span_hours > 0:
        keep = starts < span_hours - 1e-9
        starts, ends = starts[keep], np.minimum(ends[keep], span_hours)
        misses = rows["misses"].to_numpy(dtype=float)[keep]
    else:
        misses = rows["misses"].to_numpy(dtype=float)
    rates = misses / np.maximum(ends - starts, 1e-12)
    return [*starts.tolist(), *ends[-1:].tolist()], rates.tolist()


def _timelines(timeline: pd.DataFrame, results: pd.DataFrame, names: list[str], span_hours: float | None) -> list[str]:
    sizes = timeline.drop_duplicates(["size_unit", "cache_size"]).sort_values(["size_unit", "cache_size"])
    if len(sizes) > MAX_TIMELINES:
        picks = np.unique(np.linspace(0, len(sizes) - 1, MAX_TIMELINES).round().astype(int))
        sizes = sizes.iloc[picks]
    specs = results.drop_duplicates(["size_unit", "cache_size"]).set_index(["size_unit", "cache_size"])["size_spec"]
    order = {name.split(" ")[0]: position for position, name in enumerate(names)}
    charts = []
    for size in sizes.itertuples():
        rows = timeline[(timeline["size_unit"] == size.size_unit) & (timeline["cache_size"] == size.cache_size)]
        series = []
        for policy in sorted(rows["policy"].unique(), key=lambda p: (order.get(p, len(order)), p)):
            mine = rows[rows["policy"] == policy].sort_values("window_start_hours")
            edges, rates = _hourly_rates(mine, span_hours)
            hover = [
                f"{policy}, hour {edges[i]:.2f}–{edges[i + 1]:.2f}: {rate:,.0f} misses/h"
                for i, rate in enumerate(rates)
            ]
            series.append(
                Series(
                    policy,
                    edges,
                    rates,
                    policy_colour(policy),
                    dashed=policy == floor_policy().name,
                    step=True,
                    hover=hover,
                )
            )
        label = _size_label(size.cache_size, size.size_unit, str(specs.get((size.size_unit, size.cache_size), "")))
        charts.append(
            line_chart(
                f"timeline-{size.size_unit}-{size.cache_size}",
                f"Misses per hour over time, cache {label}" + ("" if size.size_unit == "bytes" else " objects"),
                series,
                Axis("trace time (hours)"),
                Axis("misses per hour", zero=True),
            )
        )
    return charts


def sections(folder: Path, run: dict[str, Any]) -> list[str]:
    """The bench report's sections after the run description."""
    results = read_table(folder, "results", RESULTS_COLUMNS)
    if results is None:
        raise CachetuneError(f"{folder / 'results.csv'} is missing or empty: not a bench run's folder")
    results = results.assign(params=results["params"].fillna("{}").astype(str))
    results = results.assign(series=_series_names(results))
    names = _ordered(results)
    span = (run.get("trace") or {}).get("span_hours")
    per_hour = _per_hour_axis(results)
    charts = [
        _bars(
            results,
            names,
            "miss_ratio",
            "Miss ratio by policy and cache size" + (" (right axis: misses per hour)" if per_hour else ""),
            "miss ratio (misses ÷ requests)",
            "miss-ratio-bars",
            per_hour,
        )
    ]
    if per_hour is None:
        charts.append(
            _bars(
                results,
                names,
                "misses_per_hour",
                "Misses per hour by policy and cache size",
                "misses per hour of trace time",
                "misses-per-hour-bars",
                None,
            )
        )
    bytes_rows = results[results["size_unit"] == "bytes"]
    if not bytes_rows.empty and not np.allclose(bytes_rows["byte_miss_ratio"], bytes_rows["miss_ratio"]):
        title = "Byte miss ratio by policy and cache size"
        label = "byte miss ratio (missed bytes ÷ requested bytes)"
        charts.append(_bars(bytes_rows, names, "byte_miss_ratio", title, label, "byte-miss-ratio-bars", None))
    charts += _curves(results, names)
    timeline = read_table(folder, "timeline", TIMELINE_COLUMNS)
    if timeline is not None and not timeline.empty:
        charts += _timelines(timeline, results, names, span if isinstance(span, int | float) else None)
    shown = results.drop(columns=["series"])
    explained = note(
        "Colours stand for the same policy in every chart. Legends list policies best first "
        "(lowest mean miss ratio). Hover a bar or point for its exact figure."
    )
    caption = "Every policy at every size (results.csv). Click a header to sort."
    return [
        section("Charts", chart_grid(charts) + explained, "charts"),
        section("Results", table(shown, "results", caption), "results"),
    ]


def subtitle(run: dict[str, Any]) -> str:
    """One line under the title: what was compared."""
    options = run.get("options") or {}
    policies = options.get("policies") or []
    sizes = options.get("sizes") or []
    if not (policies and sizes):
        return "policy comparison"
    return f"{counted(len(policies), 'policy')} × {counted(len(sizes), 'cache size')}"
