"""The comparison table in the terminal: every policy at every size, best first."""

import math

import pandas as pd
from rich.console import Console
from rich.table import Table


def _number(value: float, digits: int = 4) -> str:
    return "—" if isinstance(value, float) and math.isnan(value) else f"{value:,.{digits}f}"


def print_bench_table(table: pd.DataFrame, console: Console, title: str) -> None:
    """One rich table per run; the best policy at each size is highlighted.

    Columns that would repeat others are left out: parameters when no policy
    has any, the byte miss ratio when capacities count objects.
    """
    show_params = bool((table["params"] != "{}").any())
    show_bytes = bool((table["size_unit"] == "bytes").any())
    view = Table(title=title, title_justify="left")
    view.add_column("size", justify="right", no_wrap=True)
    view.add_column("policy", no_wrap=True)
    if show_params:
        view.add_column("params")
    for column in ("hits", "misses", "miss ratio", *(["byte miss ratio"] if show_bytes else []), "misses/h"):
        view.add_column(column, justify="right", no_wrap=True)
    for (_, _), group in table.groupby(["size_unit", "cache_size"], sort=False):
        best = group["miss_ratio"].min()
        for position, row in enumerate(group.itertuples()):
            cells = [f"{row.size_spec} = {row.cache_size:,}" if position == 0 else "", row.policy]
            if show_params:
                cells.append("" if row.params == "{}" else row.params)
            cells += [f"{row.hits:,}", f"{row.misses:,}", _number(row.miss_ratio)]
            if show_bytes:
                cells.append(_number(row.byte_miss_ratio))
            cells.append(_number(row.misses_per_hour, 0))
            view.add_row(*cells, style="bold green" if row.miss_ratio == best else None,
                         end_section=position == len(group) - 1)  # fmt: skip
    console.print(view)
    units = sorted(set(table["size_unit"]))
    console.print(
        f"sizes in {' and '.join(units)}; misses/h = misses per hour of trace time; best at each size in green"
    )
