"""``cachetune mrc``: miss-ratio curves, one policy's miss ratio over many cache sizes."""

from __future__ import annotations

import io
import math
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from tuner.capacity import BYTES
from tuner.cli import output
from tuner.cli.console import progress_bar, stdout
from tuner.cli.source import SourceOptions, with_source_options
from tuner.errors import CachetuneError, check_choice
from tuner.lineup import named_policies
from tuner.mrc import default_sizes, miss_ratio_curve
from tuner.mrc.curve import how_obtained
from tuner.policies import floor_policy
from tuner.reports.charts import format_bytes
from tuner.reports.files import run_record
from tuner.trace import Trace

FORMATS = ("table", "csv", "json")
DEFAULT_POINTS = 20


def parse_sizes(spec: str | None, trace: Trace) -> list[int | str]:
    """``N``: N object counts log-spaced from 0.1% to 100% of the unique objects; else a comma list of sizes.

    A bare whole number is a count of points; a single explicit size needs a
    unit or a trailing comma (``5%``, ``64MiB``, ``1000,``). Without ``spec``,
    ``DEFAULT_POINTS``, or one point per object on a trace with fewer.
    """
    most = max(trace.n_objects, 1)  # one point per cache size at most
    text = (spec or str(min(DEFAULT_POINTS, most))).strip()
    if text.isdigit():
        points = int(text)
        if not 1 <= points <= most:
            raise CachetuneError(f"--sizes {text}: give 1 to {most:,} points")
        return list(default_sizes(trace, points))
    sizes = [part.strip() for part in text.split(",") if part.strip()]
    if not sizes:
        raise CachetuneError(f"--sizes {spec!r}: give a number of points or a comma list of sizes")
    return sizes


def chosen_policies(spec: str, no_opt: bool) -> list[str]:
    """The named policies, plus ``opt`` as the floor whenever anything besides LRU is compared."""
    names = [policy.name for policy in named_policies(spec)]
    floor = floor_policy().name
    if not no_opt and floor not in names and names != ["lru"]:
        names.append(floor)
    return names


def _size_cell(cache_size: int, unit: str) -> str:
    return format_bytes(cache_size) if unit == BYTES else f"{cache_size:,}"


def print_curves(curves: pd.DataFrame, title: str) -> None:
    """One row per size, one miss-ratio column per policy; the lowest miss ratio besides OPT in bold."""
    wide = curves.pivot_table(index=["size_unit", "cache_size"], columns="policy", values="miss_ratio", sort=False)
    policies = list(dict.fromkeys(curves["policy"]))
    floor = floor_policy().name
    view = Table(title=title, title_justify="left")
    view.add_column("cache size", justify="right", no_wrap=True)
    for policy in policies:
        view.add_column(policy, justify="right", no_wrap=True)
    for (unit, cache_size), row in wide.iterrows():
        contenders = [row.get(policy, math.nan) for policy in policies if policy != floor]
        best = min((value for value in contenders if not math.isnan(value)), default=math.nan)
        cells = [_size_cell(cache_size, unit)]
        for policy in policies:
            value = row.get(policy, math.nan)
            text = "—" if math.isnan(value) else f"{value:.4f}"
            cells.append(f"[bold green]{text}[/]" if policy != floor and value == best else text)
        view.add_row(*cells)
    stdout.print(view)
    how = "; ".join(f"{policy} {how_obtained(rows)}" for policy, rows in curves.groupby("policy", sort=False))
    stdout.print(f"miss ratio = misses ÷ requests; how: {how}")


@with_source_options()
def mrc_command(
    source: SourceOptions,
    policies: Annotated[
        str, typer.Option(help="Comma-separated policy names, or 'all'. OPT joins any list beyond lru.")
    ] = "lru",
    no_opt: Annotated[bool, typer.Option("--no-opt", help="Leave out OPT's curve (Belady's optimal floor).")] = False,
    sizes: Annotated[
        str | None,
        typer.Option(
            help=f"N: N sizes log-spaced from 0.1% to 100% of unique objects (default {DEFAULT_POINTS}); "
            "or a comma list of sizes: 1000, 64MiB, 5%."
        ),
    ] = None,
    sample_rate: Annotated[
        float | None, typer.Option(help="Share of objects sampled by shards (default 0.01) and mini (default 0.1).")
    ] = None,
    method: Annotated[
        str, typer.Option(help="auto, exact (one pass for LRU, replays otherwise), shards (LRU) or mini.")
    ] = "auto",
    out: output.Out = None,
    no_report: output.NoReport = False,
    output_format: Annotated[str, typer.Option("--format", help="table, csv or json on stdout.")] = "table",
) -> None:
    """Miss ratio at many cache sizes per policy: exact, SHARDS-sampled or by miniature simulation."""
    check_choice("format", output_format, FORMATS)
    names = chosen_policies(policies, no_opt)
    with output.run_folder("mrc", out) as folder:
        trace = source.load()
        chosen_sizes = parse_sizes(sizes, trace)
        parts = []
        with progress_bar() as progress:
            task = progress.add_task(f"curves on {trace.name}", total=len(names))
            for name in names:
                progress.update(task, description=f"{name} on {trace.name}")
                parts.append(miss_ratio_curve(trace, name, chosen_sizes, method, sample_rate, seed=source.seed or 0))
                progress.advance(task)
        curves = pd.concat(parts, ignore_index=True)
        options = {"workload": source.workload, "trace": trace.info.get("path"), "policies": names,
                   "sizes": chosen_sizes, "method": method, "sample_rate": sample_rate,
                   "seed": source.seed}  # fmt: skip
        output.save_run(folder, run_record("mrc", options, trace), {"curves": curves}, report=not no_report)
    if output_format == "csv":
        buffer = io.StringIO()
        curves.to_csv(buffer, index=False)
        stdout.out(buffer.getvalue(), end="", highlight=False)
    elif output_format == "json":
        stdout.out(curves.to_json(orient="records", indent=2), highlight=False)
    else:
        described = trace.describe()
        print_curves(curves, f"{trace.name}: {described['requests']:,} requests, "
                             f"{described['unique_objects']:,} objects")  # fmt: skip


def register(app: typer.Typer) -> None:
    app.command("mrc")(mrc_command)
