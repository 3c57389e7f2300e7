"""The ``bench`` report: miss ratios per policy and size, miss-ratio curves, the hourly timeline, the table.

Built from ``results.csv`` (required), ``timeline.csv`` and a fleet's ``shards.csv`` (optional) only.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tuner.bounds import is_floor
from tuner.errors import CachetuneError
from tuner.reports import shards_page
from tuner.reports.charts import Axis, SecondAxis, Series, bar_chart, format_bytes, format_number, line_chart
from tuner.reports.mrc_page import floor_title
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


def _bounds(results: pd.DataFrame, column: str) -> tuple[pd.Series, pd.Series]:
    """The 95 % interval of ``column`` over seeds (``results.csv``'s ``COLUMN_ci_low``/``_high``), NaN where
    the run has none (a run made before ``--seeds``, or a column without one)."""
    nothing = pd.Series(math.nan, index=results.index)
    return results.get(f"{column}_ci_low", nothing), results.get(f"{column}_ci_high", nothing)


def _interval_text(error: tuple[float, float]) -> str:
    low, high = error
    return f" (95% interval over seeds {low:.4f}–{high:.4f})" if math.isfinite(low) and low != high else ""


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
    indexed = results.set_index(["series", "size_unit", "cache_size"])
    keyed, low, high = indexed[column], *_bounds(indexed, column)
    series = []
    for name in names:
        keys = [(name, r.size_unit, r.cache_size) for r in sizes.itertuples()]
        values = [float(keyed.get(key, math.nan)) for key in keys]
        errors = [(float(low.get(key, math.nan)), float(high.get(key, math.nan))) for key in keys]
        hover = [f"{name} at {group}: {value:.4f}{_interval_text(error)}"
                 for group, value, error in zip(groups, values, errors, strict=True)]  # fmt: skip
        series.append(Series(name, [], values, policy_colour(name.split(" ")[0]), hover=hover, errors=errors))
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
            low, high = _bounds(line, "miss_ratio")
            errors = list(zip(low.astype(float), high.astype(float), strict=True))
            hover = [
                f"{name} at {_size_label(r.cache_size, r.size_unit, str(r.size_spec))}: {r.miss_ratio:.4f}"
                + _interval_text(error)
                for r, error in zip(line.itertuples(), errors, strict=True)
            ]
            series.append(
                Series(
                    name,
                    list(line["cache_size"]),
                    list(line["miss_ratio"]),
                    policy_colour(policy),
                    dashed=is_floor(policy),
                    hover=hover,
                    errors=errors,
                )
            )
        x_axis = Axis(
            f"cache size ({_unit_label(unit)}, log scale)",
            log=True,
            format=format_bytes if unit == "bytes" else format_number,
        )
        title = "Miss-ratio curves" + floor_title(str(unit), [name for name in set(rows["policy"]) if is_floor(name)])
        charts.append(
            line_chart(
                f"miss-ratio-curves-{unit}", title, series, x_axis, Axis("miss ratio (misses ÷ requests)", zero=True)
            )
        )
    return charts


def _hourly_rates(
    rows: pd.DataFrame, span_hours: float | None, column: str
) -> tuple[list[float], list[float], list[int]]:
    """Bin edges (hours), ``column`` per hour in each bin and its count there; the last bin counts only the time
    it covers."""
    starts = rows["window_start_hours"].to_numpy(dtype=float)
    widths = np.diff(starts)
    width = float(widths[widths > 0].min()) if (widths > 0).any() else 1.0
    ends = starts + width
    counts = rows[column].fillna(0).to_numpy(dtype=float)
    if span_hours and span_hours > 0:
        keep = starts < span_hours - 1e-9
        starts, ends, counts = starts[keep], np.minimum(ends[keep], span_hours), counts[keep]
    rates = counts / np.maximum(ends - starts, 1e-12)
    return [*starts.tolist(), *ends[-1:].tolist()], rates.tolist(), [int(count) for count in counts]


def _timeline_sizes(timeline: pd.DataFrame) -> pd.DataFrame:
    """The sizes that get a timeline: every one, or ``MAX_TIMELINES`` evenly spaced from smallest to largest."""
    sizes = timeline.drop_duplicates(["size_unit", "cache_size"]).sort_values(["size_unit", "cache_size"])
    if len(sizes) > MAX_TIMELINES:
        picks = np.unique(np.linspace(0, len(sizes) - 1, MAX_TIMELINES).round().astype(int))
        sizes = sizes.iloc[picks]
    return sizes


def _timeline_chart(
    rows: pd.DataFrame,
    names: list[str],
    span_hours: float | None,
    column: str,
    what: str,
    chart_id: str,
    title: str,
    figures: bool = False,
) -> str:
    """One size's ``column`` per hour of trace time, a step line per policy (legend in ``names``' order).

    With ``figures`` each series carries its exact figures as data attributes:
    ``data-edges`` (bin edges, hours), ``data-counts`` (``column`` in each bin,
    as in ``timeline.csv``) and ``data-per-hour``.
    """
    order = {name.split(" ")[0]: position for position, name in enumerate(names)}
    series = []
    for policy in sorted(rows["policy"].unique(), key=lambda p: (order.get(p, len(order)), p)):
        mine = rows[rows["policy"] == policy].sort_values("window_start_hours")
        edges, rates, counts = _hourly_rates(mine, span_hours, column)
        hover = [
            f"{policy}, hour {edges[i]:.2f}–{edges[i + 1]:.2f}: {rate:,.0f} {what}/h" for i, rate in enumerate(rates)
        ]
        exact = {"edges": edges, "counts": counts, "per-hour": rates}
        data = {name: " ".join(repr(value) for value in values) for name, values in exact.items()} if figures else {}
        dashed = is_floor(policy)
        series.append(Series(policy, edges, rates, policy_colour(policy), dashed=dashed, step=True, hover=hover,
                             data=data))  # fmt: skip
    return line_chart(chart_id, title, series, Axis("trace time (hours)"), Axis(f"{what} per hour", zero=True))


def _cache_label(size: Any, specs: pd.Series) -> str:
    label = _size_label(size.cache_size, size.size_unit, str(specs.get((size.size_unit, size.cache_size), "")))
    return f"cache {label}" + ("" if size.size_unit == "bytes" else " objects")


def _size_rows(timeline: pd.DataFrame, size: Any) -> pd.DataFrame:
    return timeline[(timeline["size_unit"] == size.size_unit) & (timeline["cache_size"] == size.cache_size)]


def _specs(results: pd.DataFrame) -> pd.Series:
    return results.drop_duplicates(["size_unit", "cache_size"]).set_index(["size_unit", "cache_size"])["size_spec"]


def _timelines(timeline: pd.DataFrame, results: pd.DataFrame, names: list[str], span_hours: float | None) -> list[str]:
    specs = _specs(results)
    return [
        _timeline_chart(
            _size_rows(timeline, size),
            names,
            span_hours,
            "misses",
            "misses",
            f"timeline-{size.size_unit}-{size.cache_size}",
            f"Misses per hour over time, {_cache_label(size, specs)}",
        )
        for size in _timeline_sizes(timeline).itertuples()
    ]


def _has_writes(run: dict[str, Any], results: pd.DataFrame) -> bool:
    """Whether the trace held SETs or DELETEs, as ``run.json`` records it.

    A run recorded before ``run.json`` said so is judged by its results: a
    DELETE always writes the backend, and a SET either writes it (write-through,
    write-around, or refused under write-back) or leaves a dirty object, so a
    trace has writes exactly when some row has backend writes or a dirty peak.
    """
    recorded = (run.get("trace") or {}).get("has_writes")
    if isinstance(recorded, bool):
        return recorded
    columns = [column for column in ("backend_writes", "dirty_peak") if column in results.columns]
    return bool(columns) and bool((results[columns].fillna(0).to_numpy() > 0).any())


def _backend_section(
    timeline: pd.DataFrame, results: pd.DataFrame, names: list[str], span_hours: float | None, write_policy: Any
) -> str:
    """Backend reads and writes per hour of trace time: a pair of charts per cache size.

    Reads and writes are separate charts rather than two lines per policy in
    one, because a chart of several policies already spends colour on the
    policy (and dashes on OPT). The sizes are small multiples, a pair per
    size, reads then writes, so on a wide screen each row of the grid is one
    size read across: a policy's backend load depends on the size, and the
    sizes are the user's choice, so none is picked over the others (beyond
    ``MAX_TIMELINES`` sizes, evenly spaced ones, as for the misses timeline).
    The reads are the GET misses, the figures the misses timeline draws, so on
    a trace with writes these charts take its place.
    """
    specs = _specs(results)
    charts = []
    for size in _timeline_sizes(timeline).itertuples():
        rows, label = _size_rows(timeline, size), _cache_label(size, specs)
        for column, what, kind, title in (
            ("misses", "backend reads", "backend-reads", "Backend reads (GET misses) per hour"),
            ("backend_writes", "backend writes", "backend-writes", "Backend writes per hour"),
        ):
            chart_id = f"{kind}-{size.size_unit}-{size.cache_size}"
            charts.append(_timeline_chart(rows, names, span_hours, column, what, chart_id, f"{title}, {label}",
                                          figures=True))  # fmt: skip
    caption = (
        "Each line is one policy's operations on the backend per hour of trace time: reads are GET misses, writes "
        "are the SETs and DELETEs passed on plus dirty objects written back; a pair of charts per cache size."
    )
    if write_policy in ("write-through", "write-around"):
        caption += f" Under {write_policy} every policy writes the same, so the write lines lie on one another."
    return section("Backend reads and writes over time", chart_grid(charts) + note(caption), "backend")


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
    bytes_rows = results[(results["size_unit"] == "bytes") & np.isfinite(results["byte_miss_ratio"])]  # not opt-lower
    if not bytes_rows.empty and not np.allclose(bytes_rows["byte_miss_ratio"], bytes_rows["miss_ratio"]):
        title = "Byte miss ratio by policy and cache size"
        label = "byte miss ratio (missed bytes ÷ requested bytes)"
        charts.append(_bars(bytes_rows, names, "byte_miss_ratio", title, label, "byte-miss-ratio-bars", None))
    charts += _curves(results, names)
    timeline = read_table(folder, "timeline", TIMELINE_COLUMNS)
    span_hours = span if isinstance(span, int | float) else None
    backend = None
    if timeline is not None and not timeline.empty:
        if _has_writes(run, results) and "backend_writes" in timeline.columns:
            write_policy = (run.get("options") or {}).get("write_policy")
            backend = _backend_section(timeline, results, names, span_hours, write_policy)
        else:
            charts += _timelines(timeline, results, names, span_hours)
    shown = results.drop(columns=["series"])
    explained = note(
        "Colours stand for the same policy in every chart. Legends list policies best first "
        "(lowest mean miss ratio). Hover a bar or point for its exact figure."
        + (
            " Error bars: the 95% interval of a randomized policy's mean over its seeds (--seeds)."
            if _has_intervals(results)
            else ""
        )
    )
    caption = "Every policy at every size (results.csv). Click a header to sort."
    shards = shards_page.bench_section(folder)
    return [
        section("Charts", chart_grid(charts) + explained, "charts"),
        *([backend] if backend else []),
        *([shards] if shards else []),
        section("Results", table(shown, "results", caption), "results"),
    ]


def _has_intervals(results: pd.DataFrame) -> bool:
    low, high = _bounds(results, "miss_ratio")
    return bool((np.isfinite(low) & np.isfinite(high) & (low != high)).any())


def subtitle(run: dict[str, Any]) -> str:
    """One line under the title: what was compared."""
    options = run.get("options") or {}
    policies = options.get("policies") or []
    sizes = options.get("sizes") or []
    if not (policies and sizes):
        return "policy comparison"
    return f"{counted(len(policies), 'policy')} × {counted(len(sizes), 'cache size')}"
