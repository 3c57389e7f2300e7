"""``cachetune generate``: write a synthetic workload as a CSV trace."""

from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from tuner.cli import source
from tuner.cli.console import stderr
from tuner.errors import CachetuneError


@source.with_generator_options
def generate_command(
    workload: Annotated[str, typer.Option("--workload", "-w", help="Built-in workload name or a .toml spec file.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="CSV file to write (timestamp,key,size).")],
    requests: source.Requests = None,
    objects: source.Objects = None,
    rate: source.Rate = None,
    seed: source.Seed = None,
    *,
    generator_options: dict[str, Any],
) -> None:
    """Generate a workload and write it as CSV, to replay elsewhere or to keep."""
    trace = source.load_workload(workload, requests, objects, rate, seed, **generator_options)
    frame = pd.DataFrame({"timestamp": trace.timestamps, "key": trace.keys[trace.ids], "size": trace.sizes})
    try:
        frame.to_csv(output, index=False, float_format="%.6f")
    except OSError as error:
        raise CachetuneError(f"--output {output}: cannot write it ({error.strerror or error})") from None
    stderr.print(f"wrote {len(trace):,} requests to {output}")


def register(app: typer.Typer) -> None:
    app.command("generate")(generate_command)
