"""The per-shard section of a sharded run's report: how the fleet's load and misses spread over its shards.

Built from ``shards.csv`` only: ``bench --shards`` writes one row per
(policy, fleet size, shard) with its requests and misses
(``tuner.shards.shard_bench``); ``mrc --shards`` one row per (policy, fleet
size, shard) of each shard's own curve (``tuner.mrc.fleet``). Bench gets a bar
chart per fleet size (each shard's requests, and each policy's misses there)
and the imbalance; mrc a chart per policy with each shard's curve beside the
fleet's, and the imbalance at each size.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from tuner.reports.charts import Axis, Series, bar_chart, format_bytes, format_number, line_chart
from tuner.reports.page import chart_grid, note, read_table, section, table
from tuner.reports.palette import policy_colour

SHARDS_COLUMNS = ("policy", "cache_size", "shard", "shard_capacity", "size_unit", "requests", "misses", "miss_ratio")
REQUESTS_COLOUR = "#BBBBBB"
# Shards' own lines in an mrc chart: greys to blues, the fleet's line in the policy's colour above them.
SHARD_COLOURS = ("#6BAED6", "#9ECAE1", "#4292C6", "#2171B5", "#08519C", "#C6DBEF", "#08306B", "#3182BD")
MAX_CHARTS = 6


def _size_text(amount: int, unit: str) -> str:
    return format_bytes(amount) if unit == "bytes" else f"{amount:,} objects"


def _over_mean(values: pd.Series) -> float:
    mean = float(values.mean())
    return float(values.max()) / mean if mean > 0 else float("nan")


def imbalance(shards: pd.DataFrame) -> pd.DataFrame:
    """Per (policy, fleet size): the busiest shard's requests and misses over the mean, and which shard misses most."""
    rows = []
    for (policy, unit, size), group in shards.groupby(["policy", "size_unit", "cache_size"], sort=False):
        rows.append({"policy": policy, "cache_size": size, "size_unit": unit,
                     "shard_capacity": group["shard_capacity"].iloc[0],
                     "imbalance_requests": _over_mean(group["requests"]),
                     "imbalance_misses": _over_mean(group["misses"]),
                     "most_misses_on": f"shard-{group.loc[group['misses'].idxmax(), 'shard']}"})  # fmt: skip
    return pd.DataFrame(rows)


def _load_chart(rows: pd.DataFrame, unit: str, size: int, names: list[str]) -> str:
    shard_ids = sorted(rows["shard"].unique())
    groups = [f"shard-{shard}" for shard in shard_ids]
    by_shard = rows.set_index(["policy", "shard"])
    requests = rows.drop_duplicates("shard").set_index("shard")["requests"]
    series = [Series("requests", [], [float(requests[shard]) for shard in shard_ids], REQUESTS_COLOUR,
                     hover=[f"{group}: {int(requests[shard]):,} requests" for group, shard in
                            zip(groups, shard_ids, strict=True)])]  # fmt: skip
    for name in names:
        misses = [float(by_shard.loc[(name, shard), "misses"]) for shard in shard_ids]
        hover = [f"{name} on {group}: {value:,.0f} misses" for group, value in zip(groups, misses, strict=True)]
        series.append(Series(f"{name} misses", [], misses, policy_colour(name), hover=hover))
    each = int(rows["shard_capacity"].iloc[0])
    title = f"Requests and misses per shard, fleet of {_size_text(size, unit)} ({_size_text(each, unit)} a shard)"
    return bar_chart(f"shards-{unit}-{size}", title, groups, series, "shard", Axis("requests, misses", zero=True))


def _spaced(values: list, most: int) -> list:
    """At most ``most`` of ``values``, evenly spaced, first and last kept."""
    if len(values) <= most:
        return values
    return [values[round(k)] for k in np.linspace(0, len(values) - 1, most)]


def bench_section(folder: Path) -> str | None:
    """Bench's per-shard section (None without ``shards.csv``): a load chart per fleet size, the imbalance."""
    shards = read_table(folder, "shards", SHARDS_COLUMNS)
    if shards is None:
        return None
    names = list(dict.fromkeys(shards["policy"]))
    sizes = list(shards.drop_duplicates(["size_unit", "cache_size"])[["size_unit", "cache_size"]].itertuples(False))
    charts = [_load_chart(shards[(shards["size_unit"] == unit) & (shards["cache_size"] == size)], str(unit), int(size),
                          names) for unit, size in _spaced(sizes, MAX_CHARTS)]  # fmt: skip
    return _section(charts, shards, "Each shard's requests (grey) and each policy's misses on it, per fleet size.")


def mrc_section(folder: Path, curves: pd.DataFrame) -> str | None:
    """Mrc's per-shard section (None without ``shards.csv``): each shard's curve beside the fleet's, per policy."""
    shards = read_table(folder, "shards", SHARDS_COLUMNS)
    if shards is None:
        return None
    charts = []
    for (policy, unit), rows in list(shards.groupby(["policy", "size_unit"], sort=False))[:MAX_CHARTS]:
        series = []
        for shard, line in rows.groupby("shard"):
            line = line.sort_values("shard_capacity")
            colour = SHARD_COLOURS[int(shard) % len(SHARD_COLOURS)]
            hover = [f"shard-{shard} at {_size_text(int(size), str(unit))}: miss ratio {ratio:.4f}"
                     for size, ratio in zip(line["shard_capacity"], line["miss_ratio"], strict=True)]  # fmt: skip
            series.append(Series(f"shard-{shard}", list(line["shard_capacity"]), list(line["miss_ratio"]), colour,
                                 hover=hover))  # fmt: skip
        fleet = curves[(curves["policy"] == policy) & (curves["size_unit"] == unit)].sort_values("cache_size")
        if "shard_capacity" in fleet.columns and not fleet.empty:
            series.append(Series("fleet", list(fleet["shard_capacity"]), list(fleet["miss_ratio"]),
                                 policy_colour(str(policy)), dashed=True))  # fmt: skip
        x_axis = Axis(f"each shard's size ({unit}, log scale)", log=True,
                      format=format_bytes if unit == "bytes" else format_number)  # fmt: skip
        charts.append(line_chart(f"shard-curves-{policy}-{unit}", f"{policy}: each shard's curve and the fleet's",
                                 series, x_axis, Axis("miss ratio (misses ÷ requests)", zero=True)))  # fmt: skip
    return _section(charts, shards, "Each shard's own curve (its requests alone) and the fleet's, dashed.")


def _section(charts: list[str], shards: pd.DataFrame, what: str) -> str:
    explained = note(f"{what} Imbalance: the busiest shard's requests (misses) over the mean over shards; 1 is "
                     "an even fleet. Hover a bar or point for its exact figure.")  # fmt: skip
    return section(
        "Shards",
        chart_grid(charts)
        + explained
        + table(imbalance(shards), "imbalance", "The imbalance at each policy and fleet size.")
        + table(shards, "shards", "Every shard's figures (shards.csv). Click a header to sort."),
        "shards",
    )
