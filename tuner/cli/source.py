"""The options every command shares for choosing its requests: a workload or a trace.

They are declared once, as the fields of :class:`SourceOptions`; a command takes
them all by naming one parameter ``source: SourceOptions`` and wearing
:func:`with_source_options`, which puts the fields in that parameter's place on
the command line and hands the command the filled-in dataclass.
"""

import functools
import inspect
import warnings
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Annotated, get_type_hints

import typer

from tuner.cli.console import stderr
from tuner.errors import CachetuneError
from tuner.readers import FORMATS, read_trace
from tuner.seeds import DEFAULT_SEED
from tuner.trace import Trace
from tuner.workloads import generate

Workload = Annotated[str | None, typer.Option("--workload", "-w", help="Built-in workload name or a .toml spec file.")]
Requests = Annotated[int | None, typer.Option(help="Requests to generate (workloads only).")]
Objects = Annotated[int | None, typer.Option(help="Distinct objects (workloads only).")]
Alpha = Annotated[float | None, typer.Option(help="Zipf exponent (zipf workload only).")]
Rate = Annotated[float | None, typer.Option(help="Requests per second of the Poisson arrivals.")]
Seed = Annotated[int | None, typer.Option(help=f"Random seed (default {DEFAULT_SEED}): same seed, same numbers.")]

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


# The generator's options, and the options a trace reader takes as format-specific keywords.
WORKLOAD_OPTIONS = ("workload", "requests", "objects", "alpha", "rate", "seed")
READER_OPTIONS = ("log_format", "key_host", "drop_query", "methods", "statuses", "object_size",
                  "key_col", "time_col", "size_col", "op_col")  # fmt: skip


@dataclass(frozen=True)
class SourceOptions:
    """Where a command's requests come from; field names are the options' names (``key_col``: ``--key-col``)."""

    workload: Workload = None
    requests: Requests = None
    objects: Objects = None
    alpha: Alpha = None
    rate: Rate = None
    seed: Seed = None
    trace_file: TraceFile = None
    trace_format: TraceFormat = "auto"
    log_format: LogFormat = None
    key_host: KeyHost = False
    drop_query: DropQuery = False
    methods: Methods = None
    statuses: Statuses = None
    object_size: ObjectSize = None
    key_col: KeyCol = None
    time_col: TimeCol = None
    size_col: SizeCol = None
    op_col: OpCol = None
    strict: Strict = False
    keep_order: KeepOrder = False
    no_cache: NoCache = False

    @property
    def chosen_seed(self) -> int:
        """The seed of the command's replays and samples: ``--seed``, else ``DEFAULT_SEED``."""
        return DEFAULT_SEED if self.seed is None else self.seed

    def load(self) -> Trace:
        """The requests a command runs on: a generated workload or a trace file, never both."""
        if self.workload is not None and self.trace_file is not None:
            raise CachetuneError("give --workload or --trace, not both")
        if self.trace_file is not None:
            generator_options = {"--requests": self.requests, "--objects": self.objects, "--alpha": self.alpha,
                                 "--rate": self.rate}  # fmt: skip
            given = [flag for flag, value in generator_options.items() if value is not None]
            if given:
                raise CachetuneError(f"{', '.join(given)} only apply to --workload, not to --trace")
            reader_options = {name: getattr(self, name) for name in READER_OPTIONS}
            return load_trace(self.trace_file, self.trace_format, strict=self.strict, keep_order=self.keep_order,
                              no_cache=self.no_cache, **reader_options)  # fmt: skip
        if self.workload is None:
            raise CachetuneError("give --workload NAME (see the workloads/ folder) or --trace FILE")
        return load_workload(self.workload, self.requests, self.objects, self.alpha, self.rate, self.seed)


def with_source_options(*, trace_first: bool = False) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Give a command every :class:`SourceOptions` field as an option, where its ``SourceOptions`` parameter stands.

    The options come in field order (the workload's, then the trace's), or
    with the trace's first when ``trace_first``. The command line, and any
    caller, pass them as keywords; the command receives one ``SourceOptions``.
    """
    hints = get_type_hints(SourceOptions, include_extras=True)
    shared = [inspect.Parameter(field.name, inspect.Parameter.KEYWORD_ONLY, default=field.default,
                                annotation=hints[field.name]) for field in fields(SourceOptions)]  # fmt: skip
    if trace_first:
        shared.sort(key=lambda parameter: parameter.name in WORKLOAD_OPTIONS)

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        own = inspect.signature(command, eval_str=True).parameters.values()
        [slot] = [parameter.name for parameter in own if parameter.annotation is SourceOptions]
        parameters = []
        for parameter in own:
            parameters += shared if parameter.name == slot else [parameter.replace(kind=parameter.KEYWORD_ONLY)]
        signature = inspect.Signature(parameters)

        @functools.wraps(command)
        def run(**options) -> None:
            given = signature.bind(**options)
            given.apply_defaults()
            chosen = {name: given.arguments.pop(name) for name in hints}
            return command(**given.arguments, **{slot: SourceOptions(**chosen)})

        run.__signature__ = signature
        run.__annotations__ = {parameter.name: parameter.annotation for parameter in parameters}
        return run

    return decorate


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
