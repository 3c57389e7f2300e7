"""The options every command shares for choosing its requests: a workload or a trace.

They are declared once, as the fields of :class:`SourceOptions`; a command takes
them all by naming one parameter ``source: SourceOptions`` and wearing
:func:`with_source_options`, which puts the fields in that parameter's place on
the command line and hands the command the filled-in dataclass. The options of
the generators themselves (``--alpha``, ``--scan-share``…) are not written here:
``GENERATOR_FLAGS`` makes one per option a generator module declares.
"""

import functools
import inspect
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Annotated, Any, get_type_hints

import typer

from tuner.cli.console import progress_bar, stderr
from tuner.errors import CachetuneError
from tuner.readers import FORMATS, read_trace
from tuner.seeds import DEFAULT_SEED
from tuner.trace import Trace
from tuner.workloads import GENERATORS, Option, generate

Workload = Annotated[str | None, typer.Option("--workload", "-w", help="Built-in workload name or a .toml spec file.")]
Requests = Annotated[int | None, typer.Option(help="Requests to generate (workloads only).")]
Objects = Annotated[int | None, typer.Option(help="Distinct objects (workloads only).")]
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
OpCol = Annotated[str | None, typer.Option(help="csv/tsv: operation column (get/set/delete, any case).")]
TtlCol = Annotated[str | None, typer.Option(help="csv/tsv: TTL column (seconds; 0 or empty = none).")]
Strict = Annotated[bool, typer.Option("--strict", help="Any malformed line is an error instead of skipped.")]
KeepOrder = Annotated[bool, typer.Option("--keep-order", help="Keep file order even where timestamps go backwards.")]
NoCache = Annotated[bool, typer.Option("--no-cache", help="Parse the trace again; neither use nor fill the cache.")]


def _generator_flags() -> list[inspect.Parameter]:
    """One command-line option per generator option (``scan_share``: ``--scan-share``), typed by its default.

    An option several generators declare (``alpha`` of zipf and zipf-scan) is
    one flag with the first one's help; the help names every generator that
    takes it. None means not given: the spec's or the declared default applies.
    """
    declared: dict[str, Option] = {}
    takers: dict[str, list[str]] = {}
    for generator in GENERATORS.values():
        for option in generator.options:
            declared.setdefault(option.name, option)
            takers.setdefault(option.name, []).append(generator.name)
    return [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None,
                          annotation=Annotated[option.kind | None,
                                               typer.Option(help=f"{', '.join(takers[name])}: {option.help}.")])
        for name, option in declared.items()
    ]  # fmt: skip


GENERATOR_FLAGS = _generator_flags()


def _take_generator_options(arguments: dict[str, Any]) -> dict[str, Any]:
    """The generator flags removed from a command's ``arguments``: the ones given, by option name."""
    given = {flag.name: arguments.pop(flag.name, None) for flag in GENERATOR_FLAGS}
    return {name: value for name, value in given.items() if value is not None}


# The options of every workload (the generator flags come after them), and those a trace reader takes as
# format-specific keywords.
WORKLOAD_OPTIONS = ("workload", "requests", "objects", "rate", "seed")
READER_OPTIONS = ("log_format", "key_host", "drop_query", "methods", "statuses", "object_size",
                  "key_col", "time_col", "size_col", "op_col", "ttl_col")  # fmt: skip


@dataclass(frozen=True)
class SourceOptions:
    """Where a command's requests come from; field names are the options' names (``key_col``: ``--key-col``).

    ``generator_options`` is not an option itself: it holds the generator
    flags given (``--scan-share 0.3``: ``{"scan_share": 0.3}``).
    """

    workload: Workload = None
    requests: Requests = None
    objects: Objects = None
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
    ttl_col: TtlCol = None
    strict: Strict = False
    keep_order: KeepOrder = False
    no_cache: NoCache = False
    generator_options: dict[str, Any] = field(default_factory=dict)

    @property
    def chosen_seed(self) -> int:
        """The seed of the command's replays and samples: ``--seed``, else ``DEFAULT_SEED``."""
        return DEFAULT_SEED if self.seed is None else self.seed

    def load(self) -> Trace:
        """The requests a command runs on: a generated workload or a trace file, never both."""
        if self.workload is not None and self.trace_file is not None:
            raise CachetuneError("give --workload or --trace, not both")
        if self.trace_file is not None:
            workload_options = {"--requests": self.requests, "--objects": self.objects, "--rate": self.rate}
            given = [flag for flag, value in workload_options.items() if value is not None]
            given += ["--" + name.replace("_", "-") for name in self.generator_options]
            if given:
                raise CachetuneError(f"{', '.join(given)} only apply to --workload, not to --trace")
            reader_options = {name: getattr(self, name) for name in READER_OPTIONS}
            return load_trace(self.trace_file, self.trace_format, strict=self.strict, keep_order=self.keep_order,
                              no_cache=self.no_cache, **reader_options)  # fmt: skip
        if self.workload is None:
            raise CachetuneError("give --workload NAME (see the workloads/ folder) or --trace FILE")
        return load_workload(self.workload, self.requests, self.objects, self.rate, self.seed, **self.generator_options)


def with_source_options(*, trace_first: bool = False) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Give a command every :class:`SourceOptions` field as an option, where its ``SourceOptions`` parameter stands.

    The options come in field order (the workload's, the generator flags,
    then the trace's), or with the trace's first when ``trace_first``. The
    command line, and any caller, pass them as keywords; the command receives
    one ``SourceOptions``.
    """
    hints = get_type_hints(SourceOptions, include_extras=True)
    own_fields = [field for field in fields(SourceOptions) if field.name != "generator_options"]
    options = [inspect.Parameter(field.name, inspect.Parameter.KEYWORD_ONLY, default=field.default,
                                 annotation=hints[field.name]) for field in own_fields]  # fmt: skip
    names = [option.name for option in options]
    workload = [option for option in options if option.name in WORKLOAD_OPTIONS] + GENERATOR_FLAGS
    trace = [option for option in options if option.name not in WORKLOAD_OPTIONS]
    shared = trace + workload if trace_first else workload + trace

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
            generator_options = _take_generator_options(given.arguments)
            chosen = {name: given.arguments.pop(name) for name in names}
            return command(**given.arguments, **{slot: SourceOptions(**chosen, generator_options=generator_options)})

        run.__signature__ = signature
        run.__annotations__ = {parameter.name: parameter.annotation for parameter in parameters}
        return run

    return decorate


def with_generator_options(command: Callable[..., None]) -> Callable[..., None]:
    """Give ``command`` the generator flags in place of its ``generator_options`` parameter.

    That parameter receives the flags given, by option name, as
    ``SourceOptions.generator_options`` does (for a command that takes a
    workload but no trace).
    """
    own = inspect.signature(command, eval_str=True).parameters.values()
    parameters = []
    for parameter in own:
        is_slot = parameter.name == "generator_options"
        parameters += GENERATOR_FLAGS if is_slot else [parameter.replace(kind=parameter.KEYWORD_ONLY)]

    @functools.wraps(command)
    def run(**options) -> None:
        generator_options = _take_generator_options(options)
        return command(**options, generator_options=generator_options)

    run.__signature__ = inspect.Signature(parameters)
    run.__annotations__ = {parameter.name: parameter.annotation for parameter in parameters}
    return run


def load_workload(workload: str, requests: int | None = None, objects: int | None = None, rate: float | None = None,
                  seed: int | None = None, **generator_options: Any) -> Trace:  # fmt: skip
    """Generate ``workload`` with the options the user gave (None: the spec's or the declared default)."""
    return generate(workload, requests=requests, objects=objects, rate=rate, seed=seed, **generator_options)


def load_trace(path: Path, trace_format: str = "auto", *, strict: bool = False, keep_order: bool = False,
               no_cache: bool = False, **reader_options) -> Trace:  # fmt: skip
    """Read a trace file, telling the user on stderr what was skipped or reordered (and, for a format read in
    chunks, how far the reading got)."""
    options = {name: value for name, value in reader_options.items() if value not in (None, False)}
    with warnings.catch_warnings(record=True) as caught, progress_bar() as progress:
        warnings.simplefilter("always")
        task = progress.add_task(f"reading {path.name}", total=None)

        def show(done: int, total: int | None) -> None:
            progress.update(task, completed=done, total=total)

        trace = read_trace(path, trace_format, strict=strict, keep_order=keep_order, cache_parsed=not no_cache,
                           on_progress=show, **options)  # fmt: skip
    for warning in caught:
        stderr.print(f"warning: {warning.message}", highlight=False)
    if trace.info.get("skipped_lines"):
        stderr.print(f"{trace.name}: {trace.info['skipped_summary']}", highlight=False)
    return trace
