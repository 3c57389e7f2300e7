"""``cachetune verify``: a model of a real cache against the real thing, on a workload or trace."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from tuner.cli import output
from tuner.cli.console import stderr, stdout
from tuner.cli.operations import Ttl
from tuner.cli.printers import FORMATS, Format, write_table
from tuner.cli.source import SourceOptions, with_source_options
from tuner.errors import CachetuneError, check_choice
from tuner.verify import Verification, check_options, model_of, verify


@with_source_options()
def verify_command(
    source: SourceOptions,
    policies: Annotated[str, typer.Option(help="The model to check: redis-lru, memcached, cachetools-lru, …")],
    size: Annotated[str, typer.Option("--size", "-s", help="Memory (64MiB) or maxsize (1000) under test.")],
    server: Annotated[
        str | None,
        typer.Option(help="Your own server (redis://HOST:PORT/DB, memcached://HOST:PORT); default: start one."),
    ] = None,
    start: Annotated[
        bool, typer.Option("--start", help="Start a throwaway server on loopback (the default without --server).")
    ] = False,
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="A model parameter as name=value (samples=10). Repeat.")
    ] = None,
    ttl: Ttl = None,
    time_limit: Annotated[float, typer.Option(help="Stop the real replay after this many seconds.")] = 600.0,
    speed: Annotated[
        float | None,
        typer.Option(help="Pace the real replay at N x trace time (1: as the trace ran); default: as fast as it goes."),
    ] = None,
    out: output.Out = None,
    no_report: output.NoReport = False,
    output_format: Format = "table",
) -> None:
    """Replay a trace against the real server (or library) and through its model; print both side by side."""
    check_choice("format", output_format, FORMATS)
    if start and server is not None:
        raise CachetuneError("--start and --server exclude each other: check a server started here or yours")
    params = _parse_params(param or [])
    model = model_of(policies.strip())
    check_options(model, server=server, speed=speed)
    with output.run_folder("verify", out) as folder:
        trace = source.load()
        stderr.print(f"replaying {len(trace):,} requests against the real {model.name} and its model",
                     highlight=False)  # fmt: skip
        result = verify(trace, model, size, server=server, ttl=ttl, time_limit=time_limit, speed=speed,
                        seed=source.chosen_seed, **params)  # fmt: skip
        output.save_run(folder, "verify", source, trace, result, report=not no_report)
    write_table(result.table, output_format, lambda: _print(result))


def _parse_params(pairs: list[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise CachetuneError(f"--param takes name=value, got {pair!r}")
        params[name.strip()] = float(value) if any(c in value for c in ".eE") else _number(value)
    return params


def _number(value: str) -> int | str:
    try:
        return int(value)
    except ValueError:
        raise CachetuneError(f"--param value {value!r} is not a number") from None


def _print(result: Verification) -> None:
    table = Table(title=f"{result.policy} at {result.capacity}: real against simulated")
    for column in ("figure", "real", "simulated", "difference"):
        table.add_column(column, justify="left" if column == "figure" else "right")
    for row in result.table.itertuples(index=False):
        table.add_row(row.figure, *(_cell(row.figure, value) for value in (row.real, row.simulated, row.difference)))
    stdout.print(table)
    stdout.print(f"real replay: {result.real_requests_per_second:,.0f} requests/s", highlight=False)


def _cell(figure: str, value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.4f}" if figure == "hit_ratio" else f"{int(value):,}"


def register(app: typer.Typer) -> None:
    app.command("verify")(verify_command)
