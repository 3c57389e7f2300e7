"""The comparison table in the terminal: every policy at every size, best first."""

import json
import math

import pandas as pd
from rich.console import Console
from rich.table import Table

from tuner.policies import floor_policy


def _number(value: float, digits: int = 4) -> str:
    return "—" if isinstance(value, float) and math.isnan(value) else f"{value:,.{digits}f}"


def _parameters_note(table: pd.DataFrame) -> str:
    """Each parameterised policy's settings once, below the table, where they do not crowd it."""
    settings = dict(zip(table["policy"], table["params"], strict=True))
    parts = [
        f"{policy} " + " ".join(f"{name}={value:g}" for name, value in json.loads(params).items())
        for policy, params in sorted(settings.items())
        if params != "{}"
    ]
    return f"parameters: {'; '.join(parts)}" if parts else ""


def print_bench_table(table: pd.DataFrame, console: Console, title: str) -> None:
    """One rich table per run; the best online policy at each size is highlighted (OPT is the floor, not a choice).

    The byte miss ratio is shown only when some capacity counts bytes (with
    object capacities it equals the miss ratio).
    """
    show_bytes = bool((table["size_unit"] == "bytes").any())
    view = Table(title=title, title_justify="left")
    view.add_column("size", justify="right", no_wrap=True)
    view.add_column("policy", no_wrap=True)
    columns = ("hits", "misses", "miss ratio", *(["byte miss ratio"] if show_bytes else []), "misses/h", "vs OPT")
    for column in columns:
        view.add_column(column, justify="right", no_wrap=True)
    floor = floor_policy().name
    for (_, _), group in table.groupby(["size_unit", "cache_size"], sort=False):
        best = group.loc[group["policy"] != floor, "miss_ratio"].min()  # NaN (no highlight) for OPT alone
        for position, row in enumerate(group.itertuples()):
            cells = [f"{row.size_spec} = {row.cache_size:,}" if position == 0 else "", row.policy]
            cells += [f"{row.hits:,}", f"{row.misses:,}", _number(row.miss_ratio)]
            if show_bytes:
                cells.append(_number(row.byte_miss_ratio))
            cells.append(_number(row.misses_per_hour, 0))
            cells.append("—" if math.isnan(row.gap_to_opt) else f"{row.gap_to_opt:+.0%}")
            winner = row.miss_ratio == best
            view.add_row(*cells, style="bold green" if winner else None, end_section=position == len(group) - 1)
    console.print(view)
    units = " and ".join(sorted(set(table["size_unit"])))
    console.print(f"sizes in {units}; misses/h: per hour of trace time; vs OPT: misses over Belady's optimum")
    note = _parameters_note(table)
    if note:
        console.print(note)
