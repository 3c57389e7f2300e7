"""``cachetune calibrate``: measure a real server's memory constants for the models of it."""

from pathlib import Path
from typing import Annotated

import typer

from tuner.cli.console import stdout
from tuner.errors import CachetuneError


def calibrate_command(
    product: Annotated[str, typer.Argument(help="The server to measure: redis or memcached.")],
    url: Annotated[
        str | None,
        typer.Option(
            help="A Redis of yours (its selected db must be empty); default: a throwaway server started here."
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Where to write the calibration (default: <product>-<version>.json here).")
    ] = None,
) -> None:
    """Measure what each key costs on a real server and write it as a calibration file."""
    from tuner.calibrations import calibration_path, save_calibration
    from tuner.live.calibrate import calibrate_redis
    from tuner.live.calibrate_memcached import calibrate_memcached

    if product == "redis":
        constants = calibrate_redis(url)
        said = (f"redis {constants['server_version']} ({constants['allocator']}), baseline "
                f"{constants['baseline_bytes']:,} B, {constants['ttl_bytes']} B a TTL, {constants['bucket_bytes']:g} B "
                "a bucket")  # fmt: skip
    elif product == "memcached":
        if url is not None:
            raise CachetuneError("memcached is calibrated on a server started here (its start-up output lists its "
                                 "slab classes): drop --url")  # fmt: skip
        constants = calibrate_memcached()
        said = (f"memcached {constants['server_version']}, {len(constants['chunk_sizes'])} slab classes, "
                f"{constants['item_header_bytes']} B an item header")  # fmt: skip
    else:
        raise CachetuneError(f"cannot calibrate {product!r} (choose from: redis, memcached)")
    path = save_calibration(constants, out or calibration_path(product, constants["version"], Path.cwd()))
    stdout.print(f"{path}: {said}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("calibrate")(calibrate_command)
