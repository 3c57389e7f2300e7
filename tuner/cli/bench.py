"""``cachetune bench``: every policy at every size on one workload or trace."""

from __future__ import annotations

import io
from typing import Annotated

import typer

from tuner.bench import DEFAULT_SIZES, bench
from tuner.cli import output
from tuner.cli.console import progress_bar, stdout
from tuner.cli.source import SourceOptions, with_source_options
from tuner.errors import check_choice
from tuner.lineup import named_policies
from tuner.reports.files import run_record
from tuner.reports.terminal import print_bench_table

FORMATS = ("table", "csv", "json")


@with_source_options()
def bench_command(
    source: SourceOptions,
    size: Annotated[
        list[str] | None, typer.Option("--size", "-s", help="Cache size: 1000 (objects), 64MiB (bytes) or 1%. Repeat.")
    ] = None,
    policies: Annotated[str, typer.Option(help="Comma-separated policy names, or 'all'.")] = "all",
    out: output.Out = None,
    no_report: output.NoReport = False,
    output_format: Annotated[str, typer.Option("--format", help="table, csv or json on stdout.")] = "table",
) -> None:
    """Replay a workload or trace through every policy and compare hits, misses and misses per hour."""
    check_choice("format", output_format, FORMATS)
    chosen = named_policies(policies)
    with output.run_folder("bench", out) as folder:
        trace = source.load()
        sizes = size or list(DEFAULT_SIZES)
        with progress_bar() as progress:
            task = progress.add_task(f"replaying {trace.name}", total=None)

            def show(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            result = bench(trace, [p.name for p in chosen], sizes, seed=source.seed or 0, on_progress=show)
        options = {"workload": source.workload, "trace": trace.info.get("path"), "sizes": sizes,
                   "policies": [p.name for p in chosen], "seed": source.seed}  # fmt: skip
        record = run_record("bench", options, trace)
        output.save_run(folder, record, {"results": result.table, "timeline": result.timeline}, report=not no_report)
    if output_format == "csv":
        buffer = io.StringIO()
        result.table.to_csv(buffer, index=False)
        stdout.out(buffer.getvalue(), end="", highlight=False)
    elif output_format == "json":
        stdout.out(result.table.to_json(orient="records", indent=2), highlight=False)
    else:
        described = trace.describe()
        title = (f"{trace.name}: {described['requests']:,} requests, {described['unique_objects']:,} objects, "
                 f"{described['span_hours']:.2f} h")  # fmt: skip
        print_bench_table(result.table, stdout, title)


def register(app: typer.Typer) -> None:
    app.command("bench")(bench_command)
