"""``cachetune calibrate``: measure a real server's memory constants for the models of it."""

from pathlib import Path
from typing import Annotated

import typer

from tuner.cli.console import stdout
from tuner.errors import CachetuneError


def calibrate_command(
    product: Annotated[str, typer.Argument(help="The server to measure: redis.")],
    url: Annotated[
        str | None,
        typer.Option(help="A server of yours (its selected db must be empty); default: a throwaway one started here."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Where to write the calibration (default: <product>-<version>.json here).")
    ] = None,
) -> None:
    """Measure what each key costs on a real server and write it as a calibration file."""
    from tuner.calibrations import calibration_path, save_calibration
    from tuner.live.calibrate import calibrate_redis

    if product != "redis":
        raise CachetuneError(f"cannot calibrate {product!r} (choose from: redis)")
    constants = calibrate_redis(url)
    path = save_calibration(constants, out or calibration_path(product, constants["version"], Path.cwd()))
    stdout.print(f"{path}: redis {constants['server_version']} ({constants['allocator']}), "
                 f"baseline {constants['baseline_bytes']:,} B, {constants['ttl_bytes']} B a TTL, "
                 f"{constants['bucket_bytes']:g} B a bucket")  # fmt: skip


def register(app: typer.Typer) -> None:
    app.command("calibrate")(calibrate_command)
