"""The options every command shares for choosing its requests: a workload or a trace."""

from typing import Annotated

import typer

from tuner.trace import Trace
from tuner.workloads import generate

Workload = Annotated[str | None, typer.Option("--workload", "-w", help="Built-in workload name or a .toml spec file.")]
Requests = Annotated[int | None, typer.Option(help="Requests to generate (workloads only).")]
Objects = Annotated[int | None, typer.Option(help="Distinct objects (workloads only).")]
Alpha = Annotated[float | None, typer.Option(help="Zipf exponent (zipf workload only).")]
Rate = Annotated[float | None, typer.Option(help="Requests per second of the Poisson arrivals.")]
Seed = Annotated[int | None, typer.Option(help="Random seed: same seed, same numbers.")]


def load_workload(workload: str, requests: int | None, objects: int | None, alpha: float | None,
                  rate: float | None, seed: int | None) -> Trace:  # fmt: skip
    """Generate ``workload`` with the options the user gave (None: spec default)."""
    return generate(workload, requests=requests, objects=objects, alpha=alpha, rate=rate, seed=seed)
