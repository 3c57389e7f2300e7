"""``cachetune bench``: every policy at every size on one workload or trace."""

from __future__ import annotations

from typing import Annotated

import typer

from tuner.bench import DEFAULT_SIZES, bench
from tuner.cli import output
from tuner.cli.console import progress_bar, stdout
from tuner.cli.operations import FlushInterval, MaxObjectSize, Ttl, WritePolicy
from tuner.cli.printers import FORMATS, Format, print_bench_table, print_shard_table, write_table
from tuner.cli.shards import DEFAULT_HASH, ShardHash, Shards
from tuner.cli.source import SourceOptions, with_source_options
from tuner.errors import CachetuneError, check_choice
from tuner.shards import check_shards, shard_bench


@with_source_options()
def bench_command(
    source: SourceOptions,
    size: Annotated[
        list[str] | None, typer.Option("--size", "-s", help="Cache size: 1000 (objects), 64MiB (bytes) or 1%. Repeat.")
    ] = None,
    policies: Annotated[str, typer.Option(help="Comma-separated policy names, or 'all'.")] = "all",
    seeds: Annotated[
        int,
        typer.Option(
            help="Replay each randomized policy this many times (seeds --seed, --seed+1, ...): "
            "the mean and its 95% interval."
        ),
    ] = 1,
    write_policy: WritePolicy = "write-through",
    ttl: Ttl = None,
    flush_interval: FlushInterval = None,
    max_object_size: MaxObjectSize = None,
    out: output.Out = None,
    no_report: output.NoReport = False,
    output_format: Format = "table",
    shards: Shards = None,
    shard_hash: ShardHash = DEFAULT_HASH,
    shard_capacity: Annotated[
        str | None, typer.Option(help="Each shard's size (default: each --size split evenly over the shards).")
    ] = None,
    dask: Annotated[
        str | None,
        typer.Option(
            help="Run the replays on a Dask cluster: a scheduler's address (tcp://host:8786), "
            "or local:N for N worker processes on this machine."
        ),
    ] = None,
    scratch: Annotated[
        str | None,
        typer.Option(
            help="With --dask: a folder every worker can read, where the trace is written once "
            "(default with local:N: a temporary folder)."
        ),
    ] = None,
) -> None:
    """Replay a workload or trace through every policy and compare hits, misses and misses per hour."""
    check_choice("format", output_format, FORMATS)
    if shards is not None:
        check_shards(shards, shard_hash, hash_parameter="shard_hash")
        if seeds != 1:
            raise CachetuneError("seeds is not supported with shards yet (one seed per fleet)", parameter="seeds")
    with output.run_folder("bench", out) as folder:
        trace = source.load()
        with progress_bar() as progress:
            task = progress.add_task(f"replaying {trace.name}", total=None)

            def show(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            if shards is not None:
                result = shard_bench(trace, policies, size or DEFAULT_SIZES, shards=shards, hash=shard_hash,
                                     shard_capacity=shard_capacity, seed=source.chosen_seed,
                                     write_policy=write_policy, ttl=ttl, flush_interval=flush_interval,
                                     max_object_size=max_object_size, dask=dask, scratch=scratch,
                                     on_progress=show)  # fmt: skip
            else:
                result = bench(trace, policies, size or DEFAULT_SIZES, seed=source.chosen_seed, seeds=seeds,
                               write_policy=write_policy, ttl=ttl, flush_interval=flush_interval,
                               max_object_size=max_object_size, dask=dask, scratch=scratch,
                               on_progress=show)  # fmt: skip
        output.save_run(folder, "bench", source, trace, result, report=not no_report)
    described = trace.describe()
    title = (f"{trace.name}: {described['requests']:,} requests, {described['unique_objects']:,} objects, "
             f"{described['span_hours']:.2f} h")  # fmt: skip
    write_table(
        result.table, output_format, lambda: print_bench_table(result.table, stdout, title, has_writes=trace.has_writes)
    )
    if shards is not None and output_format == "table":
        print_shard_table(result.shards, stdout, f"{shards} shards by {shard_hash}")


def register(app: typer.Typer) -> None:
    app.command("bench")(bench_command)
