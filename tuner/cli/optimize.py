"""``cachetune optimize``: the policy, cache size and parameters that minimise misses on a trace."""

from __future__ import annotations

from typing import Annotated

import typer

from tuner.cli import output
from tuner.cli.console import progress_bar, stderr, stdout
from tuner.cli.operations import FlushInterval, Ttl
from tuner.cli.printers import print_optimize, write_table
from tuner.cli.shards import DEFAULT_HASH, ShardHash, Shards
from tuner.cli.source import SourceOptions, with_source_options
from tuner.deploy import ANY, TARGETS, deploy_files
from tuner.errors import check_choice
from tuner.optimize import DEFAULT_TRIALS, best_record, optimize
from tuner.optimize.menu import DEFAULT_TARGET_GAIN
from tuner.optimize.study import HEARTBEAT_SECONDS
from tuner.shards import check_shards

FORMATS = ("table", "json")  # no csv: a study's result is a recommendation, not one table
INTERRUPTED_EXIT = 130


@with_source_options()
def optimize_command(
    source: SourceOptions,
    budget: Annotated[
        str | None,
        typer.Option(
            help="Largest cache: 1000 (objects), 64MiB (bytes) or 10%. Default: the working set, and "
            "the smallest size reaching --target-gain is recommended, with a menu of sizes."
        ),
    ] = None,
    trials: Annotated[
        int | None, typer.Option(help=f"Trials this run adds (default {DEFAULT_TRIALS}, unlimited with --timeout).")
    ] = None,
    timeout: Annotated[float | None, typer.Option(help="Stop starting trials after this many seconds.")] = None,
    policies: Annotated[str, typer.Option(help="Comma-separated policies to search, or 'all'.")] = "all",
    target: Annotated[
        str,
        typer.Option(help=f"Product to configure: {', '.join(TARGETS)} (its knobs; writes deploy/), or {ANY}."),
    ] = ANY,
    objective: Annotated[
        str, typer.Option(help="misses-per-hour, miss-ratio, byte-miss-ratio, cost or backend-ops.")
    ] = "misses-per-hour",
    miss_cost: Annotated[float, typer.Option(help="Cost of one miss (objective cost).")] = 1.0,
    memory_cost: Annotated[float, typer.Option(help="Cost of one GB of cache per hour (objective cost).")] = 1.0,
    pareto: Annotated[
        bool, typer.Option("--pareto", help="Two objectives, misses/h and capacity: report the front.")
    ] = False,
    tolerance: Annotated[
        float, typer.Option(help="Recommend the smallest configuration within this share of the best.")
    ] = 0.01,
    target_gain: Annotated[
        float,
        typer.Option(
            help="Without --budget: recommend the smallest cache avoiding this share of the avoidable "
            "misses (all GET misses with no cache less the cold ones)."
        ),
    ] = DEFAULT_TARGET_GAIN,
    holdout: Annotated[
        float, typer.Option(help="Share of the trace's span held out to check the result (0: none).")
    ] = 0.3,
    sample_rate: Annotated[
        float, typer.Option(help="Score trials on this spatial sample of keys; the best are re-scored exactly.")
    ] = 1.0,
    storage: Annotated[
        str | None, typer.Option(help="Optuna storage URL (sqlite:///…, postgresql://…) or journal file path.")
    ] = None,
    study_name: Annotated[str | None, typer.Option(help="Study to create or resume (default: cachetune).")] = None,
    heartbeat: Annotated[
        int,
        typer.Option(
            help="With a database --storage: seconds between a running trial's heartbeats; a trial silent "
            "for twice as long (its worker died) is failed and retried. 0: off."
        ),
    ] = HEARTBEAT_SECONDS,
    jobs: Annotated[int, typer.Option(help="Trials run in parallel by this process.")] = 1,
    write_policy: Annotated[
        str | None,
        typer.Option(help="write-through, write-back or write-around (default: searched if the trace writes)."),
    ] = None,
    ttl: Ttl = None,
    tune_ttl: Annotated[
        bool, typer.Option("--tune-ttl", help="Search the cache timeout (log-scaled, or none).")
    ] = False,
    flush_interval: FlushInterval = None,
    max_object_size: Annotated[
        str | None, typer.Option(help="Never admit objects larger than this (default: searched for byte capacities).")
    ] = None,
    max_dirty: Annotated[
        int | None, typer.Option(help="Reject write-back configurations with more dirty objects than this at once.")
    ] = None,
    shards: Shards = None,
    shard_hash: ShardHash = DEFAULT_HASH,
    out: output.Out = None,
    no_report: output.NoReport = False,
    output_format: Annotated[str, typer.Option("--format", help="table or json (best.json) on stdout.")] = "table",
) -> None:
    """Tune the eviction policy, cache size and policy parameters on a trace; recommend the smallest good one.

    With --shards, the size tuned is each shard's (--budget is the fleet's) and every trial is scored on the fleet.
    """
    check_choice("format", output_format, FORMATS)
    if shards is not None:
        check_shards(shards, shard_hash, hash_parameter="shard_hash")
    with output.run_folder("optimize", out) as folder:
        trace = source.load()
        planned = trials if trials is not None or timeout is not None else DEFAULT_TRIALS
        with progress_bar() as progress:
            task = progress.add_task(f"tuning on {trace.name}", total=planned)

            def show(done: int, best: str) -> None:
                progress.update(task, completed=done, description=f"tuning on {trace.name}: {best}")

            result = optimize(trace, budget=budget, trials=planned, timeout=timeout, policies=policies,
                              objective=objective, miss_cost=miss_cost, memory_cost=memory_cost, pareto=pareto,
                              tolerance=tolerance, target_gain=target_gain, holdout=holdout, sample_rate=sample_rate,
                              storage=storage, heartbeat=heartbeat,
                              study_name=study_name, jobs=jobs, write_policy=write_policy, ttl=ttl, tune_ttl=tune_ttl,
                              flush_interval=flush_interval, max_object_size=max_object_size, max_dirty=max_dirty,
                              seed=source.chosen_seed, target=target, shards=shards, shard_hash=shard_hash, out=folder,
                              progress=show)  # fmt: skip
        best = best_record(result, source.trace_file)
        output.save_run(folder, "optimize", source, trace, result, report=not no_report, documents={"best": best},
                        files=deploy_files(result.deployment))  # fmt: skip
    write_table(result.trials, output_format, lambda: print_optimize(result, stdout, best.get("verify")),
                document=best)  # fmt: skip
    if result.interrupted:
        stderr.print(f"interrupted: {result.counts['this_run']} trials finished in this run are kept in the study")
        raise typer.Exit(INTERRUPTED_EXIT)


def register(app: typer.Typer) -> None:
    app.command("optimize")(optimize_command)
