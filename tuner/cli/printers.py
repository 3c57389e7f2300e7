"""What the commands print on stdout: one writer for every ``--format``, and each command's terminal table.

``write_table`` is the one way a result reaches stdout: its table as CSV or
JSON rows, or drawn for the terminal by the command's printer below. The
printers are the only code that knows rich; the library hands them plain
results.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table

from tuner.analyze import OPERATION_FIELDS, TraceAnalysis, operations_note
from tuner.bounds import floor_label, is_floor
from tuner.capacity import BYTES
from tuner.cli.console import stdout
from tuner.deploy import settings_text
from tuner.intervals import Interval
from tuner.mrc.curve import how_obtained
from tuner.optimize import OptimizeResult
from tuner.reports.charts import format_bytes

FORMATS = ("table", "csv", "json")
Format = Annotated[str, typer.Option("--format", help="table, csv or json on stdout.")]


def write_table(table: pd.DataFrame, output_format: str, draw: Callable[[], None], document: Any = None) -> None:
    """``table`` on stdout as ``output_format``: ``csv``, ``json`` rows, or ``table`` as ``draw`` draws it.

    ``document`` is what ``json`` prints instead of the rows, for a result
    whose JSON holds more than its table (analyze's whole analysis,
    optimize's ``best.json``).
    """
    if output_format == "csv":
        buffer = io.StringIO()
        table.to_csv(buffer, index=False)
        stdout.out(buffer.getvalue(), end="", highlight=False)
    elif output_format == "json" and document is None:
        stdout.out(table.to_json(orient="records", indent=2), highlight=False)
    elif output_format == "json":
        stdout.out(json.dumps(document, indent=2, default=str), highlight=False)
    else:
        draw()


def _number(value: float | None, digits: int = 4) -> str:
    return "—" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:,.{digits}f}"


def _parameters_note(table: pd.DataFrame) -> str:
    """Each parameterised policy's settings once, below the table, where they do not crowd it."""
    settings = dict(zip(table["policy"], table["params"], strict=True))
    parts = [
        f"{policy} " + " ".join(f"{name}={value:g}" for name, value in json.loads(params).items())
        for policy, params in sorted(settings.items())
        if params != "{}"
    ]
    return f"parameters: {'; '.join(parts)}" if parts else ""


def _count(value: float) -> str:
    """A count, or a mean of counts over seeds (one decimal when it is not whole)."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _with_interval(text: str, row: Any, column: str, digits: int) -> str:
    """``text`` (a mean over seeds) followed by ``± half`` its 95 % interval, when the row averages several seeds."""
    seeds = getattr(row, "seeds", 1)
    low, high = getattr(row, f"{column}_ci_low", math.nan), getattr(row, f"{column}_ci_high", math.nan)
    if not (isinstance(seeds, int | float) and seeds > 1 and math.isfinite(low) and math.isfinite(high)):
        return text
    return f"{text} ±{(high - low) / 2:,.{digits}f}"


def _versus_lru(row: Any, lru_misses: float) -> str:
    """The row's misses against LRU's at the same size, in % of LRU's, with the bootstrap interval or "n.s."."""
    if row.policy == "lru" or not lru_misses or not math.isfinite(row.misses_vs_lru):
        return "—"
    change = f"{row.misses_vs_lru / lru_misses:+.1%}"
    difference = Interval(row.misses_vs_lru, row.vs_lru_ci_low, row.vs_lru_ci_high)
    if not difference.known:
        return change
    if not difference.significant:
        return f"{change} n.s."
    return f"{change} [{difference.low / lru_misses:+.1%}, {difference.high / lru_misses:+.1%}]"


def print_bench_table(table: pd.DataFrame, console: Console, title: str, *, has_writes: bool = False) -> None:
    """One rich table per run; the best online policy at each size is highlighted (the floor rows are not choices:
    ``opt`` at object capacities, ``opt-lower`` and ``opt`` at byte capacities, each named for what it is).

    The byte miss ratio is shown only when some capacity counts bytes (with
    object capacities it equals the miss ratio); backend operations per hour
    only when the trace ``has_writes`` (otherwise they are the misses per hour).
    """
    show_bytes = bool((table["size_unit"] == BYTES).any())
    show_lru = "misses_vs_lru" in table.columns and bool(np.isfinite(table["misses_vs_lru"]).any())
    view = Table(title=title, title_justify="left")
    view.add_column("size", justify="right", no_wrap=True)
    view.add_column("policy", no_wrap=True)
    columns = ("hits", "misses", "miss ratio", *(["byte miss ratio"] if show_bytes else []), "misses/h",
               *(["backend ops/h"] if has_writes else []), "vs floor",
               *(["vs LRU [95% CI]"] if show_lru else []))  # fmt: skip
    for column in columns:
        view.add_column(column, justify="right", no_wrap=True)
    for (unit, _), group in table.groupby(["size_unit", "cache_size"], sort=False):
        online = ~group["policy"].map(is_floor)
        best = group.loc[online, "miss_ratio"].min()  # NaN (no highlight) for the floor alone
        lru_misses = group.loc[group["policy"] == "lru", "misses"].sum()
        for position, row in enumerate(group.itertuples()):
            labelled = is_floor(row.policy) and unit == BYTES  # at object capacities opt is the optimum, plainly
            name = f"{row.policy} ({floor_label(row.policy, unit)})" if labelled else row.policy
            cells = [f"{row.size_spec} = {row.cache_size:,}" if position == 0 else "", name]
            cells += [_count(row.hits), _with_interval(_count(row.misses), row, "misses", 0),
                      _with_interval(_number(row.miss_ratio), row, "miss_ratio", 4)]  # fmt: skip
            if show_bytes:
                cells.append(_number(row.byte_miss_ratio))
            cells.append(_number(row.misses_per_hour, 0))
            if has_writes:
                cells.append(_number(row.backend_ops_per_hour, 0))
            cells.append("—" if math.isnan(row.gap_to_opt) else f"{row.gap_to_opt:+.0%}")
            if show_lru:
                cells.append(_versus_lru(row, lru_misses))
            winner = not is_floor(row.policy) and row.miss_ratio == best
            view.add_row(*cells, style="bold green" if winner else None, end_section=position == len(group) - 1)
    console.print(view)
    units = " and ".join(sorted(set(table["size_unit"])))
    console.print(f"sizes in {units}; misses/h: per hour of trace time; vs floor: misses over the fewest possible "
                  "(Belady's optimum at object capacities, the lower bound at byte capacities)")  # fmt: skip
    if show_lru:
        console.print("vs LRU: misses over LRU's at the same size, with the 95% interval of a block bootstrap over "
                      "the hourly windows; n.s.: not significant (the interval spans zero)")  # fmt: skip
    averaged = table.loc[table["seeds"] > 1, "seeds"] if "seeds" in table.columns else pd.Series(dtype=float)
    if not averaged.empty:
        console.print(f"randomized policies: mean of {int(averaged.max())} seeds ± half the 95% t interval")
    if has_writes:
        console.print("backend ops/h: reads (GET misses) and writes reaching the backend, per hour of trace time")
    note = _parameters_note(table)
    if note:
        console.print(note)


def print_curves(curves: pd.DataFrame, console: Console, title: str) -> None:
    """One row per size, one miss-ratio column per policy; the lowest miss ratio besides the floor's in bold."""
    wide = curves.pivot_table(index=["size_unit", "cache_size"], columns="policy", values="miss_ratio", sort=False)
    policies = list(dict.fromkeys(curves["policy"]))
    units = set(curves["size_unit"])
    view = Table(title=title, title_justify="left")
    view.add_column("cache size", justify="right", no_wrap=True)
    for policy in policies:
        named = is_floor(policy) and units == {BYTES}
        view.add_column(f"{policy} ({floor_label(policy, BYTES)})" if named else policy, justify="right", no_wrap=True)
    for (unit, cache_size), row in wide.iterrows():
        contenders = [row.get(policy, math.nan) for policy in policies if not is_floor(policy)]
        best = min((value for value in contenders if not math.isnan(value)), default=math.nan)
        cells = [format_bytes(cache_size) if unit == BYTES else f"{cache_size:,}"]
        for policy in policies:
            value = row.get(policy, math.nan)
            text = "—" if math.isnan(value) else f"{value:.4f}"
            cells.append(f"[bold green]{text}[/]" if not is_floor(policy) and value == best else text)
        view.add_row(*cells)
    console.print(view)
    how = "; ".join(f"{policy} {how_obtained(rows)}" for policy, rows in curves.groupby("policy", sort=False))
    console.print(f"miss ratio = misses ÷ requests; how: {how}")


_SUMMARY_ROWS = (
    ("requests", "requests", "{:,}"),
    ("unique objects", "unique_objects", "{:,}"),
    ("bytes requested", "bytes", "{:,}"),
    ("bytes of unique objects", "unique_bytes", "{:,}"),
    ("span (hours)", "span_hours", "{:,.3f}"),
    ("requests per second", "requests_per_second", "{:,.2f}"),
    ("one-hit wonders (share of objects)", "one_hit_wonder_ratio", "{:.4f}"),
    ("Zipf exponent (alpha)", "zipf_alpha", "{:.4f}"),
    ("Zipf fit r²", "zipf_r_squared", "{:.4f}"),
    ("median reuse distance (objects)", "median_reuse_distance", "{:,.0f}"),
    ("lines skipped", "skipped_lines", "{:,}"),
)


def _cell(template: str, value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return template.format(value)


_TTL_ROWS = (
    ("shortest", "ttl_min_seconds"),
    ("median", "ttl_median_seconds"),
    ("90th percentile", "ttl_p90_seconds"),
    ("longest", "ttl_max_seconds"),
)


def _print_operations(summary: dict[str, Any], console: Console) -> None:
    """The operation mix with the write ratio, and the TTLs when any request has one."""
    operations = Table(title="operations", caption=operations_note(summary), caption_justify="left")
    for column in ("operation", "requests", "share"):
        operations.add_column(column, justify="left" if column == "operation" else "right")
    for name, count, share in OPERATION_FIELDS.values():
        operations.add_row(name, f"{summary[count]:,}", f"{summary[share]:.4f}")
    writes = summary["sets"] + summary["deletes"]
    operations.add_row("writes (SET + DELETE)", f"{writes:,}", f"{summary['write_ratio']:.4f}", style="bold")
    console.print(operations)
    if summary["ttl_share"] > 0:
        ttls = Table(title="TTLs (seconds)", show_header=False)
        ttls.add_row("requests with a TTL (share)", f"{summary['ttl_share']:.4f}")
        for label, field in _TTL_ROWS:
            ttls.add_row(label, f"{summary[field]:,.1f}")
        console.print(ttls)


def print_analysis(result: TraceAnalysis, console: Console) -> None:
    """The summary, the operations and TTLs, the reuse-distance bands and the top keys as terminal tables."""
    summary = Table(title=f"{result.summary['name']}", show_header=False)
    for label, field, template in _SUMMARY_ROWS:
        summary.add_row(label, _cell(template, result.summary.get(field)))
    for reason, count in result.summary.get("skipped", {}).items():
        summary.add_row(f"  skipped: {reason}", f"{count:,}")
    if "dropped_records" in result.summary:
        summary.add_row("records dropped at capture", f"{result.summary['dropped_records']:,}")
    console.print(summary)
    _print_operations(result.summary, console)
    reuse = Table(title="reuse (LRU stack) distance", show_lines=False)
    for column in ("distance", "requests", "share", "LRU hit ratio at distance+1 objects"):
        reuse.add_column(column, justify="right")
    for row in result.reuse_distance.itertuples():
        band = "first request" if row.distance_from < 0 else f"{row.distance_from:,}–{row.distance_to:,}"
        reuse.add_row(band, f"{row.requests:,}", f"{row.fraction:.4f}", _cell("{:.4f}", row.lru_hit_ratio))
    console.print(reuse)
    top = Table(title="top keys")
    for column in ("rank", "key", "requests", "share"):
        top.add_column(column, justify="left" if column == "key" else "right")
    for row in result.top_keys.itertuples():
        top.add_row(str(row.rank), row.key, f"{row.requests:,}", f"{row.fraction:.4f}")
    console.print(top)


def _params(params: dict[str, Any]) -> str:
    return ", ".join(f"{name}={value:.4g}" if isinstance(value, float) else f"{name}={value}"
                     for name, value in params.items())  # fmt: skip


def _saving_note(result: OptimizeResult) -> str:
    """How many fewer misses than the product's default (LRU for no target) at the same size, and whether
    the trace can tell them apart (the 95 % bootstrap interval of the difference in misses)."""
    default = "LRU" if result.default is None else f"{result.target}'s default ({result.default.config.policy})"
    gains = [f"{label} {gain:+.1%}" for label, gain in
             (("tuning", result.saving_over_default("tuning")), ("held out", result.saving_over_default("holdout")))
             if gain is not None]  # fmt: skip
    note = f"fewer misses than {default} at the same size: {', '.join(gains) or '—'}"
    if result.default is not None:
        note += f" ({_difference_text(result.misses_against(result.default), result)})"
    if result.default is None or result.default.config.policy != "lru":
        note += f"; against LRU: {_difference_text(result.misses_against(result.lru), result)}"
    return note


def _difference_text(difference: Interval, result: OptimizeResult) -> str:
    """``-1,234 misses held out, 95 % interval [-1,500, -900]``, or ``not significant`` when it spans zero."""
    part = "held out" if result.recommendation.holdout is not None else "tuning"
    if not difference.known:
        return f"{difference.estimate:+,.0f} misses {part}, too few windows for an interval"
    verdict = "" if difference.significant else ", not significant"
    return (f"{difference.estimate:+,.0f} misses {part}, 95 % interval "
            f"[{difference.low:+,.0f}, {difference.high:+,.0f}]{verdict}")  # fmt: skip


def print_optimize(result: OptimizeResult, console: Console, verify: str | None = None) -> None:
    """The recommendation panel: what to run, its misses on tuning and held-out data, the product's default
    (LRU for no target) and OPT beside it; with a target, the settings to apply and the command to check them."""
    rec = result.recommendation
    unit = "bytes" if result.unit == BYTES else "objects"
    figures = Table(box=None, show_header=True, pad_edge=False)
    figures.add_column("")
    figures.add_column("misses/h (tuning)", justify="right")
    figures.add_column("misses/h (held out)", justify="right")
    figures.add_column("hit ratio (held out)", justify="right")
    figures.add_column("miss ratio (tuning)", justify="right")
    opt_label = "OPT, offline best found" if result.unit == BYTES else "OPT floor (offline optimum)"
    rows = [("recommended", rec), ("LRU, same size", result.lru), (opt_label, result.opt)]
    if result.default is not None:
        rows.insert(1, (f"{result.target} default, same size", result.default))
    for label, item in rows:
        figures.add_row(label, _number(item.tuning.misses_per_hour, 0),
                        _number(item.holdout.misses_per_hour, 0) if item.holdout else "—",
                        _number(1.0 - item.holdout.miss_ratio) if item.holdout else "—",
                        _number(item.tuning.miss_ratio))  # fmt: skip
    counts = result.counts
    shards = result.options.get("shards")
    fleet = (f" a shard × {shards} shards by {result.options['shard_hash']} (fleet {rec.config.capacity * shards:,})"
             if shards else "")  # fmt: skip
    head = (f"[bold]{rec.config.policy}[/bold] at [bold]{rec.config.capacity:,} {unit}[/bold]{fleet}"
            + (f"  ({_params(rec.config.params)})" if rec.config.params else ""))  # fmt: skip
    rule = (f"objective {result.options['objective']}, smallest within {result.options['tolerance']:.1%} of the best"
            if result.menu is None else _rule_note(result))  # fmt: skip
    notes = [
        _saving_note(result),
        f"{rule}; "
        f"trials: {counts['complete']} complete, {counts['pruned']} pruned, {counts['failed']} failed "
        f"({counts['this_run']} this run, study {result.options['study_name']!r})",
    ]
    if result.deployment is not None:
        notes.append(f"apply ({result.target}): {settings_text(result.deployment.settings)} (files in deploy/)")
    if verify:
        notes.append(f"check it against {result.target}: {verify}")
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
    if result.menu is not None:
        top = _menu_table(result)
    panel = Panel(Group(head, figures, *notes, "", top), title="cachetune optimize", title_align="left")
    console.print(panel, soft_wrap=False)


def _size(capacity: int | None, unit: str) -> str:
    if capacity is None:
        return "—"
    return format_bytes(capacity) if unit == BYTES else f"{capacity:,}"


def _rule_note(result: OptimizeResult) -> str:
    """The avoidable-misses rule the recommendation meets, in figures."""
    menu = result.menu
    part = "held out" if result.recommendation.holdout is not None else "tuning"
    rule = menu.avoidable
    saved = menu.recommendation.saved_over_lru
    lru = ("LRU never misses as little" if saved is None else
           f"LRU needs {_size(menu.recommendation.lru_capacity, result.unit)} for as few misses")  # fmt: skip
    return (f"smallest found avoiding ≥ {menu.target_gain:.0%} of the avoidable misses: avoids "
            f"{menu.recommendation.gain:.1%} ({part}: {rule.requests:,.0f} GETs, {rule.cold_misses:,.0f} cold misses, "
            f"{rule.misses:,.0f} avoidable); {lru}")  # fmt: skip


def _menu_table(result: OptimizeResult) -> Group:
    """How much cache for how much gain: the smallest configuration found at each level, and LRU's size for it
    (memory saved is negative where LRU did as well with less on the held-out part)."""
    part = "held out" if result.recommendation.holdout is not None else "tuning"
    table = Table(title=f"menu: the smallest size found avoiding each share of the avoidable misses ({part}); "
                  "LRU-equivalent: the size LRU needs for as few misses; saved vs LRU: the memory this saves",
                  title_justify="left", box=None, pad_edge=False)  # fmt: skip
    for column in ("gain", "size", "policy", "misses/h", "avoided", "LRU-equivalent", "saved vs LRU"):
        table.add_column(column, justify="left" if column == "policy" else "right")
    params = []
    for item in result.menu.items:
        config = item.figures.config
        misses = (item.figures.holdout or item.figures.tuning).misses_per_hour
        saved = item.saved_over_lru
        if saved is None:
            saved_text = "LRU never as few"
        elif saved == 0:
            saved_text = "none"
        else:
            sign = "" if saved > 0 else "−"
            saved_text = f"{sign}{_size(abs(saved), result.unit)} ({sign}{abs(saved) / item.lru_capacity:.0%})"
        table.add_row(f"≥ {item.level:.0%}", _size(item.capacity, result.unit), config.policy, _number(misses, 0),
                      f"{item.gain:.1%}", _size(item.lru_capacity, result.unit), saved_text)  # fmt: skip
        if config.params:
            params.append(f"≥ {item.level:.0%} {config.policy}: {_params(config.params)}")
    return Group(table, *params)


def print_shard_table(shards: pd.DataFrame, console: Console, title: str, *, most_rows: int = 64) -> None:
    """Each fleet's shards (requests, misses, miss ratio, used), or when that would run past ``most_rows``
    rows only each fleet's imbalance line: its busiest shard's requests and misses over the mean."""
    groups = shards.groupby(["policy", "cache_size", "size_unit"], sort=False)
    if len(shards) <= most_rows:
        view = Table(title=title, title_justify="left")
        for column in ("policy", "size", "shard", "requests", "misses", "miss ratio", "used"):
            view.add_column(column, justify="left" if column == "policy" else "right", no_wrap=True)
        for (policy, cache_size, unit), group in groups:
            for position, row in enumerate(group.itertuples()):
                first = position == 0
                view.add_row(policy if first else "", f"{cache_size:,} {unit}" if first else "",
                             f"{row.shard} ({row.shard_capacity:,})", _count(row.requests), _count(row.misses),
                             _number(row.miss_ratio), _count(row.used),
                             end_section=position == len(group) - 1)  # fmt: skip
        console.print(view)
    for (policy, cache_size, unit), group in groups:
        first = group.iloc[0]
        console.print(f"{policy} at {cache_size:,} {unit}: busiest shard over the mean: "
                      f"{first.imbalance_requests:.2f}× requests, {first.imbalance_misses:.2f}× misses")  # fmt: skip
