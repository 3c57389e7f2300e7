"""The options every command shares for choosing its requests: a workload or a trace."""

import warnings
from pathlib import Path
from typing import Annotated

import typer

from tuner.cli.console import stderr
from tuner.errors import CachetuneError
from tuner.readers import FORMATS, read_trace
from tuner.trace import Trace
from tuner.workloads import generate

Workload = Annotated[str | None, typer.Option("--workload", "-w", help="Built-in workload name or a .toml spec file.")]
Requests = Annotated[int | None, typer.Option(help="Requests to generate (workloads only).")]
Objects = Annotated[int | None, typer.Option(help="Distinct objects (workloads only).")]
Alpha = Annotated[float | None, typer.Option(help="Zipf exponent (zipf workload only).")]
Rate = Annotated[float | None, typer.Option(help="Requests per second of the Poisson arrivals.")]
Seed = Annotated[int | None, typer.Option(help="Random seed: same seed, same numbers.")]

TraceFile = Annotated[Path | None, typer.Option("--trace", "-t", help="A trace file: access log, csv, text, binary.")]
TraceFormat = Annotated[str, typer.Option("--trace-format", help=f"One of: {', '.join(FORMATS)}.")]
LogFormat = Annotated[
    str | None, typer.Option(help="Access logs: combined, common, or the server's format string ($var / %x).")
]
KeyHost = Annotated[bool, typer.Option("--key-host", help="Access logs: key on host + path.")]
DropQuery = Annotated[bool, typer.Option("--drop-query", help="Access logs: drop the query string from keys.")]
Methods = Annotated[str | None, typer.Option(help="Access logs: methods to keep (default GET,HEAD; 'all').")]
Statuses = Annotated[str | None, typer.Option(help="Access logs: statuses to keep, e.g. 200,304 or 2xx.")]
ObjectSize = Annotated[
    str | None, typer.Option(help="Access logs: 'largest' size seen per object (default) or 'each' request's.")
]
KeyCol = Annotated[str | None, typer.Option(help="csv/tsv: key column, by header name or 1-based number.")]
TimeCol = Annotated[str | None, typer.Option(help="csv/tsv: timestamp column (seconds).")]
SizeCol = Annotated[str | None, typer.Option(help="csv/tsv: size column (bytes).")]
OpCol = Annotated[str | None, typer.Option(help="csv/tsv: operation column (get/set/delete).")]
Strict = Annotated[bool, typer.Option("--strict", help="Any malformed line is an error instead of skipped.")]
KeepOrder = Annotated[bool, typer.Option("--keep-order", help="Keep file order even where timestamps go backwards.")]
NoCache = Annotated[bool, typer.Option("--no-cache", help="Parse the trace again; neither use nor fill the cache.")]


def load_workload(workload: str, requests: int | None, objects: int | None, alpha: float | None,
                  rate: float | None, seed: int | None) -> Trace:  # fmt: skip
    """Generate ``workload`` with the options the user gave (None: spec default)."""
    return generate(workload, requests=requests, objects=objects, alpha=alpha, rate=rate, seed=seed)


def load_trace(path: Path, trace_format: str = "auto", *, strict: bool = False, keep_order: bool = False,
               no_cache: bool = False, **reader_options) -> Trace:  # fmt: skip
    """Read a trace file, telling the user on stderr what was skipped or reordered."""
    options = {name: value for name, value in reader_options.items() if value not in (None, False)}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trace = read_trace(path, trace_format, strict=strict, keep_order=keep_order, cache_parsed=not no_cache,
                           **options)  # fmt: skip
    for warning in caught:
        stderr.print(f"warning: {warning.message}", highlight=False)
    if trace.info.get("skipped_lines"):
        stderr.print(f"{trace.name}: {trace.info['skipped_summary']}", highlight=False)
    return trace


def load_source(
    workload: str | None = None,
    requests: int | None = None,
    objects: int | None = None,
    alpha: float | None = None,
    rate: float | None = None,
    seed: int | None = None,
    *,
    trace: Path | None = None,
    trace_format: str = "auto",
    strict: bool = False,
    keep_order: bool = False,
    no_cache: bool = False,
    **reader_options,
) -> Trace:
    """The requests a command runs on: a generated workload or a trace file, never both."""
    if workload is not None and trace is not None:
        raise CachetuneError("give --workload or --trace, not both")
    if trace is not None:
        generator_options = {"--requests": requests, "--objects": objects, "--alpha": alpha, "--rate": rate}
        given = [flag for flag, value in generator_options.items() if value is not None]
        if given:
            raise CachetuneError(f"{', '.join(given)} only apply to --workload, not to --trace")
        return load_trace(trace, trace_format, strict=strict, keep_order=keep_order, no_cache=no_cache,
                          **reader_options)  # fmt: skip
    if workload is None:
        raise CachetuneError("give --workload NAME (see the workloads/ folder) or --trace FILE")
    return load_workload(workload, requests, objects, alpha, rate, seed)
