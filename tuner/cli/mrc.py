"""``cachetune mrc``: miss-ratio curves, one policy's miss ratio over many cache sizes."""

from __future__ import annotations

from typing import Annotated

import typer

from tuner.cli import output
from tuner.cli.console import progress_bar, stdout
from tuner.cli.printers import FORMATS, Format, print_curves, write_table
from tuner.cli.shards import DEFAULT_HASH, ShardHash, Shards
from tuner.cli.source import SourceOptions, with_source_options
from tuner.errors import CachetuneError, check_choice
from tuner.mrc import default_sizes, fleet_curves, miss_ratio_curves
from tuner.mrc.fleet import check_fleet_method
from tuner.shards import check_shards
from tuner.trace import Trace

DEFAULT_POINTS = 20


def parse_sizes(spec: str | None, trace: Trace, least: int = 1) -> list[int | str]:
    """``N``: N object counts log-spaced from 0.1% to 100% of the unique objects; else a comma list of sizes.

    A bare whole number is a count of points; a single explicit size needs a
    unit or a trailing comma (``5%``, ``64MiB``, ``1000,``). Without ``spec``,
    ``DEFAULT_POINTS``, or one point per object on a trace with fewer. Counts
    below ``least`` leave the grid (a fleet of N shards needs N objects).
    """
    most = max(trace.n_objects, 1)  # one point per cache size at most
    text = (spec or str(min(DEFAULT_POINTS, most))).strip()
    if text.isdigit():
        points = int(text)
        if not 1 <= points <= most:
            raise CachetuneError(f"--sizes {text}: give 1 to {most:,} points")
        return [size for size in default_sizes(trace, points) if size >= least]
    sizes = [part.strip() for part in text.split(",") if part.strip()]
    if not sizes:
        raise CachetuneError(f"--sizes {spec!r}: give a number of points or a comma list of sizes")
    return sizes


@with_source_options()
def mrc_command(
    source: SourceOptions,
    policies: Annotated[
        str, typer.Option(help="Comma-separated policy names, or 'all'. OPT joins any list beyond lru.")
    ] = "lru",
    no_opt: Annotated[
        bool, typer.Option("--no-opt", help="Leave out the floor's curves (OPT; opt-lower too at byte sizes).")
    ] = False,
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
    output_format: Format = "table",
    shards: Shards = None,
    shard_hash: ShardHash = DEFAULT_HASH,
) -> None:
    """Miss ratio at many cache sizes per policy: exact, SHARDS-sampled or by miniature simulation.

    With --shards, each size is a fleet's total, split evenly over the shards, and every shard's curve is exact.
    """
    check_choice("format", output_format, FORMATS)
    if shards is not None:
        check_shards(shards, shard_hash, hash_parameter="shard_hash")
        check_fleet_method(method)
    with output.run_folder("mrc", out) as folder:
        trace = source.load()
        with progress_bar() as progress:
            task = progress.add_task(f"curves on {trace.name}", total=None)

            def show(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            if shards is not None:
                result = fleet_curves(trace, policies, parse_sizes(sizes, trace, shards), method, shards=shards,
                                      shard_hash=shard_hash, seed=source.chosen_seed, with_floor=not no_opt,
                                      on_progress=show)  # fmt: skip
            else:
                result = miss_ratio_curves(trace, policies, parse_sizes(sizes, trace), method, sample_rate,
                                           seed=source.chosen_seed, with_floor=not no_opt,
                                           on_progress=show)  # fmt: skip
        output.save_run(folder, "mrc", source, trace, result, report=not no_report)
    described = trace.describe()
    title = f"{trace.name}: {described['requests']:,} requests, {described['unique_objects']:,} objects"
    if shards is not None:
        title += f", {shards} shards by {shard_hash} (sizes are the fleet's)"
    write_table(result.table, output_format, lambda: print_curves(result.table, stdout, title))


def register(app: typer.Typer) -> None:
    app.command("mrc")(mrc_command)
